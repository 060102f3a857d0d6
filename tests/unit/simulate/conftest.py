"""One demo-scale simulation shared by the simulator tests (generated once per session)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from piguard.interchange import (
    AccessEvent,
    ContextTables,
    read_complaints,
    read_context,
    read_events,
    read_labels,
    read_malicious_events,
)
from piguard.interchange.labels import Complaint, Label
from piguard.simulate.engine import simulate

DAYS = 30
SEED = 11


@dataclass
class Run:
    """A simulation read back with the project's own readers."""

    out: Path
    manifest: dict[str, Any]
    events: list[AccessEvent]
    context: ContextTables
    labels: list[Label]
    malicious: dict[str, str]
    complaints: list[Complaint]

    def by_id(self) -> dict[str, AccessEvent]:
        """Events by id."""
        return {e.event_id: e for e in self.events}

    def malicious_of(self, scenario: str) -> list[AccessEvent]:
        """The labelled events of one scenario."""
        return [e for e in self.events if self.malicious.get(e.event_id) == scenario]

    def relationships(self) -> dict[tuple[str, str], list[tuple[Any, Any]]]:
        """(user, subject) -> validity windows."""
        out: dict[tuple[str, str], list[tuple[Any, Any]]] = defaultdict(list)
        for r in self.context.relationships:
            out[(r.user_id, r.subject_id)].append((r.valid_from, r.valid_to))
        return out


def load(out: Path, manifest: dict[str, Any]) -> Run:
    """Read every output file of a run."""
    events_path = out / manifest["files"]["events"]
    return Run(
        out=out, manifest=manifest, events=list(read_events(events_path)),
        context=read_context(out / "context"), labels=list(read_labels(out / "labels.csv")),
        malicious={m.event_id: m.scenario
                   for m in read_malicious_events(out / "malicious_events.csv")},
        complaints=list(read_complaints(out / "complaints.csv")),
    )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A 30-day demo city with every scenario, JSONL events and CSV context."""
    out = tmp_path_factory.mktemp("sim") / "demo"
    manifest = simulate(out=out, seed=SEED, scale="demo", days=DAYS, fmt="jsonl")
    return load(out, manifest)
