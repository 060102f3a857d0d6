"""Writing a context directory: never beside an earlier export's tables, and all or nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from piguard.errors import InterchangeError
from piguard.interchange.context import (
    ContextTables,
    ShiftRow,
    SubjectRow,
    UserRow,
    read_context,
    replacing_context,
    write_context,
    write_tables,
)

T0 = datetime(2025, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=8)))
TABLES = ContextTables(
    users=(UserRow(user_id="u1", role="physician", org_id="h1", district="310112", active_from=T0),),
    subjects=(SubjectRow(subject_id="s1", death_time=T0, district="310112", surname="李"),),
)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


def _staged_then_failed(out: Path, tables: ContextTables, *, fmt: str = "csv", overwrite: bool = False) -> None:
    with replacing_context(out, overwrite=overwrite) as staging:
        write_tables(staging, tables, fmt=fmt)
        raise RuntimeError("recording the export failed")


def test_a_directory_holding_tables_is_refused_and_left_alone(tmp_path: Path) -> None:
    write_context(tmp_path, TABLES)
    kept = _snapshot(tmp_path)
    with pytest.raises(InterchangeError) as info:
        write_context(tmp_path, TABLES, fmt="parquet")
    assert info.value.where == str(tmp_path)
    assert "subjects.csv" in info.value.reason and "users.csv" in info.value.reason
    assert _snapshot(tmp_path) == kept


def test_overwrite_removes_every_earlier_table_whatever_its_format(tmp_path: Path) -> None:
    with_shifts = ContextTables(users=TABLES.users, shifts=(ShiftRow(user_id="u1", start=T0, end=T0),))
    write_context(tmp_path, with_shifts, fmt="jsonl")
    (tmp_path / "Users.CSV").write_text("stale", encoding="utf-8")  # another exporter's spelling
    (tmp_path / "README.txt").write_text("not a table", encoding="utf-8")
    counts = write_context(tmp_path, TABLES, fmt="parquet", overwrite=True)
    assert counts == {"users": 1, "subjects": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.txt", "subjects.parquet", "users.parquet"]
    assert read_context(tmp_path).present == {"users", "subjects"}


def test_a_new_directory_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "exports" / "context"
    with pytest.raises(RuntimeError):
        _staged_then_failed(out, TABLES)
    assert not out.exists()
    assert list((tmp_path / "exports").iterdir()) == []
    write_context(out, TABLES)
    assert read_context(out).subjects == TABLES.subjects


def test_a_failed_overwrite_keeps_the_earlier_tables(tmp_path: Path) -> None:
    write_context(tmp_path, TABLES)
    kept = _snapshot(tmp_path)
    with pytest.raises(RuntimeError):
        _staged_then_failed(tmp_path, ContextTables(users=TABLES.users), fmt="parquet", overwrite=True)
    assert _snapshot(tmp_path) == kept


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "context").write_text("", encoding="utf-8")
    with pytest.raises(InterchangeError, match="not a directory"):
        write_context(tmp_path / "context", TABLES)
