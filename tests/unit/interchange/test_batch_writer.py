"""The columnar BatchWriter writes what write_rows writes, in every format the readers accept."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from piguard.errors import InterchangeError
from piguard.interchange.events import read_events
from piguard.interchange.tabular import BatchWriter, read_rows, write_rows

ROWS = [
    {"event_id": "e1", "time": "2025-03-01T08:15:00+08:00", "user_id": "u1", "role": "nurse",
     "org_id": "h1", "action": "read", "fields": ["relative.phone", "death.cause"],
     "query": 'name="王" and path\\x', "result_count": 3, "result_subject_ids": ["s1", "s2"]},
    {"event_id": "e2", "time": "2025-03-01T09:00:00+08:00", "user_id": "u2", "role": "emt",
     "org_id": "ems", "action": "login", "fields": None, "query": None, "result_count": None,
     "result_subject_ids": None},
]
COLUMNS = ["event_id", "time", "user_id", "role", "org_id", "action", "fields", "query",
           "result_count", "result_subject_ids"]


def _batch() -> pa.RecordBatch:
    dict_str = pa.dictionary(pa.int32(), pa.string())
    schema = pa.schema([
        ("event_id", pa.string()), ("time", pa.string()), ("user_id", dict_str),
        ("role", dict_str), ("org_id", pa.string()), ("action", dict_str),
        ("fields", pa.list_(pa.string())), ("query", pa.string()),
        ("result_count", pa.int64()), ("result_subject_ids", pa.list_(pa.string())),
    ])
    arrays = []
    for field in schema:
        values = [row[field.name] for row in ROWS]
        arrays.append(pa.array(values, field.type.value_type if pa.types.is_dictionary(field.type)
                               else field.type))
        if pa.types.is_dictionary(field.type):
            arrays[-1] = arrays[-1].dictionary_encode()
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


@pytest.mark.parametrize("name", ["events.jsonl", "events.jsonl.gz", "events.csv",
                                  "events.csv.gz", "events.parquet"])
def test_batch_writer_matches_write_rows(tmp_path: Path, name: str) -> None:
    batched = tmp_path / "batched" / name
    with BatchWriter(batched, _batch().schema) as writer:
        writer.write(_batch())
        writer.write(_batch().slice(0, 0))
    assert writer.count == 2
    plain = tmp_path / "plain" / name
    write_rows(plain, ROWS, columns=COLUMNS)
    assert [r.data for r in read_rows(batched)] == [r.data for r in read_rows(plain)]
    events = list(read_events(batched))
    assert events[0].fields == ("relative.phone", "death.cause")
    assert events[0].query == 'name="王" and path\\x'
    assert events[1].result_subject_ids == ()


def test_jsonl_lines_are_json_objects_without_nulls(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with BatchWriter(path, _batch().schema) as writer:
        writer.write(_batch())
    lines = path.read_text(encoding="utf-8").splitlines()
    second = json.loads(lines[1])
    assert "query" not in second and "fields" not in second
    assert json.loads(lines[0])["result_count"] == 3


def test_csv_refuses_separator_inside_list_item(tmp_path: Path) -> None:
    schema = pa.schema([("fields", pa.list_(pa.string()))])
    batch = pa.RecordBatch.from_arrays([pa.array([["a;b"]])], schema=schema)
    with pytest.raises(InterchangeError, match="list item contains"), \
            BatchWriter(tmp_path / "x.csv", schema) as writer:
        writer.write(batch)


def test_empty_csv_still_has_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    with BatchWriter(path, _batch().schema):
        pass
    assert path.read_text(encoding="utf-8") == ",".join(COLUMNS) + "\n"


def test_single_json_array_is_not_batch_written(tmp_path: Path) -> None:
    with pytest.raises(InterchangeError, match="batch writing"):
        BatchWriter(tmp_path / "x.json", _batch().schema)
