"""Detection and tracing on the simulator's output, read back through the interchange files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from piguard.detect import run_detection
from piguard.detect.evaluate import evaluate, roc_auc
from piguard.detect.trace import load_complaints, trace


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    simulate = pytest.importorskip("piguard.simulate.engine").simulate
    out = tmp_path_factory.mktemp("sim") / "city"
    simulate(out=out, seed=7, scale="demo", days=21)
    return out


@pytest.mark.slow
def test_insiders_rank_above_everyone_else(city: Path) -> None:
    run = run_detection(city / "events.jsonl", city / "context")
    labels = {r["user_id"]: r["scenario"] for r in csv.DictReader((city / "labels.csv").read_text().splitlines())}
    assert run.report.explained_fraction > 0.95
    assert roc_auc(run.user_surprisal, set(labels)) > 0.9
    alerted = [a.user_id for a in run.report.alerts]
    for user, scenario in labels.items():
        if scenario in ("minhang_broker", "canary_hit"):
            assert user in alerted[: len(labels)], scenario
    for alert in run.report.alerts:
        assert alert.reasons and all(r.event_ids or r.detector == "volume_spike" for r in alert.reasons)


@pytest.mark.slow
def test_trace_puts_brokers_on_top_and_evaluate_reports_both_systems(city: Path) -> None:
    rows = csv.DictReader((city / "labels.csv").read_text().splitlines())
    brokers = {r["user_id"] for r in rows if r["scenario"] == "minhang_broker"}
    report = trace(complaints=load_complaints(city / "complaints.csv"), events=[city / "events.jsonl"])
    users = [s.id for s in report.suspects if s.kind == "user"]
    assert brokers and brokers <= set(users[:3])
    result = evaluate(city, replay=False)
    assert result["piguard"]["roc_auc"] > result["rules_baseline"]["roc_auc"]
    assert result["trace"]["all_brokers_in_top3"] is True
