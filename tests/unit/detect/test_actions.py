"""Actions outside FORMATS.md §1 are refused by name, never read and then ignored by every detector."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.detect import run_detection
from piguard.detect.load import connect, load_events
from piguard.errors import InterchangeError
from piguard.interchange.context import write_context
from piguard.interchange.events import ACCEPTED_ACTIONS, ACTIONS, SERVICE_ACTIONS, write_events
from tests.unit.detect.world import T0, fresh_subjects, hospital_world

ROW = {"time": "2025-03-01T08:00:00+08:00", "user_id": "u1", "role": "nurse", "org_id": "h1"}


def _rows(action: str) -> list[dict[str, str]]:
    return [
        {"event_id": "a1", **ROW, "action": "read"},
        {"event_id": "a2", **ROW, "action": "search"},
        {"event_id": "a3", **ROW, "action": action, "subject_id": "s1"},
    ]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["event_id", *ROW, "action", "subject_id"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        pq.write_table(pa.Table.from_pylist([{**r, "subject_id": r.get("subject_id")} for r in rows]), path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("action", ["view", "READ", "sell"])
def test_an_unknown_action_is_refused_naming_file_line_and_field(tmp_path: Path, suffix: str, action: str) -> None:
    path = _write(tmp_path / f"events{suffix}", _rows(action))
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    where = f"{path}#row3" if suffix == ".parquet" else f"{path}:{4 if suffix == '.csv' else 3}"
    assert info.value.where == where
    assert info.value.reason.startswith("field 'action': ") and "unknown action" in info.value.reason
    assert action not in info.value.reason  # messages carry no input values
    assert ("lower case" in info.value.reason) == (action == "READ")  # never lower-cased silently


def test_skip_invalid_quarantines_an_unknown_action_and_counts_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.jsonl", _rows("view"))
    stats = load_events(connect(), [path], skip_invalid=True, quarantine=tmp_path / "q.jsonl")
    assert (stats.input_rows, stats.events_read, stats.events_invalid) == (3, 2, 1)
    bad = json.loads((tmp_path / "q.jsonl").read_text(encoding="utf-8"))
    assert bad["where"] == f"{path}:3" and bad["reason"].startswith("field 'action'")


def test_every_accepted_action_loads_on_the_fast_path(tmp_path: Path) -> None:
    rows = [{"event_id": f"a{i}", **ROW, "action": a} for i, a in enumerate(ACCEPTED_ACTIONS)]
    path = _write(tmp_path / "events.jsonl", rows)
    con = connect()
    stats = load_events(con, [path])
    assert (stats.events_read, stats.exact_reads) == (len(ACCEPTED_ACTIONS), 0)
    assert set(ACTIONS) < set(ACCEPTED_ACTIONS) and SERVICE_ACTIONS == ("concurrent_session",)


def test_cli_exits_2_on_an_unknown_action(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=3, staff_per_org=3)
    write_context(tmp_path / "context", w.context())
    rows = [e.to_record() for e in w.events] + [{**w.events[0].to_record(), "event_id": "zz", "action": "view"}]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["detect", str(path), "--context", str(tmp_path / "context")])
    assert result.exit_code == 2
    assert f"{path}:{len(rows)}: field 'action'" in result.output


def test_the_services_own_concurrent_session_event_is_read_flagged_and_announced(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # identity.login writes `concurrent_session` when an account logs in while it has live
    # sessions on other terminals; the ledger export carries it, so detection accepts and uses it.
    w = hospital_world(days=6, staff_per_org=5)
    ids = [
        w.event("h1-doc3", T0 + timedelta(days=d, hours=9), action="concurrent_session", terminal="t-x")
        for d in range(4)
    ]
    run = run_detection(w.events, w.context())
    alert = next(a for a in run.report.alerts if a.user_id == "h1-doc3")
    reason = next(r for r in alert.reasons if r.detector == "concurrent_sessions")
    assert set(reason.event_ids) == set(ids)
    assert run.service_actions == {"concurrent_session": 4}
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.csv", w.events)
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(tmp_path / "events.csv"),
            "--context",
            str(tmp_path / "context"),
            "--format",
            "html",
            "--out",
            str(tmp_path / "a.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 event(s) of piguard's own action 'concurrent_session'" in result.output
    assert "4 event(s) of piguard's own action concurrent_session" in (tmp_path / "a.html").read_text()
    assert fresh_subjects(w)  # the world is otherwise innocent
