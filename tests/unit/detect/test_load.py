"""Event loading: every format through DuckDB's fast path, exact errors, quarantine, FHIR."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
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
    assert info.value.reason == f"field 'event_id': duplicate of the event at {path}:2"


_DUP_HEADER = "event_id,time,user_id,role,org_id,action,subject_id\n"
_DUP_ROWS = ("a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,read,s1\n"
             "a2,2025-03-01T08:05:00+08:00,u1,nurse,h1,read,s2\n"
             " a1 ,2025-03-01T09:00:00+08:00,u2,nurse,h1,read,s3\n"   # the same id, padded
             "a3,2025-03-01T09:10:00+08:00,u2,nurse,h1,read,s4\n"
             "a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,read,s1\n")   # an exact copy


@pytest.mark.parametrize("reader", ["fast", "exact"])
def test_skip_invalid_quarantines_later_duplicates_and_keeps_the_first(tmp_path: Path, reader: str) -> None:
    # The fast path (DuckDB) and the exact reader (a file with another bad row) agree.
    path = tmp_path / "events.csv"
    extra = "a9,yesterday,u1,nurse,h1,read,s9\n" if reader == "exact" else ""
    path.write_text(_DUP_HEADER + _DUP_ROWS + extra, encoding="utf-8")
    con = connect()
    quarantine = tmp_path / "q.jsonl"
    stats = load_events(con, [path], skip_invalid=True, quarantine=quarantine)
    assert stats.exact_reads == (1 if reader == "exact" else 0)
    assert (stats.events_read, stats.duplicates) == (3, 2)
    assert stats.events_invalid == (3 if reader == "exact" else 2)
    assert stats.input_rows == stats.events_read + stats.events_invalid == (6 if reader == "exact" else 5)
    kept = con.execute("SELECT event_id, user_id, subject_id FROM events ORDER BY event_id").fetchall()
    assert kept == [("a1", "u1", "s1"), ("a2", "u1", "s2"), ("a3", "u2", "s4")]
    bad = [json.loads(line) for line in quarantine.read_text().splitlines()]
    dups = [b for b in bad if "duplicate" in b["reason"]]
    assert [d["where"] for d in dups] == [f"{path}:4", f"{path}:6"]
    assert all(d["reason"] == f"field 'event_id': duplicate of the event at {path}:2" for d in dups)
    assert dups[0]["row"]["user_id"] == "u2"  # the row is kept so that it can be fixed


def test_a_duplicate_across_files_names_the_file_of_the_first(tmp_path: Path) -> None:
    first, second = tmp_path / "day1.csv", tmp_path / "day2.jsonl"
    first.write_text(_DUP_HEADER + _DUP_ROWS.splitlines(keepends=True)[0], encoding="utf-8")
    second.write_text(json.dumps({"event_id": "a1", "time": "2025-03-01T00:00:00Z", "user_id": "u1",
                                  "role": "nurse", "org_id": "h1", "action": "read"}) + "\n", encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [first, second])
    assert (info.value.where, info.value.reason) == (f"{second}:1",
                                                     f"field 'event_id': duplicate of the event at {first}:2")
    stats = load_events(connect(), [first, second], skip_invalid=True, quarantine=tmp_path / "q.jsonl")
    assert (stats.events_read, stats.events_invalid, stats.duplicates, stats.input_rows) == (1, 1, 1, 2)


def test_a_row_refused_for_another_reason_is_not_the_first_copy(tmp_path: Path) -> None:
    # The first row with id a1 is invalid; the later valid a1 is the event, not a duplicate.
    path = tmp_path / "events.csv"
    path.write_text(_DUP_HEADER + "a1,yesterday,u1,nurse,h1,read,s1\n"
                    "a1,2025-03-01T09:00:00+08:00,u2,nurse,h1,read,s3\n", encoding="utf-8")
    con = connect()
    stats = load_events(con, [path], skip_invalid=True, quarantine=tmp_path / "q.jsonl")
    assert (stats.events_read, stats.events_invalid, stats.duplicates) == (1, 1, 0)
    assert con.execute("SELECT user_id FROM events").fetchall() == [("u2",)]


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
    ("time", "time", "2025-03-01T24:00:00+08:00"),  # DuckDB read hour 24 as the next day
    ("time", "time", "2025-03-01T08:00:00+24:00"),  # ... and offsets Python refuses
    ("time", "time", "2025-03-01T08:00:00+08:60"),
    ("time", "time", "0001-01-01T00:00:00+08:00"),  # before year 1 in UTC
    ("count", "result_count", "1.5"),            # once rounded to 2
    ("count", "result_count", "1e3"),
    ("count", "result_count", "99999999999999999999"),  # once NULL on the fast path, a crash on the exact one
    ("id", "event_id", "e" * 129),               # lengths the model limits
    ("role", "role", "r" * 65),
    ("id", "user_id", "\t"),                     # a tab is blank on both paths
])
def test_what_the_exact_reader_refuses_the_fast_path_refuses_too(tmp_path: Path, cell: str, column: str,
                                                                 value: str) -> None:
    path = tmp_path / "events.csv"
    if cell == "time":
        row = _ROW.replace("2025-03-01T08:00:00+08:00", value)
    elif cell == "count":
        row = _ROW.replace(",2,", f",{value},")
    elif cell == "role":
        row = _ROW.replace(",nurse,", f",{value},")
    else:
        row = _ROW.replace(",u1,", f",{value},") if column == "user_id" else _ROW.replace("a1,", f"{value},")
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


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return sorted(con.execute("SELECT * FROM events").fetchall(), key=lambda r: str(r[0]))


_GOOD = {"event_id": "a1", "time": "2025-03-01T08:00:00+08:00", "user_id": "u1", "role": "nurse",
         "org_id": "h1", "action": "search"}
_IDS = ";".join(f"s{i:07d}" for i in range(5000))


@pytest.mark.parametrize(("name", "text"), [
    ("padded.csv", _HEADER + "a1\t,2025-03-01T08:00:00+08:00,\u3000张医生\u3000,nurse,h1,search, a;;b ;,2, s1;\t;s2\n"),
    ("offsets.csv", _HEADER + _ROW + _ROW.replace("a1", "a2").replace("2025-03-01T08:00:00+08:00",
                                                                       "2025-03-01T00:00:00Z")),
    ("long.csv", _HEADER + _ROW.replace("death.cause", "x" * 300_000).replace("s1;s2", _IDS)),
    ("multiline.csv", _HEADER + _ROW.replace("death.cause", '" name=\r\n Li\n"')),  # inner line breaks kept
    ("blank.jsonl", json.dumps({**_GOOD, "subject_id": "", "terminal_id": " ", "outcome": None,
                                "fields": ["\ta\t", "\u3000"], "query": "q" * 200_000}) + "\n"),
    ("unicode.jsonl", json.dumps({**_GOOD, "user_id": "急救-调度员-07", "result_subject_ids": _IDS.split(";")},
                                 ensure_ascii=False) + "\n"),
])
def test_what_both_paths_accept_they_read_alike(tmp_path: Path, name: str, text: str) -> None:
    fast_file = tmp_path / name
    fast_file.write_text(text, encoding="utf-8")
    fast = connect()
    assert load_events(fast, [fast_file]).exact_reads == 0
    # The same rows plus one invalid row: the whole file goes through the exact reader.
    exact_file = tmp_path / f"exact-{name}"
    bad = (json.dumps({**_GOOD, "event_id": "zz", "time": "yesterday"}) + "\n" if name.endswith(".jsonl")
           else "zz,yesterday,u1,nurse,h1,read,,,\n")
    exact_file.write_text(text + bad, encoding="utf-8")
    exact = connect()
    stats = load_events(exact, [exact_file], skip_invalid=True, quarantine=tmp_path / "q.jsonl")
    assert (stats.exact_reads, stats.events_invalid) == (1, 1)
    assert _rows(fast) == _rows(exact)
    if name == "padded.csv":
        assert _rows(fast)[0][:3] == ("a1", datetime(2025, 3, 1), "张医生")
        assert (_rows(fast)[0][12], _rows(fast)[0][18]) == (";a;b;", ";s1;s2;")
    if name == "multiline.csv":
        assert _rows(fast)[0][12] == ";name=\r\n Li;"
    if name == "blank.jsonl":
        row = _rows(fast)[0]
        assert (row[5], row[11], row[12], row[14]) == (None, None, ";a;", "allowed")


@pytest.mark.parametrize(("value", "refused"), [
    ([["a"]], True), ({"a": 1}, True), (["a", None, 1], True), ([1, 2], True), (["a", True], True),
    (["a", None, " 1 "], False),
])
def test_a_list_of_anything_but_strings_is_refused_on_both_paths(tmp_path: Path, value: object, refused: bool) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_GOOD) + "\n" + json.dumps({**_GOOD, "event_id": "a2", "fields": value}) + "\n",
                    encoding="utf-8")
    if not refused:
        con = connect()
        load_events(con, [path])
        assert con.execute("SELECT fields FROM events WHERE event_id = 'a2'").fetchall() == [(";a;1;",)]
        return
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:2" and "fields" in info.value.reason


def test_a_csv_row_with_a_stray_comma_is_quarantined_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(_HEADER + _ROW + "a2,2025-03-01T08:00:00+08:00,u1,nurse,h1,search,name=Li, Wang,2,s1\n"
                    + _ROW.replace("a1", "a3"), encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:3" and "columns" in info.value.reason
    quarantine = tmp_path / "q.jsonl"
    con = connect()
    stats = load_events(con, [path], skip_invalid=True, quarantine=quarantine)
    assert (stats.events_read, stats.events_invalid, stats.input_rows) == (2, 1, 3)
    assert json.loads(quarantine.read_text()) == {"where": f"{path}:3", "reason": "expected 9 columns, found 10"}


def test_a_repeated_csv_column_is_refused_on_the_fast_path_too(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(_HEADER.replace("fields", "user_id") + _ROW, encoding="utf-8")
    with pytest.raises(InterchangeError, match="duplicate column") as info:
        load_events(connect(), [path])
    assert info.value.where == f"{path}:1"


def test_a_directory_is_read_as_its_event_files_in_name_order(world_files: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    from piguard.interchange.events import read_events

    source, _ = world_files
    events = list(read_events(source))
    export = tmp_path / "export"
    write_events(export / "part-0002.jsonl.gz", events[100:])
    write_events(export / "part-0001.csv", events[:100])
    (export / "_SUCCESS").write_bytes(b"")  # markers and hidden files are passed over
    (export / ".part-0001.csv.crc").write_bytes(b"x")
    con = connect()
    stats = load_events(con, [export])
    assert (stats.events_read, stats.input_rows) == (len(events), len(events))
    assert [p.name for p in stats.files] == ["part-0001.csv", "part-0002.jsonl.gz"]
    with pytest.raises(InterchangeError, match="more than once"):
        load_events(connect(), [export, export / "part-0001.csv"])
    (export / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InterchangeError, match="unsupported file type") as info:
        load_events(connect(), [export])
    assert info.value.where == str(export / "notes.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InterchangeError, match="no event files"):
        load_events(connect(), [empty])


def test_since_leaves_earlier_rows_counted_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(_HEADER + _ROW + _ROW.replace("a1", "a2").replace("2025-03-01T08", "2025-03-02T08")
                    + "a3,yesterday,u1,nurse,h1,read,,,\n", encoding="utf-8")
    since = datetime(2025, 3, 2, tzinfo=UTC)
    stats = load_events(connect(), [path], since=since, skip_invalid=True, quarantine=tmp_path / "q.jsonl")
    assert (stats.input_rows, stats.events_read, stats.events_invalid, stats.events_before_since) == (3, 1, 1, 1)


def test_fhir_entries_that_cannot_be_mapped_are_quarantined_with_their_entry(tmp_path: Path) -> None:
    good = {"resourceType": "AuditEvent", "id": "ae1", "action": "R", "recorded": "2025-03-01T08:15:00+08:00",
            "agent": [{"requestor": True, "who": {"identifier": {"value": "dr-7"}},
                       "role": [{"coding": [{"code": "physician"}]}]},
                      {"requestor": False, "who": {"reference": "Organization/h9"}}],
            "entity": [{"what": {"reference": "Patient/p42"}}]}
    entries = [{"resource": good}, {"resource": {**good, "id": "ae2", "agent": [{"requestor": False}]}},
               {"resource": {"resourceType": "Patient", "id": "p42"}}, {"resource": {**good, "recorded": "x"}},
               {"resource": {**good, "id": "ae3"}}]
    path = tmp_path / "audit.fhir.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": entries}), encoding="utf-8")
    with pytest.raises(InterchangeError, match="requestor"):
        load_events(connect(), [path])
    quarantine = tmp_path / "q.jsonl"
    con = connect()
    stats = load_events(con, [path], skip_invalid=True, quarantine=quarantine)
    # Four AuditEvents (the Patient entry is no event): ae1 and ae3 kept, entry 1 unmappable,
    # entry 3 a second ae1 with a bad time (invalid, so not a duplicate).
    assert (stats.input_rows, stats.events_read, stats.events_invalid) == (4, 2, 2)
    bad = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert [b["where"] for b in bad] == [f"{path}#entry[1]", f"{path}#entry[3]"]
    assert "recorded" in bad[1]["reason"] or "time" in bad[1]["reason"]


def test_context_cells_read_alike_on_both_paths(tmp_path: Path) -> None:
    from piguard.detect.load import load_context_objects
    from piguard.interchange.context import read_context

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "users.csv").write_text("user_id,role,org_id,district,home_compound,surname,active_from,active_to\n"
                                   "u1\t,nurse,h1,310112,\u3000,\t,2025-03-01T08:00:00+08:00, \n", encoding="utf-8")
    (ctx / "orgs.csv").write_text("org_id,org_type,district,name\nh1, hospital ,310112,H\n", encoding="utf-8")
    (ctx / "subjects.csv").write_text("subject_id,death_time,district,is_canary\n"
                                      "s1,,310112,yes\ns2, ,310112,TRUE\ns3,,310112, no\ns4,,310112,\n",
                                      encoding="utf-8")
    (ctx / "shifts.csv").write_text("user_id,start,end\n"  # a night shift across midnight
                                    "u1,2025-03-01T22:00:00+08:00,2025-03-02T06:00:00Z\n", encoding="utf-8")
    fast, exact = connect(), connect()
    load_context(fast, ctx)
    load_context_objects(exact, read_context(ctx))
    for sql in ("SELECT * FROM ctx_users", "SELECT * FROM ctx_orgs", "SELECT * FROM ctx_subjects ORDER BY 1",
                "SELECT * FROM ctx_shifts"):
        assert fast.execute(sql).fetchall() == exact.execute(sql).fetchall(), sql
    assert fast.execute("SELECT subject_id FROM ctx_subjects WHERE is_canary = 1 ORDER BY 1").fetchall() == [
        ("s1",), ("s2",)]
    assert fast.execute("SELECT user_id, home_compound, surname, active_to FROM ctx_users").fetchall() == [
        ("u1", None, None, None)]


def test_a_context_number_where_text_is_due_is_named(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    pq.write_table(pa.table({"user_id": ["u1"], "role": ["nurse"], "org_id": ["h1"],
                             "district": pa.array([310104], pa.int64()),
                             "active_from": ["2025-01-01T00:00:00+08:00"]}), ctx / "users.parquet")
    with pytest.raises(InterchangeError, match="district") as info:
        load_context(connect(), ctx)
    assert info.value.where == f"{ctx / 'users.parquet'}#row1"
