"""Event loading: every format through DuckDB's fast path, exact errors, quarantine, FHIR."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from piguard.detect import run_detection
from piguard.detect.load import connect, load_context, load_events
from piguard.errors import InterchangeError
from piguard.interchange.context import write_context
from piguard.interchange.events import write_events
from tests.unit.detect.world import T0, hospital_world


@pytest.fixture
def world_files(tmp_path: Path) -> tuple[Path, Path]:
    w = hospital_world(days=5, staff_per_org=5)
    w.event("h1-doc1", T0 + timedelta(days=1), action="search", query="x", result_count=2,
            result_subject_ids=("s00001", "s00002"))
    ctx = tmp_path / "context"
    write_context(ctx, w.context())
    write_events(tmp_path / "events.jsonl", w.events)
    return tmp_path / "events.jsonl", ctx


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".csv", ".csv.gz", ".parquet", ".json"])
def test_every_format_loads_on_the_fast_path_with_the_same_rows(world_files: tuple[Path, Path], suffix: str,
                                                                tmp_path: Path) -> None:
    from piguard.interchange.events import read_events

    source, ctx = world_files
    events = list(read_events(source))
    target = tmp_path / f"copy{suffix}"
    write_events(target, events)
    con = connect()
    stats = load_events(con, [target])
    assert stats.events_read == len(events)
    assert stats.exact_reads == 0, "valid input must not need the slow row-by-row reader"
    rows = con.execute("SELECT event_id, ts, fields, result_ids FROM events ORDER BY event_id").fetchall()
    by_id = {e.event_id: e for e in events}
    for event_id, ts, fields, result_ids in rows:
        ev = by_id[event_id]
        assert ts == ev.time.astimezone().replace(tzinfo=None) - ev.time.astimezone().utcoffset()
        assert fields == (";" + ";".join(ev.fields) + ";" if ev.fields else None)
        assert result_ids == (";" + ";".join(ev.result_subject_ids) + ";" if ev.result_subject_ids else None)
    assert load_context(con, ctx) >= {"users", "subjects", "relationships"}


def _bad_jsonl(path: Path) -> Path:
    good = {"event_id": "a1", "time": "2025-03-01T08:00:00+08:00", "user_id": "u1", "role": "nurse",
            "org_id": "h1", "action": "read", "subject_id": "s1"}
    lines = [json.dumps(good),
             json.dumps({**good, "event_id": "a2", "time": "2025-03-01T08:00:00"}),  # no offset
             json.dumps({**good, "event_id": "a3", "user_id": ""}),
             "{not json",
             json.dumps({**good, "event_id": "a5"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_invalid_row_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    path = _bad_jsonl(tmp_path / "events.jsonl")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:2"
    assert "time" in info.value.reason and "offset" in info.value.reason


def test_skip_invalid_quarantines_and_counts_every_bad_row(tmp_path: Path) -> None:
    path = _bad_jsonl(tmp_path / "events.jsonl")
    quarantine = tmp_path / "q" / "bad.jsonl"
    con = connect()
    stats = load_events(con, [path], skip_invalid=True, quarantine=quarantine)
    assert (stats.events_read, stats.events_invalid) == (2, 3)
    kept = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
    assert kept == {"a1", "a5"}
    bad = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert [b["where"] for b in bad] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert all(b["reason"] for b in bad)
    assert quarantine.stat().st_mode & 0o077 == 0


def test_csv_with_a_bad_time_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("event_id,time,user_id,role,org_id,action\n"
                    "a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,read\n"
                    "a2,yesterday,u1,nurse,h1,read\n", encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:3"


def test_duplicate_event_ids_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("event_id,time,user_id,role,org_id,action\n"
                    "a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,read\n"
                    "a1,2025-03-01T09:00:00+08:00,u1,nurse,h1,read\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="duplicate") as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:3"


def test_missing_users_table_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    with pytest.raises(InterchangeError, match="users table is required"):
        load_context(connect(), tmp_path / "ctx")


def test_fhir_audit_event_bundle_maps_to_access_events(tmp_path: Path) -> None:
    from piguard.interchange.fhir import read_fhir_bundle

    audit = {
        "resourceType": "AuditEvent", "id": "ae1", "action": "R", "recorded": "2025-03-01T08:15:00+08:00",
        "outcome": "0", "subtype": [{"code": "read"}],
        "purposeOfEvent": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                        "code": "TREAT"}]}],
        "agent": [{"requestor": True, "who": {"identifier": {"value": "dr-7"}},
                   "role": [{"coding": [{"code": "Physician"}]}], "network": {"address": "ws-12", "type": "1"}},
                  {"requestor": False, "who": {"reference": "Organization/h9"}}],
        "source": {"observer": {"reference": "Device/ehr"}},
        "entity": [{"what": {"reference": "Patient/p42"}},
                   {"what": {"reference": "DocumentReference/d1"}},
                   {"query": base64.b64encode(b"name=Li").decode()}],
    }
    denied = {**audit, "id": "ae2", "outcome": "8", "subtype": [{"code": "search-type"}]}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": audit}, {"resource": {"resourceType": "Patient", "id": "p42"}},
                        {"resource": denied}]}
    path = tmp_path / "audit.fhir.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    first, second = list(read_fhir_bundle(path))
    assert (first.event_id, first.user_id, first.role, first.org_id, first.terminal_id) == (
        "ae1", "dr-7", "physician", "h9", "ws-12")
    assert (first.action, first.subject_id, first.purpose, first.outcome, first.query) == (
        "read", "p42", "TREAT", "allowed", "name=Li")
    assert (first.resource_type, first.resource_id) == ("documentreference", "d1")
    assert (second.action, second.outcome) == ("search", "denied")
    con = connect()
    assert load_events(con, [path]).events_read == 2
    broken = {**audit, "agent": [{"requestor": False}]}
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": broken}]}), encoding="utf-8")
    with pytest.raises(InterchangeError, match="requestor") as info:
        list(read_fhir_bundle(path))
    assert info.value.where == f"{path}#entry[0]"


def test_since_runs_only_new_events_and_keeps_history(world_files: tuple[Path, Path], tmp_path: Path) -> None:
    from piguard.detect import Options

    source, ctx = world_files
    history = tmp_path / "state" / "history.parquet"
    full = run_detection(source, ctx, options=Options(history=history))
    assert history.exists()
    later = run_detection(source, ctx, options=Options(history=history), since=T0 + timedelta(days=3))
    assert 0 < later.report.events_read < full.report.events_read
    import pyarrow.parquet as pq

    days = set(pq.read_table(history).column("day").to_pylist())
    assert len(days) >= 5, "days before --since stay in the baseline history"


def test_several_files_are_loaded_together(world_files: tuple[Path, Path], tmp_path: Path) -> None:
    from piguard.interchange.events import read_events

    source, _ = world_files
    events = list(read_events(source))
    half = len(events) // 2
    write_events(tmp_path / "a.csv", events[:half])
    write_events(tmp_path / "b.parquet", events[half:])
    con = connect()
    stats = load_events(con, [tmp_path / "a.csv", tmp_path / "b.parquet"])
    assert (stats.events_read, stats.exact_reads) == (len(events), 0)
    assert con.execute("SELECT count(DISTINCT event_id) FROM events").fetchall()[0][0] == len(events)


_HEADER = "event_id,time,user_id,role,org_id,action,fields,result_count,result_subject_ids\n"
_ROW = "a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,search,death.cause,2,s1;s2\n"


@pytest.mark.parametrize(("cell", "column", "value"), [
    ("time", "time", "2025-03-01"),              # a date only once passed as midnight UTC
    ("time", "time", "1740787200"),              # a Unix time is not RFC 3339
    ("count", "result_count", "1.5"),            # once rounded to 2
    ("count", "result_count", "1e3"),
])
def test_what_the_exact_reader_refuses_the_fast_path_refuses_too(tmp_path: Path, cell: str, column: str,
                                                                 value: str) -> None:
    path = tmp_path / "events.csv"
    row = _ROW.replace("2025-03-01T08:00:00+08:00", value) if cell == "time" else _ROW.replace(",2,", f",{value},")
    path.write_text(_HEADER + _ROW.replace("a1", "a0") + row, encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:3"
    assert column in info.value.reason


def test_an_offset_of_hours_only_is_read_alike_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    # PostgreSQL prints `+08`; the second row sends the file to the exact reader.
    path.write_text(_HEADER + _ROW.replace("+08:00", "+08"), encoding="utf-8")
    con = connect()
    assert load_events(con, [path]).exact_reads == 0
    path.write_text(_HEADER + _ROW.replace("+08:00", "+08") + _ROW.replace("a1", "a2").replace("+08:00", ""),
                    encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:3"
    assert con.execute("SELECT CAST(ts AS VARCHAR) FROM events").fetchall() == [("2025-03-01 00:00:00",)]


def test_list_cells_mean_the_same_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(_HEADER + "a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,search, relative.phone ;;x;,2,s1; s2;;\n"
                    "a2,2025-03-01T08:00:00+08:00,u1,nurse,h1,read,;,, \n", encoding="utf-8")
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(json.dumps({"event_id": "a1", "time": "2025-03-01T08:00:00+08:00", "user_id": "u1",
                                 "role": "nurse", "org_id": "h1", "action": "search",
                                 "fields": [" relative.phone ", "", "x"], "result_subject_ids": ["s1", " s2", ""]})
                     + "\n", encoding="utf-8")
    for source in (path, jsonl):
        con = connect()
        assert load_events(con, [source]).exact_reads == 0
        rows = dict(con.execute("SELECT event_id, fields || '|' || result_ids FROM events").fetchall())
        assert rows["a1"] == ";relative.phone;x;|;s1;s2;"
    assert rows.get("a2") is None


@pytest.mark.parametrize("name", ["events.json", "events.csv"])
def test_an_empty_file_that_is_not_valid_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where is not None and info.value.where.startswith(str(path))


def test_parquet_times_and_ids_of_another_type_are_named(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = {"event_id": ["a1"], "user_id": ["u1"], "role": ["nurse"], "org_id": ["h1"], "action": ["read"]}
    pq.write_table(pa.table({**base, "time": pa.array([1740787200000], pa.int64())}), tmp_path / "ms.parquet")
    with pytest.raises(InterchangeError, match="time") as info:
        load_events(connect(), [tmp_path / "ms.parquet"])
    assert info.value.where == f"{tmp_path / 'ms.parquet'}#row1"
    times = pa.array([datetime(2025, 3, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({**base, "time": times, "user_id": pa.array([7], pa.int64())}), tmp_path / "id.parquet")
    with pytest.raises(InterchangeError, match="user_id"):
        load_events(connect(), [tmp_path / "id.parquet"])
    pq.write_table(pa.table({**base, "time": times}), tmp_path / "ok.parquet")
    assert load_events(connect(), [tmp_path / "ok.parquet"]).exact_reads == 0


def test_a_json_number_where_a_string_is_required_is_named(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = {"event_id": "a1", "time": "2025-03-01T08:00:00+08:00", "user_id": "u1", "role": "nurse",
            "org_id": "h1", "action": "read"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "event_id": "a2", "user_id": 12345}) + "\n",
                    encoding="utf-8")
    with pytest.raises(InterchangeError, match="user_id") as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:2"


def test_context_dates_without_time_and_inverted_windows_are_refused(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "users.csv").write_text("user_id,role,org_id,district,active_from\n"
                                   "u1,nurse,h1,310112,2025-03-01T08:00:00+08:00\n"
                                   "u2,nurse,h1,310112,2025-03-01\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="active_from") as info:
        load_context(connect(), ctx)
    assert info.value.where == f"{ctx / 'users.csv'}:3"
    (ctx / "users.csv").write_text("user_id,role,org_id,district,active_from\n", encoding="utf-8")
    (ctx / "relationships.csv").write_text(
        "user_id,subject_id,kind,valid_from,valid_to\n"
        "u1,s1,certifier,2025-03-02T08:00:00+08:00,2025-03-01T08:00:00+08:00\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="valid_to") as info:
        load_context(connect(), ctx)
    assert info.value.where == f"{ctx / 'relationships.csv'}:2"
