"""The simulator's city, exported the way another system's audit exporter would write it.

Two parts in one directory (CSV in UTC, JSONL in +08:00, shuffled), the second repeating rows
of the first, list cells with empty items, padded ids, canaries marked ``yes``/``TRUE``: the
alerts must be those of the clean export, and every input row accounted for.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.interchange.alerts import AlertReport, read_alert_report
from piguard.interchange.events import EVENT_COLUMNS

OVERLAP = 25


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    simulate = pytest.importorskip("piguard.simulate.engine").simulate
    out = tmp_path_factory.mktemp("sim") / "city"
    simulate(out=out, seed=3, scale="demo", days=3)
    return out


def _messy(city: Path, target: Path) -> int:
    """Write the messy export of ``city`` to ``target``; returns the number of events."""
    rows = [json.loads(line) for line in (city / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    cut = len(rows) * 3 // 5
    target.mkdir(parents=True)
    with (target / "part-0001.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVENT_COLUMNS)
        for n, row in enumerate(rows[:cut]):
            cells = []
            for name in EVENT_COLUMNS:
                value = row.get(name)
                if name == "time":
                    value = datetime.fromisoformat(value).astimezone(UTC).isoformat().replace("+00:00", "Z")
                elif isinstance(value, list):
                    value = (";;" if n % 2 else "; ").join(value) + (";" if n % 3 == 0 else "")
                elif name == "user_id" and n % 5 == 0:
                    value = f" {value}\t"
                cells.append("" if value is None else str(value))
            writer.writerow(cells)
    tail = rows[cut:] + rows[cut - OVERLAP : cut]  # the second part repeats the end of the first
    random.Random(1).shuffle(tail)
    (target / "part-0002.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in tail), encoding="utf-8"
    )
    (target / "_SUCCESS").write_bytes(b"")
    return len(rows)


def _summary(report: AlertReport) -> list[tuple[object, ...]]:
    return [(a.user_id, a.score, [(r.detector, r.event_ids) for r in a.reasons]) for a in report.alerts]


def test_a_messy_export_gives_the_clean_exports_alerts_and_accounts_for_every_row(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    clean_out = tmp_path / "clean.json"
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(city / "events.jsonl"),
            "--context",
            str(city / "context"),
            "--format",
            "json",
            "--out",
            str(clean_out),
        ],
    )
    assert result.exit_code == 0, result.output
    clean = read_alert_report(clean_out)
    assert clean.alerts

    context = tmp_path / "context"
    shutil.copytree(city / "context", context)
    subjects = context / "subjects.csv"
    table = list(csv.DictReader(subjects.read_text(encoding="utf-8").splitlines()))
    assert any(r["is_canary"] == "1" for r in table)
    words = {"1": ["yes", "TRUE", "1"], "0": ["no", "false", "0", ""]}
    for n, r in enumerate(table):
        r["is_canary"] = words[r["is_canary"]][n % len(words[r["is_canary"]])]
    with subjects.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)

    export = tmp_path / "export"
    n_events = _messy(city, export)
    args = ["detect", str(export), "--context", str(context), "--format", "json"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "duplicate of the event at" in refused.stderr
    out, quarantine = tmp_path / "messy.json", tmp_path / "q.jsonl"
    result = CliRunner().invoke(app, [*args, "--skip-invalid", "--quarantine", str(quarantine), "--out", str(out)])
    assert result.exit_code == 0, result.output
    messy = read_alert_report(out)
    assert (messy.input_rows, messy.events_read, messy.events_invalid, messy.events_duplicate) == (
        n_events + OVERLAP,
        n_events,
        OVERLAP,
        OVERLAP,
    )
    assert messy.explained_fraction == clean.explained_fraction
    assert _summary(messy) == _summary(clean)
    where = [json.loads(line)["where"] for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert len(where) == OVERLAP and all(w.startswith(str(export / "part-0002.jsonl:")) for w in where)
