"""Smaller findings of the issue 6 audit: empty inputs, exposed records, the trace alert line in JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.detect.evaluate import _malicious_records
from piguard.detect.load import EVENT_SCHEMA, connect, load_event_objects, load_events
from piguard.errors import InterchangeError
from piguard.interchange.context import SubjectRow, write_context
from piguard.interchange.events import AccessEvent, write_events
from piguard.interchange.labels import Complaint, write_complaints
from tests.unit.detect.world import T0, hospital_world

HEADER = "event_id,time,user_id,role,org_id,action\n"


def _empty(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    if name.endswith(".parquet"):
        pq.write_table(
            pa.table(
                {n: pa.array([], pa.string()) for n in ("event_id", "time", "user_id", "role", "org_id", "action")}
            ),
            path,
        )
    else:
        path.write_text(
            {"empty.jsonl": "", "blank.jsonl": "\n  \n", "header.csv": HEADER, "array.json": "[]"}[name],
            encoding="utf-8",
        )
    return path


@pytest.mark.parametrize("name", ["empty.jsonl", "blank.jsonl", "header.csv", "array.json", "rows.parquet"])
def test_an_input_without_rows_is_refused_alike_in_every_format(tmp_path: Path, name: str) -> None:
    path = _empty(tmp_path, name)
    with pytest.raises(InterchangeError, match="no event rows in the input") as info:
        load_events(connect(), [path])
    assert info.value.where == str(path)


def test_cli_refuses_an_empty_log_and_warns_of_an_empty_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=3, staff_per_org=3)
    write_context(tmp_path / "context", w.context())
    empty = _empty(tmp_path, "header.csv")
    refused = CliRunner().invoke(app, ["detect", str(empty), "--context", str(tmp_path / "context")])
    assert refused.exit_code == 2 and "no event rows in the input" in refused.output
    assert "100.0%" not in refused.output
    write_events(tmp_path / "events.jsonl", w.events)
    both = CliRunner().invoke(
        app, ["detect", str(tmp_path / "events.jsonl"), str(empty), "--context", str(tmp_path / "context")]
    )
    assert both.exit_code == 0, both.output
    assert f"warning: {empty}: no event rows in this file" in both.output


def test_no_explained_fraction_is_claimed_when_since_leaves_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=3, staff_per_org=3)
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.jsonl", w.events)
    table = tmp_path / "table.txt"
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(tmp_path / "events.jsonl"),
            "--context",
            str(tmp_path / "context"),
            "--since",
            "2030-01-01T00:00:00+08:00",
            "--out",
            str(table),
        ],
    )
    assert result.exit_code == 0, result.output
    text = " ".join(table.read_text(encoding="utf-8").split())  # the title wraps with the table
    assert "no record accesses to explain" in text and "100.0%" not in text
    assert "no record accesses to analyse (all before --since)" in result.output


def test_exposed_records_count_what_a_search_or_export_listed() -> None:
    at = datetime(2025, 3, 4, 10, tzinfo=UTC)
    base = {"user_id": "u1", "role": "cdc_coder", "org_id": "c1"}
    events = [
        AccessEvent(
            event_id="x1", time=at, action="export", result_count=3, result_subject_ids=("s1", "s2", "s3"), **base
        ),
        AccessEvent(event_id="x2", time=at + timedelta(hours=1), action="read", subject_id="s3", **base),
        AccessEvent(event_id="x3", time=at + timedelta(hours=2), action="search", **base),  # no results given
    ]
    con = connect()
    load_event_objects(con, events)
    con.execute("ALTER TABLE events RENAME TO events_all")
    listed = _malicious_records(con, {"bulk_export": {"x1", "x2", "x3"}})
    opened = _malicious_records(con, {"bulk_export": {"x1", "x2", "x3"}}, listed=False)
    assert len(listed["u1"]) == 4  # s1, s2, s3 (once, first exposed by the export) and the bare search
    assert sorted(listed["u1"]) == [at, at, at, at + timedelta(hours=2)]
    assert len(opened["u1"]) == 3  # as before the audit: the export and the search count one each
    assert "utc_offset" in EVENT_SCHEMA.names


def test_trace_json_still_raises_the_canary_alert_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=5, staff_per_org=5)
    w.subjects.append(SubjectRow(subject_id="decoy1", death_time=T0, district="310112", is_canary=True))
    w.event("h2-doc3", T0 + timedelta(days=1), subject="decoy1", fields=("relative.phone",))
    write_complaints(tmp_path / "complaints.csv", [Complaint(subject_id="decoy1", call_time=T0 + timedelta(days=3))])
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.jsonl", w.events)
    out = tmp_path / "trace.json"
    result = CliRunner().invoke(
        app,
        [
            "trace",
            "--complaints",
            str(tmp_path / "complaints.csv"),
            "--events",
            str(tmp_path / "events.jsonl"),
            "--context",
            str(tmp_path / "context"),
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ALERT (high): 1 call(s) reached canary records" in result.output
    assert json.loads(out.read_text())["canary_calls"] == 1
