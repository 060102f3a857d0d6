"""Load events (FORMATS.md §1) and context tables (§2) into DuckDB, validated.

Fast path: DuckDB reads the files itself (out-of-core, vectorised) and checks every row
with SQL. If any row fails those checks, or DuckDB cannot parse the file, the project's one
reader (``interchange``) re-reads it so the error names the exact file, line and reason;
with ``skip_invalid`` the bad rows go to a quarantine file and are counted, never dropped
silently. Both paths accept and normalise exactly alike (text trimmed of the same white
space, the same limits), so which one read a file never changes a result. An ``event_id``
repeated across the input is refused (or quarantined) at its later rows; every input row is
either loaded or quarantined, and ``LoadStats`` says how many. Everything downstream sees
normalised tables: times as UTC ``TIMESTAMP``, list columns as ``;``-joined strings with
bounding separators (``;a;b;``) so that membership is a plain ``LIKE`` every SQL engine
understands.
"""

# ruff: noqa: S608  (SQL is assembled from constants and quote-escaped file paths)

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from annotated_types import MaxLen
from pydantic import BaseModel

from piguard.errors import DetectionError, InputError, InterchangeError
from piguard.interchange.context import FALSE_WORDS, ROW_TYPES, TRUE_WORDS, ContextTables, parse_row, table_path
from piguard.interchange.events import (
    ACCEPTED_ACTIONS,
    EVENT_COLUMNS,
    LIST_COLUMNS,
    MAX_COUNT,
    AccessEvent,
    event_from_row,
)
from piguard.interchange.fhir import audit_event_entries, audit_event_to_access_event
from piguard.interchange.tabular import SUFFIXES, WHITESPACE, Row, csv_header, file_format, read_rows
from piguard.interchange.times import RFC3339_PATTERN

# Columns of the normalised events table every feature query reads.
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("user_id", pa.string()),
        ("role", pa.string()),
        ("org_id", pa.string()),
        ("terminal_id", pa.string()),
        ("session_id", pa.string()),
        ("source_ip", pa.string()),
        ("action", pa.string()),
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("subject_id", pa.string()),
        ("fields", pa.string()),
        ("purpose", pa.string()),
        ("outcome", pa.string()),
        ("reason", pa.string()),
        ("query", pa.string()),
        ("result_count", pa.int64()),
        ("result_ids", pa.string()),
        # The UTC offset the input time carried, in minutes (NULL when the input had none to give):
        # features compare UTC times; reports show times to people in the events' own offset.
        ("utc_offset", pa.int16()),
    ]
)
_TEXT = (
    "user_id",
    "role",
    "org_id",
    "terminal_id",
    "session_id",
    "source_ip",
    "action",
    "resource_type",
    "resource_id",
    "subject_id",
    "purpose",
    "reason",
    "query",
)
_REQUIRED = ("event_id", "time", "user_id", "role", "org_id", "action")
# Text is trimmed as the exact reader trims it (tabular.WHITESPACE): DuckDB's trim() keeps tabs,
# line breaks, U+0085 and U+2028/9, and trim(x, characters) costs ten times one regular expression.
_WS_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
_TRIM_PATTERN = f"^{_WS_CLASS}+|{_WS_CLASS}+$"
# Times with no UTC equivalent in years 1-9999 are refused on both paths (times.in_utc_range).
_TIME_RANGE = "TIMESTAMPTZ '0001-01-01 00:00:00+00' AND TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"


def _trim(expr: str) -> str:
    """``expr`` without leading and trailing ``WHITESPACE``, as ``str.strip(WHITESPACE)`` gives it."""
    return f"regexp_replace({expr}, '{_TRIM_PATTERN}', '', 'g')"


def _max_lengths(model: type[BaseModel]) -> dict[str, int]:
    """The ``max_length`` of each text field of ``model``: the fast path checks the same limits."""
    return {
        name: meta.max_length
        for name, info in model.model_fields.items()
        for meta in info.metadata
        if isinstance(meta, MaxLen)
    }


_EVENT_MAX_LENGTHS = _max_lengths(AccessEvent)
# An action outside these is refused by the exact reader, naming the line (never left unmonitored).
_ACTION_LIST = "(" + ", ".join(f"'{a}'" for a in ACCEPTED_ACTIONS) + ")"
_INTEGERS = ("VARCHAR", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")

# Context columns: kind is str, time or bool; required ones must be present and non-empty.
CONTEXT_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "users": {
        "user_id": ("str", True),
        "role": ("str", True),
        "org_id": ("str", True),
        "district": ("str", True),
        "home_compound": ("str", False),
        "surname": ("str", False),
        "active_from": ("time", True),
        "active_to": ("time", False),
    },
    "orgs": {"org_id": ("str", True), "org_type": ("str", True), "district": ("str", True), "name": ("str", True)},
    "subjects": {
        "subject_id": ("str", True),
        "death_time": ("time", False),
        "district": ("str", True),
        "compound": ("str", False),
        "surname": ("str", False),
        "is_canary": ("bool", False),
    },
    "relationships": {
        "user_id": ("str", True),
        "subject_id": ("str", True),
        "kind": ("str", True),
        "valid_from": ("time", True),
        "valid_to": ("time", False),
    },
    "shifts": {"user_id": ("str", True), "start": ("time", True), "end": ("time", True)},
}


# Context windows (start column, end column): an end before the start is refused by the models.
_WINDOWS = {
    "users": ("active_from", "active_to"),
    "relationships": ("valid_from", "valid_to"),
    "shifts": ("start", "end"),
}


@dataclass(frozen=True, slots=True)
class LoadStats:
    """What loading the events did: ``input_rows = events_read + events_invalid + events_before_since``."""

    events_read: int  # rows analysed
    events_invalid: int  # rows quarantined (duplicates included)
    quarantine: Path | None
    exact_reads: int = 0  # files DuckDB could not take directly, re-read row by row
    input_rows: int = 0  # every row of every input file
    events_before_since: int = 0  # valid rows earlier than ``since``, left out of this run
    duplicates: int = 0  # of ``events_invalid``: later copies of an event_id already read
    files: tuple[Path, ...] = ()  # the files read (directories expanded)
    since: datetime | None = None  # the ``--since`` the events were cut at
    empty_files: tuple[Path, ...] = ()  # files with no rows at all (among others that have some)


def connect(*, memory_limit: str | None = None, temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC with a memory cap, spilling to ``temp_dir`` when it is reached."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"SET memory_limit='{memory_limit or os.environ.get('PIGUARD_DUCKDB_MEMORY', '6GB')}'")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory='{_sql_str(str(temp_dir))}'")
    con.execute("SET preserve_insertion_order=false")
    return con


def _sql_str(value: str) -> str:
    return value.replace("'", "''")


def _scan(path: Path) -> str:
    """A DuckDB table function reading ``path`` with every column as text (lists kept as lists)."""
    fmt = file_format(path)
    quoted = _sql_str(str(path))
    if fmt == "parquet":
        return f"read_parquet('{quoted}')"
    if fmt in ("csv", "tsv"):
        delim = "\\t" if fmt == "tsv" else ","
        # A line over DuckDB's limit (2 MiB: a huge query or result list) is read by the exact
        # reader; raising the limit costs every CSV file more than the rare long line saves.
        # strict_mode: an unterminated quote must not swallow the rest of the file into one cell.
        return (
            f"read_csv('{quoted}', header=true, all_varchar=true, delim=E'{delim}', quote='\"', escape='\"', "
            "strict_mode=true)"
        )
    # Known columns are declared, so DuckDB need not sample the file; unknown fields are ignored.
    # Scalars stay JSON so that a number where the contract says string is seen (and refused by
    # the exact reader) rather than turned into text.
    layout = "newline_delimited" if fmt == "jsonl" else "array"
    return f"read_json('{quoted}', format='{layout}', columns={_JSON_COLUMNS}, ignore_errors=false)"


_JSON_COLUMNS = (
    "{" + ", ".join(f"'{name}': '{'JSON[]' if name in LIST_COLUMNS else 'JSON'}'" for name in EVENT_COLUMNS) + "}"
)


def _columns(con: duckdb.DuckDBPyConnection, scan: str) -> dict[str, str]:
    described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    return {str(row[0]): str(row[1]) for row in described}


def _names_as_read(path: Path, present: dict[str, str], known: Iterable[str]) -> bool:
    """DuckDB names every column that is, or looks like, a known one as the exact reader does.

    DuckDB matches names without regard to case and renames a second ``User_Id`` column
    (``user_id_1``), and it keeps a tab around a CSV header name that the exact reader strips:
    the real column could then be passed over as absent. Such a file goes to the exact reader.
    JSON columns are declared (``_JSON_COLUMNS``) and matched exactly, so they need no check.
    """
    fmt = file_format(path)
    if fmt in ("csv", "tsv"):
        names = csv_header(path)
    elif fmt == "parquet":
        names = list(pq.read_schema(path).names)
    else:
        return True
    described = list(present)
    if len(described) != len(names):
        return False
    lowered = {col.lower() for col in known}
    return all(
        ours == theirs
        for ours, theirs in zip(described, names, strict=True)
        if ours.strip(WHITESPACE).lower() in lowered or theirs.strip(WHITESPACE).lower() in lowered
    )


def _text(col: str, present: dict[str, str]) -> str:
    """``col`` as trimmed text, NULL when absent or blank (computed once in :func:`_prepared`)."""
    return f'"_t_{col}"' if col in present else "CAST(NULL AS VARCHAR)"


def _prepared(scan: str, present: dict[str, str], texts: Iterable[str], lists: Iterable[str] = ()) -> str:
    """The known columns of ``scan``, each text one also trimmed (``_t_<col>``), each list one joined (``_l_<col>``).

    Computed once per row here: the checks and the normalising select refer to them many times.
    Only known columns pass: an input column named ``_t_user_id`` must not stand in for the
    trimmed ``user_id`` (FORMATS.md: unknown fields are ignored).
    """
    texts, lists = tuple(texts), tuple(lists)
    known = [f'"{col}"' for col in dict.fromkeys((*texts, *lists)) if col in present]
    parts = []
    for col in texts:
        if col in present:
            value = f"\"{col}\" ->> '$'" if present[col] == "JSON" else f'CAST("{col}" AS VARCHAR)'
            parts.append(f"NULLIF({_trim(value)}, '') AS \"_t_{col}\"")
    for col in lists:
        if col in present:
            # Items trimmed, empty ones dropped, as interchange.tabular.split_list reads them.
            if present[col] == "JSON[]":
                items = f"list_transform(\"{col}\", lambda x: x ->> '$')"
            elif present[col].endswith("[]"):
                items = f'"{col}"'
            else:
                items = f"string_split(CAST(\"{col}\" AS VARCHAR), ';')"
            parts.append(
                f"array_to_string(list_filter(list_transform({items}, lambda x: {_trim('x')}), "
                f"lambda x: x <> ''), ';') AS \"_l_{col}\""
            )
    return f"(SELECT {', '.join(known + parts)} FROM {scan})" if parts else f"(SELECT NULL AS _none FROM {scan})"


def _typed(
    col: str,
    present: dict[str, str],
    json_types: tuple[str, ...] = ("VARCHAR",),
    column_types: tuple[str, ...] = ("VARCHAR",),
) -> str:
    """True where ``col`` is absent, null, or of a type the exact reader takes as it is.

    Anything else (a JSON number or a Parquet integer where the contract says string, a JSON
    fraction for a count) is left to the exact reader, which accepts it or names the row.
    """
    if col not in present:
        return "true"
    if present[col] == "JSON":
        return f"coalesce(json_type(\"{col}\"), 'NULL') IN ({', '.join(repr(t) for t in ('NULL', *json_types))})"
    return "true" if present[col] in column_types else f'"{col}" IS NULL'


def _list(col: str, present: dict[str, str]) -> str:
    """A list column as ``;a;b;`` (NULL when empty): JSON/Parquet lists or ``;``-joined text."""
    if col not in present:
        return "CAST(NULL AS VARCHAR)"
    joined = f'"_l_{col}"'
    return f"CASE WHEN coalesce({joined}, '') = '' THEN NULL ELSE ';' || {joined} || ';' END"


def _list_ok(col: str, present: dict[str, str]) -> str:
    """A list column holds strings only; any other list is left to the exact reader, which names the row.

    JSON lists are read as JSON items, so a number, boolean, list or object item is seen rather
    than turned into text (a null item is dropped on both paths); a Parquet list of strings
    passes, one of integers does not.
    """
    kind = present.get(col)
    if kind == "JSON[]":
        strings = "coalesce(json_type(x), 'NULL') IN ('VARCHAR', 'NULL')"
        return f"coalesce(list_bool_and(list_transform(\"{col}\", lambda x: {strings})), true)"
    if kind is None or kind == "VARCHAR[]" or not kind.endswith("[]"):
        return "true"
    return f'"{col}" IS NULL'


def _time(expr: str) -> str:
    return f"CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP)"


def _time_ok(expr: str, kind: str = "VARCHAR") -> str:
    """``expr`` (the text of a column of type ``kind``) is absent or a time the exact reader accepts."""
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return "true"  # a Parquet timestamp with a zone is a point in time already
    if kind not in ("VARCHAR", "JSON"):
        return f"{expr} IS NULL"  # integers, naive timestamps, dates: the exact reader names them
    parses = f"TRY_CAST({expr} AS TIMESTAMPTZ) BETWEEN {_TIME_RANGE}"
    return f"({expr} IS NULL OR (regexp_full_match({expr}, '{RFC3339_PATTERN}') AND coalesce({parses}, false)))"


# The offset at the end of an RFC 3339 time (``Z``, ``+08:00``, ``+0800``, ``+08``): one
# regular expression per row measured cheaper in DuckDB than several string functions.
_OFFSET_PATTERN = "([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
_FIXED_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})")


def fixed_offset_minutes(zone: str | None) -> int | None:
    """Minutes east of UTC of a fixed zone name (``UTC``, ``Z``, ``+08:00``); None for others."""
    if zone is None:
        return None
    if zone.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return 0
    match = _FIXED_OFFSET.fullmatch(zone)
    if match is None:
        return None
    return (-1 if match[1] == "-" else 1) * (int(match[2]) * 60 + int(match[3]))


def _offset(path: Path, text: str, kind: str) -> str:
    """The input time's UTC offset in minutes, as the exact reader gives it (``utcoffset()``)."""
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        # A Parquet timestamp with a zone holds the instant; the zone is in the column's type.
        field = pq.read_schema(path).field("time").type
        zone = getattr(field, "tz", None)
        fixed = fixed_offset_minutes(zone)
        if fixed is not None:
            return f"CAST({fixed} AS SMALLINT)"
        if zone:  # a named zone (Asia/Shanghai): its offset at each instant
            return f'CAST((epoch(timezone(\'{_sql_str(zone)}\', "time")) - epoch("time")) / 60 AS SMALLINT)'
        return "CAST(NULL AS SMALLINT)"
    if kind not in ("VARCHAR", "JSON"):
        return "CAST(NULL AS SMALLINT)"
    mark = f"replace(regexp_extract({text}, '{_OFFSET_PATTERN}', 1), ':', '')"
    return (
        f"CAST(CASE WHEN {mark} IN ('Z', 'z') THEN 0 WHEN {mark} = '' THEN NULL "
        f"ELSE (CASE WHEN left({mark}, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({mark}, 2, 2) AS INTEGER) * 60 "
        f"+ CASE WHEN length({mark}) = 5 THEN CAST(substr({mark}, 4, 2) AS INTEGER) ELSE 0 END) END "
        "AS SMALLINT)"
    )


_EVENT_TEXTS = ("event_id", "time", *_TEXT, "outcome", "result_count")
_EVENT_LISTS = ("fields", "result_subject_ids")


def _events_select(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, str, str] | None:
    """(normalising select list, per-row "is invalid" expression, source) for one events file.

    None when DuckDB names a column otherwise than the exact reader (``_names_as_read``).
    """
    scan = _scan(path)
    cols = _columns(con, scan)
    if not _names_as_read(path, cols, (*_EVENT_TEXTS, *_EVENT_LISTS)):
        return None
    source = _prepared(scan, cols, _EVENT_TEXTS, _EVENT_LISTS)
    time = _text("time", cols)
    count = "CAST(NULL AS VARCHAR)" if "result_count" not in cols else _text("result_count", cols)
    select = ", ".join(
        [
            f"{_text('event_id', cols)} AS event_id",
            f"{_time(time)} AS ts",
            *(f"{_text(c, cols)} AS {c}" for c in _TEXT[:10]),
            f"{_list('fields', cols)} AS fields",
            f"{_text('purpose', cols)} AS purpose",
            f"coalesce({_text('outcome', cols)}, 'allowed') AS outcome",
            f"{_text('reason', cols)} AS reason",
            f"{_text('query', cols)} AS query",
            f"TRY_CAST({count} AS BIGINT) AS result_count",
            f"{_list('result_subject_ids', cols)} AS result_ids",
            f"{_offset(path, time, cols.get('time', 'VARCHAR'))} AS utc_offset",
        ]
    )
    required = " OR ".join(f"{_text(c, cols)} IS NULL" for c in _REQUIRED)
    typed = " AND ".join(_typed(c, cols) for c in ("event_id", *_TEXT, "outcome"))
    too_long = " OR ".join(f"length({_text(c, cols)}) > {n}" for c, n in _EVENT_MAX_LENGTHS.items() if c in cols)
    lists = " AND ".join(_list_ok(c, cols) for c in ("fields", "result_subject_ids"))
    bad = (
        f"({required}) OR NOT ({typed}) OR NOT {_time_ok(time, cols.get('time', 'VARCHAR'))} "
        f"OR coalesce({_text('outcome', cols)}, 'allowed') NOT IN ('allowed', 'denied') "
        f"OR {_text('action', cols)} NOT IN {_ACTION_LIST} "
        f"OR NOT {_typed('result_count', cols, ('UBIGINT', 'BIGINT', 'VARCHAR'), _INTEGERS)} "
        f"OR ({count} IS NOT NULL AND NOT (regexp_full_match({count}, '[0-9]+') "
        f"AND coalesce(TRY_CAST({count} AS HUGEINT) <= {MAX_COUNT}, false))) "
        f"OR NOT ({lists})" + (f" OR {too_long}" if too_long else "")
    )
    return f"SELECT {select}", f"coalesce({bad}, true)", source


def event_files(paths: Sequence[Path]) -> list[Path]:
    """The event files ``paths`` name: files as given, directories as the files they hold.

    A directory contributes its files with a FORMATS.md suffix, sorted by name (not
    recursively); hidden files and ``_``-prefixed markers (``_SUCCESS``) are passed over. Any
    other file there is refused by name rather than left out unread, and so is a file named twice.
    """
    if not paths:
        raise InputError("no events file given")
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InterchangeError("file does not exist", where=str(path))
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(p for p in path.iterdir() if not p.name.startswith((".", "_")))
        for inner in found:
            if inner.is_dir():
                raise InterchangeError("sub-directories are not read; name them as arguments", where=str(inner))
            file_format(inner)  # refuses, by name, a file of another type
        if not found:
            raise InterchangeError(f"no event files ({', '.join(SUFFIXES)}) in this directory", where=str(path))
        files.extend(found)
    seen: dict[Path, Path] = {}
    for path in files:
        key = path.resolve()
        if key in seen:
            raise InterchangeError(f"given more than once (also as {seen[key]})", where=str(path))
        seen[key] = path
    return files


def load_events(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    *,
    since: datetime | None = None,
    skip_invalid: bool = False,
    quarantine: Path | None = None,
) -> LoadStats:
    """Create table ``events`` from ``paths`` (files or directories of them); invalid rows
    raise, or are quarantined if asked.

    An ``event_id`` read before is invalid too: the first valid row with that id (files in
    the order given, rows in file order) is kept, later ones are named or quarantined.
    """
    files = event_files(paths)
    con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
    exact = rows = 0
    quarantined: list[dict[str, Any]] = []
    empty: list[Path] = []
    for path in files:
        fast_ok = False
        total = 0
        if not _is_fhir(path):
            try:
                fast_ok, total = _load_events_fast(con, path, single=len(files) == 1)
            except duckdb.Error:
                # DuckDB could not parse it; the exact reader below names the row.
                if len(files) == 1:
                    con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
        if not fast_ok:
            exact += 1
            total, rejected = _load_events_exactly(con, path, skip_invalid=skip_invalid)
            quarantined.extend(rejected)
        rows += total
        if total == 0:
            empty.append(path)
    if rows == 0:
        # An empty log is not a clean one: nothing would be analysed, yet the report would
        # read "0 alerts, 100 % explained". Refused alike in every format (JSONL, CSV, Parquet).
        named = str(files[0]) if len(files) == 1 else f"{files[0]} and {len(files) - 1} more file(s)"
        raise InterchangeError("no event rows in the input: nothing to analyse", where=named)
    duplicates = _resolve_duplicates(con, files, skip_invalid=skip_invalid)
    quarantined.extend(duplicates)
    loaded = _count(con, "SELECT count(*) FROM events")
    if loaded + len(quarantined) != rows:
        # Every input row is either loaded or quarantined; anything else is a bug, not a result.
        raise DetectionError(f"{rows} event rows read but {loaded} loaded and {len(quarantined)} quarantined")
    before = 0
    if since is not None:
        cutoff = since.astimezone(UTC).replace(tzinfo=None)
        before = _count(con, "SELECT count(*) FROM events WHERE ts < ?", [cutoff])
        con.execute("DELETE FROM events WHERE ts < ?", [cutoff])
    written = _write_quarantine(quarantine, quarantined) if quarantined else None
    return LoadStats(
        events_read=loaded - before,
        events_invalid=len(quarantined),
        quarantine=written,
        exact_reads=exact,
        input_rows=rows,
        events_before_since=before,
        duplicates=len(duplicates),
        files=tuple(files),
        since=since,
        empty_files=tuple(empty),
    )


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchall()[0]
    return int(row[0]) if row and row[0] is not None else 0


def _load_events_fast(con: duckdb.DuckDBPyConnection, path: Path, *, single: bool) -> tuple[bool, int]:
    """DuckDB reads and checks ``path`` in one scan; (every row valid, rows) -- else nothing is kept."""
    if file_format(path) in ("csv", "tsv"):
        csv_header(path)  # a repeated column name is refused as the exact reader refuses it
    prepared = _events_select(con, path)
    if prepared is None:
        return False, 0
    select, is_invalid, source = prepared
    # Rows land in a staging table with their validity; bad rows send the whole file to the
    # exact reader. A single file becomes the events table itself (no second copy of every row).
    staged = "events" if single else "_staged"
    con.execute(f"CREATE OR REPLACE TABLE {staged} AS {select}, ({is_invalid}) AS _bad FROM {source}")
    problems, total = con.execute(f"SELECT count(*) FILTER (WHERE _bad), count(*) FROM {staged}").fetchall()[0]
    # No rows at all may be an empty JSONL file or a file that is no events file (a zero-byte
    # .json or .csv); the exact reader tells them apart, at no cost.
    ok = int(problems) == 0 and int(total) > 0
    if staged == "events":
        if ok:
            con.execute("ALTER TABLE events DROP COLUMN _bad")
        else:
            con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
    else:
        if ok:
            con.execute(f"INSERT INTO events SELECT {', '.join(EVENT_SCHEMA.names)} FROM _staged")
        con.execute("DROP TABLE _staged")
    return ok, int(total)


def _ddl(schema: pa.Schema) -> str:
    kinds = {pa.string(): "VARCHAR", pa.timestamp("us"): "TIMESTAMP", pa.int64(): "BIGINT", pa.int16(): "SMALLINT"}
    return ", ".join(f"{f.name} {kinds[f.type]}" for f in schema)


def _is_fhir(path: Path) -> bool:
    return path.name.lower().endswith(".fhir.json")


def _from_fhir(row: Row) -> AccessEvent:
    return audit_event_to_access_event(row.data["resource"], where=row.where, fallback_id=row.data.get("fullUrl"))


def _event_rows(
    path: Path, on_bad_line: Callable[[InterchangeError], None] | None = None
) -> tuple[Iterator[Row], Callable[[Row], AccessEvent]]:
    """The rows of one events file and how each becomes an event (FHIR entries are mapped)."""
    if _is_fhir(path):
        entries = (
            Row(where, {"resource": resource, "fullUrl": url}) for where, resource, url in audit_event_entries(path)
        )
        return entries, _from_fhir
    return read_rows(path, on_bad_line=on_bad_line), event_from_row


def _resolve_duplicates(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], *, skip_invalid: bool
) -> list[dict[str, Any]]:
    """Keep the first valid row of each repeated ``event_id``; name (or return) the later ones.

    Duplicated ids would make evidence ambiguous. Only when the loaded table has repeats are
    the files read again, row by row, to find which copy came first and where each is.
    """
    if _count(con, "SELECT count(*) - count(DISTINCT event_id) FROM events") == 0:
        return []
    repeated = {
        str(r[0]) for r in con.execute("SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1").fetchall()
    }
    first: dict[str, tuple[str, AccessEvent]] = {}
    later: list[dict[str, Any]] = []
    for path in files:
        rows, parse = _event_rows(path, on_bad_line=lambda _exc: None)  # bad lines: quarantined already
        for raw in rows:
            raw_id = raw.data.get("resource", {}).get("id") if _is_fhir(path) else raw.data.get("event_id")
            if isinstance(raw_id, str) and raw_id.strip(WHITESPACE) not in repeated:
                continue
            try:
                event = parse(raw)
            except InterchangeError:
                continue  # an invalid row: named or quarantined by the first read
            if event.event_id not in repeated:
                continue
            if event.event_id not in first:
                first[event.event_id] = (raw.where, event)
                continue
            reason = f"field 'event_id': duplicate of the event at {first[event.event_id][0]}"
            if not skip_invalid:
                raise InterchangeError(reason, where=raw.where)
            later.append({"where": raw.where, "reason": reason, "row": _jsonable(raw.data)})
    if len(first) != len(repeated):
        raise DetectionError("duplicate event ids could not be traced back to their rows")
    con.register("_repeated", pa.table({"event_id": pa.array(sorted(repeated), pa.string())}))
    con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM _repeated)")
    con.unregister("_repeated")
    _insert(con, [event for _, event in first.values()])
    return later


def _load_events_exactly(
    con: duckdb.DuckDBPyConnection, path: Path, *, skip_invalid: bool
) -> tuple[int, list[dict[str, Any]]]:
    """Validate row by row with the interchange reader; (rows read, the quarantined ones).

    With ``skip_invalid`` a malformed JSONL line or a CSV row with the wrong number of cells
    is quarantined (place and reason; it has no fields to keep) and reading goes on; a file
    that cannot be read at all (a broken JSON array, an unreadable Parquet file) still stops.
    """
    bad: list[dict[str, Any]] = []

    def structural(exc: InterchangeError) -> None:
        bad.append({"where": exc.where, "reason": exc.reason})

    rows, parse = _event_rows(path, on_bad_line=structural if skip_invalid else None)
    batch: list[AccessEvent] = []
    good = 0
    for raw in rows:
        try:
            batch.append(parse(raw))
        except InterchangeError as exc:
            if not skip_invalid:
                raise
            bad.append({"where": exc.where, "reason": exc.reason, "row": _jsonable(raw.data)})
            continue
        good += 1
        if len(batch) >= 50_000:
            _insert(con, batch)
            batch = []
    _insert(con, batch)
    return good + len(bad), bad


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def _joined(values: tuple[str, ...]) -> str | None:
    return ";" + ";".join(values) + ";" if values else None


def events_to_arrow(events: Iterable[AccessEvent]) -> pa.Table:
    """Validated events as an Arrow table in the normalised events schema."""
    cols: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
    for ev in events:
        cols["event_id"].append(ev.event_id)
        cols["ts"].append(ev.time.astimezone(UTC).replace(tzinfo=None))
        for name in _TEXT:
            cols[name].append(getattr(ev, name))
        cols["fields"].append(_joined(ev.fields))
        cols["outcome"].append(ev.outcome)
        cols["result_count"].append(ev.result_count)
        cols["result_ids"].append(_joined(ev.result_subject_ids))
        offset = ev.time.utcoffset()
        cols["utc_offset"].append(None if offset is None else int(offset.total_seconds() // 60))
    return pa.table(cols, schema=EVENT_SCHEMA)


def _insert(con: duckdb.DuckDBPyConnection, batch: list[AccessEvent]) -> None:
    if not batch:
        return
    table = events_to_arrow(batch)
    con.register("_batch", table)
    con.execute("INSERT INTO events SELECT * FROM _batch")
    con.unregister("_batch")


def load_event_objects(con: duckdb.DuckDBPyConnection, events: Iterable[AccessEvent]) -> int:
    """Create table ``events`` from already validated objects (library and tests)."""
    con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
    batch: list[AccessEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) >= 50_000:
            _insert(con, batch)
            batch = []
    _insert(con, batch)
    row = con.execute("SELECT count(*) FROM events").fetchall()[0]
    return int(row[0]) if row else 0


def _write_quarantine(path: Path | None, rows: list[dict[str, Any]]) -> Path:
    if path is None:
        raise DetectionError("invalid rows were skipped but no quarantine file was given")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The quarantine holds record data (so the rows can be fixed); it is private to the owner.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def load_context(con: duckdb.DuckDBPyConnection, directory: Path) -> frozenset[str]:
    """Create the context tables from ``directory`` (absent ones empty); returns those present."""
    if not directory.is_dir():
        raise InterchangeError("context directory does not exist", where=str(directory))
    present: set[str] = set()
    for name, spec in CONTEXT_COLUMNS.items():
        path = table_path(directory, name)
        if path is None:
            if name == "users":
                raise InterchangeError(
                    "the users table is required (users.csv, users.parquet, ...)", where=str(directory)
                )
            con.execute(f"CREATE OR REPLACE TABLE ctx_{name} ({_context_ddl(spec)})")
            continue
        present.add(name)
        _load_context_table(con, name, path, spec)
    return frozenset(present)


def _words(words: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"


def _context_ddl(spec: dict[str, tuple[str, bool]]) -> str:
    kinds = {"str": "VARCHAR", "time": "TIMESTAMP", "bool": "INTEGER"}
    return ", ".join(f'"{col}" {kinds[kind]}' for col, (kind, _) in spec.items())


def _load_context_table(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, spec: dict[str, tuple[str, bool]]
) -> None:
    if file_format(path) in ("csv", "tsv"):
        csv_header(path)  # a repeated column name is refused as the exact reader refuses it
    try:
        if _load_context_fast(con, name, path, spec):
            return
    except duckdb.Error:
        pass  # fall through to the exact reader, which names the file, line and field
    # The exact reader raises on the first bad row, naming file, line and field; if it accepts
    # everything (an unusual but valid time form DuckDB rejected), its rows are used.
    model = ROW_TYPES[name]
    _insert_context(con, name, [parse_row(model, raw).to_record() for raw in read_rows(path)])


def _load_context_fast(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, spec: dict[str, tuple[str, bool]]
) -> bool:
    """DuckDB reads and checks one context table; False (nothing kept) leaves it to the exact reader."""
    scan = _scan(path)
    cols = _columns(con, scan)
    if not _names_as_read(path, cols, spec):
        return False
    source = _prepared(scan, cols, spec)
    exprs: list[str] = []
    checks: list[str] = []
    lengths = _max_lengths(ROW_TYPES[name])
    for col, (kind, required) in spec.items():
        text = _text(col, cols)
        if required:
            checks.append(f"{text} IS NULL")
        if kind == "time":
            exprs.append(f'{_time(text)} AS "{col}"')
            checks.append(f"NOT {_time_ok(text, cols.get(col, 'VARCHAR'))}")
        elif kind == "bool":
            # The words SubjectRow accepts (interchange.context); blank or absent is false.
            exprs.append(f'CASE WHEN lower({text}) IN {_words(TRUE_WORDS)} THEN 1 ELSE 0 END AS "{col}"')
            checks.append(f"coalesce(lower({text}), '0') NOT IN {_words(TRUE_WORDS + FALSE_WORDS)}")
        else:
            exprs.append(f'{text} AS "{col}"')
            # A number where the contract says text is the exact reader's to name.
            checks.append(f"NOT {_typed(col, cols)}")
            if col in lengths:
                checks.append(f"length({text}) > {lengths[col]}")
    if name in _WINDOWS:
        start, end = _WINDOWS[name]
        checks.append(f"{_time(_text(end, cols))} < {_time(_text(start, cols))}")
    if name == "orgs":
        checks.append(
            f"{_text('org_type', cols)} NOT IN ('hospital', 'emergency_center', 'cdc', 'police', "
            "'funeral_home', 'civil_affairs', 'health_commission')"
        )
    bad, total = con.execute(
        f"SELECT count(*) FILTER (WHERE {' OR '.join(checks)}), count(*) FROM {source}"
    ).fetchall()[0]
    # No rows may be a header-only table or a 0-byte file (which DuckDB reads as one empty
    # column): the exact reader tells them apart and refuses the latter, as ``trace`` does.
    if int(bad) > 0 or int(total) == 0:
        return False
    con.execute(f"CREATE OR REPLACE TABLE ctx_{name} AS SELECT {', '.join(exprs)} FROM {source}")
    return True


def load_context_objects(con: duckdb.DuckDBPyConnection, tables: ContextTables) -> frozenset[str]:
    """Create the context tables from already validated rows (library and tests)."""
    for name in CONTEXT_COLUMNS:
        _insert_context(con, name, [row.to_record() for row in getattr(tables, name)])
    return tables.present or frozenset(n for n in CONTEXT_COLUMNS if getattr(tables, n))


def _insert_context(con: duckdb.DuckDBPyConnection, name: str, records: list[dict[str, Any]]) -> None:
    spec = CONTEXT_COLUMNS[name]
    table = pa.Table.from_pylist(records) if records else None
    con.execute(f"CREATE OR REPLACE TABLE ctx_{name} ({_context_ddl(spec)})")
    if table is not None:
        con.register("_ctx", table)
        exprs = []
        for col, (kind, _) in spec.items():
            if kind == "time":
                exprs.append(_time(f'CAST("{col}" AS VARCHAR)'))
            elif kind == "bool":
                exprs.append(f'CAST("{col}" AS INTEGER)')
            else:
                exprs.append(f'CAST("{col}" AS VARCHAR)')
        con.execute(f"INSERT INTO ctx_{name} SELECT {', '.join(exprs)} FROM _ctx")
        con.unregister("_ctx")
