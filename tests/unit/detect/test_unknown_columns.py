"""Unknown input columns are ignored on every read path, whatever their name (FORMATS.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.detect.load import connect, load_context, load_events
from piguard.errors import InterchangeError

_EVENTS = {
    "event_id": ["e1", "e2"],
    "time": ["2025-03-01T08:15:00+08:00", "2025-03-01T09:00:00+08:00"],
    "user_id": ["u1", "u1"],
    "role": ["physician", "physician"],
    "org_id": ["o1", "o1"],
    "action": ["read", "read"],
    "subject_id": ["sc", "s2"],
    "fields": ["relative.phone", "death.cause"],
}
_USERS = {
    "user_id": ["u1", "u2"],
    "role": ["physician", "nurse"],
    "org_id": ["o1", "o1"],
    "district": ["310112", "310113"],
    "active_from": ["2024-01-01T00:00:00+08:00", "2024-01-01T00:00:00+08:00"],
}


def _write(path: Path, columns: dict[str, list[str]]) -> Path:
    """``columns`` as a CSV or Parquet file, in the order given (all text)."""
    if path.suffix == ".parquet":
        pq.write_table(pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()}), path)
        return path
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
    return path


def _with(base: dict[str, list[str]], name: str, value: str, *, before: str | None = None) -> dict[str, list[str]]:
    """``base`` plus a column ``name`` holding ``value``, placed before ``before`` (else last)."""
    extra = [value] * len(next(iter(base.values())))
    if before is None:
        return {**base, name: extra}
    out: dict[str, list[str]] = {}
    for col, values in base.items():
        if col == before:
            out[name] = extra
        out[col] = values
    return out


def _events(path: Path) -> list[tuple[object, ...]]:
    con = connect()
    load_events(con, [path])
    return con.execute("SELECT * FROM events ORDER BY event_id").fetchall()


# Names that the fast path once used for its own columns, and case variants of real fields
# placed first (DuckDB matches names without regard to case and renames the second one).
_EVENT_EXTRAS = [
    ("_t_user_id", "u2", None),
    ("_t_time", "2030-01-01T00:00:00Z", None),
    ("_l_fields", "relative.phone;death.cause", None),
    ("_t_subject_id", "sx", None),
    ("Subject_Id", "sx", "subject_id"),
    ("USER_ID", "u2", "user_id"),
    ("Fields", "relative.phone", "fields"),
]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(("name", "value", "before"), _EVENT_EXTRAS)
def test_an_unknown_event_column_changes_nothing(
    tmp_path: Path, suffix: str, name: str, value: str, before: str | None
) -> None:
    plain = _events(_write(tmp_path / f"plain{suffix}", _with(_EVENTS, "notes", value, before=before)))
    odd = _events(_write(tmp_path / f"odd{suffix}", _with(_EVENTS, name, value, before=before)))
    assert odd == plain
    assert [(r[0], r[2], r[11]) for r in odd] == [("e1", "u1", "sc"), ("e2", "u1", "s2")]


def test_an_unknown_column_with_an_internal_name_keeps_the_fast_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.csv", _with(_EVENTS, "_t_user_id", "u2"))
    con = connect()
    assert load_events(con, [path]).exact_reads == 0
    assert con.execute("SELECT DISTINCT user_id FROM events").fetchall() == [("u1",)]


def test_a_tab_around_a_header_name_is_read_alike_on_both_paths(tmp_path: Path) -> None:
    # The exact reader strips it; DuckDB keeps it and would have left subject_id empty.
    padded = {("\tsubject_id" if col == "subject_id" else col): values for col, values in _EVENTS.items()}
    assert _events(_write(tmp_path / "padded.csv", padded)) == _events(_write(tmp_path / "plain.csv", _EVENTS))


def test_json_keys_that_only_look_like_fields_are_ignored(tmp_path: Path) -> None:
    rows = [{col: values[i] for col, values in _EVENTS.items() if col != "fields"} for i in range(2)]
    plain, odd = tmp_path / "plain.jsonl", tmp_path / "odd.jsonl"
    plain.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    odd.write_text(
        "".join(json.dumps({"_t_user_id": "u2", "SUBJECT_ID": "sx", **r}) + "\n" for r in rows), encoding="utf-8"
    )
    assert _events(odd) == _events(plain)


def _users(directory: Path, columns: dict[str, list[str]], suffix: str) -> list[tuple[object, ...]]:
    directory.mkdir()
    _write(directory / f"users{suffix}", columns)
    con = connect()
    load_context(con, directory)
    return con.execute("SELECT * FROM ctx_users ORDER BY user_id").fetchall()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    ("name", "value", "before"),
    [
        ("_t_district", "999999", None),
        ("_t_role", "admin", None),
        ("_t_active_from", "2030-01-01T00:00:00Z", None),
        ("District", "999999", "district"),
    ],
)
def test_an_unknown_context_column_changes_nothing(
    tmp_path: Path, suffix: str, name: str, value: str, before: str | None
) -> None:
    plain = _users(tmp_path / "plain", _with(_USERS, "notes", value, before=before), suffix)
    odd = _users(tmp_path / "odd", _with(_USERS, name, value, before=before), suffix)
    assert odd == plain
    assert [(r[0], r[1], r[3]) for r in odd] == [("u1", "physician", "310112"), ("u2", "nurse", "310113")]


def test_detect_alerts_the_user_who_opened_the_canary_not_an_unknown_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _write(ctx / "users.csv", _USERS)
    (ctx / "subjects.csv").write_text(
        "subject_id,death_time,district,is_canary\nsc,2025-03-01T00:00:00+08:00,310112,1\n", encoding="utf-8"
    )
    events = _write(tmp_path / "ev.csv", _with(_EVENTS, "_t_user_id", "u2"))
    out = tmp_path / "alerts.json"
    result = CliRunner().invoke(
        app, ["detect", str(events), "--context", str(ctx), "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [a["user_id"] for a in json.loads(out.read_text())["alerts"]] == ["u1"]


@pytest.mark.parametrize("table", ["relationships", "users"])
def test_a_zero_byte_context_table_is_refused_by_name(tmp_path: Path, table: str) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _write(ctx / "users.csv", _USERS)
    (ctx / f"{table}.csv").write_bytes(b"")
    with pytest.raises(InterchangeError, match="empty file") as info:
        load_context(connect(), ctx)
    assert info.value.where == str(ctx / f"{table}.csv")


def test_detect_exits_2_on_a_zero_byte_context_table_as_trace_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _write(ctx / "users.csv", _USERS)
    (ctx / "relationships.csv").write_bytes(b"")
    events = _write(tmp_path / "ev.csv", _EVENTS)
    complaints = tmp_path / "complaints.csv"
    complaints.write_text("subject_id,call_time\nsc,2025-03-10T10:00:00+08:00\n", encoding="utf-8")
    runner = CliRunner()
    detected = runner.invoke(app, ["detect", str(events), "--context", str(ctx), "--format", "json"])
    traced = runner.invoke(
        app,
        ["trace", "--complaints", str(complaints), "--events", str(events), "--context", str(ctx), "--format", "json"],
    )
    for result in (detected, traced):
        assert result.exit_code == 2, result.output
        assert f"{ctx / 'relationships.csv'}: empty file" in result.output


def test_a_context_table_with_a_header_and_no_rows_is_still_accepted(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _write(ctx / "users.csv", _USERS)
    (ctx / "relationships.csv").write_text("user_id,subject_id,kind,valid_from,valid_to\n", encoding="utf-8")
    con = connect()
    assert "relationships" in load_context(con, ctx)
    assert con.execute("SELECT count(*) FROM ctx_relationships").fetchall() == [(0,)]
