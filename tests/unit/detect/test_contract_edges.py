"""Edges of the FORMATS.md contract an outside conformance audit found: each read or written as
another system would expect, or refused with a message that is true."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.errors import InterchangeError
from piguard.interchange.context import ContextTables, UserRow, write_context
from piguard.interchange.events import AccessEvent, read_events, write_events
from piguard.interchange.tabular import read_rows

HEADER = "event_id,time,user_id,role,org_id,action,query\n"
OPEN_QUOTE = (
    HEADER
    + 'a1,2025-01-01T09:00:00+08:00,u1,nurse,o1,search,"district=1\n'
    + "a2,2025-01-01T09:01:00+08:00,u1,nurse,o1,read,x\n"
    + "a3,2025-01-01T09:02:00+08:00,u1,nurse,o1,read,y\n"
)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    directory = tmp_path / "context"
    user = UserRow(user_id="u1", role="nurse", org_id="o1", district="310112", active_from="2024-01-01T00:00:00+08:00")
    write_context(directory, ContextTables(users=[user]))
    return directory


def _detect(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["detect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_quote_never_closed_is_an_error_not_a_cell_that_swallows_the_file(tmp_path: Path, context: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(OPEN_QUOTE, encoding="utf-8")
    with pytest.raises(InterchangeError, match="quoted cell is never closed") as info:
        list(read_rows(events))
    assert info.value.where == f"{events}:2"  # where the record with the open quote began
    for extra in ([], ["--skip-invalid"]):  # the rest of the file cannot be read: no row is safe
        code, out, err = _detect(str(events), "--context", str(context), "--format", "json", *extra)
        assert code == 2, out
        assert f"{events}:2: a quoted cell is never closed" in err


def test_context_tables_are_found_whatever_the_case_of_their_extension(tmp_path: Path, context: Path) -> None:
    (context / "users.csv").rename(context / "users.CSV")
    events = tmp_path / "EVENTS.CSV"
    events.write_text(HEADER + "a1,2025-01-01T09:00:00+08:00,u1,nurse,o1,read,\n", encoding="utf-8")
    code, out, err = _detect(str(events), "--context", str(context), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["events_read"] == 1


def test_a_leap_second_is_refused_with_a_message_that_says_so(tmp_path: Path, context: Path) -> None:
    events = tmp_path / "events.jsonl"
    row = {
        "event_id": "a1",
        "time": "2016-12-31T23:59:60Z",
        "user_id": "u1",
        "role": "nurse",
        "org_id": "o1",
        "action": "read",
    }
    events.write_text(json.dumps(row) + "\n", encoding="utf-8")
    code, _, err = _detect(str(events), "--context", str(context), "--format", "json")
    assert code == 2
    assert "leap second (:60)" in err and "events.jsonl:1" in err


def test_an_output_path_that_is_a_folder_is_bad_usage_before_the_run(tmp_path: Path, context: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(HEADER, encoding="utf-8")
    code, _, err = _detect(str(events), "--context", str(context), "--format", "json", "--out", str(tmp_path))
    assert code == 2
    assert "--out" in err and "is a directory" in err
    assert "Traceback" not in err


def test_parquet_exports_type_empty_optional_columns_as_the_contract_says(tmp_path: Path) -> None:
    # Only required fields: every optional column is empty. Without explicit types Parquet calls
    # them "Null", which Spark reads as int; they are text, text lists and a 64-bit count.
    event = AccessEvent(
        event_id="e1", time="2025-03-01T08:00:00+08:00", user_id="u1", role="nurse", org_id="o1", action="read"
    )
    out = tmp_path / "events.parquet"
    write_events(out, [event])
    schema = pq.read_schema(out)
    assert schema.field("query").type == pa.string()
    assert schema.field("session_id").type == pa.string()
    assert schema.field("fields").type == pa.list_(pa.string())
    assert schema.field("result_subject_ids").type == pa.list_(pa.string())
    assert schema.field("result_count").type == pa.int64()
    assert not any(pa.types.is_null(field.type) for field in schema)
    assert list(read_events(out)) == [event]
    empty = tmp_path / "none.parquet"
    write_events(empty, [])
    assert pq.read_schema(empty).field("fields").type == pa.list_(pa.string())
    context = tmp_path / "ctx"
    user = UserRow(user_id="u1", role="nurse", org_id="o1", district="310112", active_from="2024-01-01T00:00:00+08:00")
    write_context(context, ContextTables(users=[user]), fmt="parquet")
    users = pq.read_schema(context / "users.parquet")
    assert users.field("surname").type == pa.string() and users.field("active_to").type == pa.string()
