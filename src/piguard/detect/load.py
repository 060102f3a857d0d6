"""Load events (FORMATS.md §1) and context tables (§2) into DuckDB, validated.

Fast path: DuckDB reads the files itself (out-of-core, vectorised) and checks every row
with SQL. If any row fails those checks, or DuckDB cannot parse the file, the project's one
reader (``interchange``) re-reads it so the error names the exact file, line and reason;
with ``skip_invalid`` the bad rows go to a quarantine file and are counted, never dropped
silently. Everything downstream sees normalised tables: times as UTC ``TIMESTAMP``, list
columns as ``;``-joined strings with bounding separators (``;a;b;``) so that membership is a
plain ``LIKE`` every SQL engine understands.
"""

# ruff: noqa: S608  (SQL is assembled from constants and quote-escaped file paths)

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from piguard.errors import DetectionError, InputError, InterchangeError
from piguard.interchange.context import ROW_TYPES, ContextTables, parse_row, table_path
from piguard.interchange.events import AccessEvent, event_from_row
from piguard.interchange.tabular import Row, file_format, read_rows
from piguard.interchange.times import RFC3339_PATTERN

# Columns of the normalised events table every feature query reads.
EVENT_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("ts", pa.timestamp("us")), ("user_id", pa.string()),
    ("role", pa.string()), ("org_id", pa.string()), ("terminal_id", pa.string()),
    ("session_id", pa.string()), ("source_ip", pa.string()), ("action", pa.string()),
    ("resource_type", pa.string()), ("resource_id", pa.string()), ("subject_id", pa.string()),
    ("fields", pa.string()), ("purpose", pa.string()), ("outcome", pa.string()),
    ("reason", pa.string()), ("query", pa.string()), ("result_count", pa.int64()),
    ("result_ids", pa.string()),
])
_TEXT = ("user_id", "role", "org_id", "terminal_id", "session_id", "source_ip", "action",
         "resource_type", "resource_id", "subject_id", "purpose", "reason", "query")
_REQUIRED = ("event_id", "time", "user_id", "role", "org_id", "action")
_INTEGERS = ("VARCHAR", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")

# Context columns: kind is str, time or bool; required ones must be present and non-empty.
CONTEXT_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "users": {"user_id": ("str", True), "role": ("str", True), "org_id": ("str", True),
              "district": ("str", True), "home_compound": ("str", False),
              "surname": ("str", False), "active_from": ("time", True), "active_to": ("time", False)},
    "orgs": {"org_id": ("str", True), "org_type": ("str", True), "district": ("str", True),
             "name": ("str", True)},
    "subjects": {"subject_id": ("str", True), "death_time": ("time", False), "district": ("str", True),
                 "compound": ("str", False), "surname": ("str", False), "is_canary": ("bool", False)},
    "relationships": {"user_id": ("str", True), "subject_id": ("str", True), "kind": ("str", True),
                      "valid_from": ("time", True), "valid_to": ("time", False)},
    "shifts": {"user_id": ("str", True), "start": ("time", True), "end": ("time", True)},
}


# Context windows (start column, end column): an end before the start is refused by the models.
_WINDOWS = {"users": ("active_from", "active_to"), "relationships": ("valid_from", "valid_to"),
            "shifts": ("start", "end")}


@dataclass(frozen=True, slots=True)
class LoadStats:
    """What loading the events did."""

    events_read: int
    events_invalid: int
    quarantine: Path | None
    exact_reads: int = 0  # files DuckDB could not take directly, re-read row by row


def connect(
    *, memory_limit: str | None = None, temp_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
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
        return f"read_csv('{quoted}', header=true, all_varchar=true, delim=E'{delim}', quote='\"', escape='\"')"
    # Known columns are declared, so DuckDB need not sample the file; unknown fields are ignored.
    # Scalars stay JSON so that a number where the contract says string is seen (and refused by
    # the exact reader) rather than turned into text.
    layout = "newline_delimited" if fmt == "jsonl" else "array"
    return f"read_json('{quoted}', format='{layout}', columns={_JSON_COLUMNS}, ignore_errors=false)"


_JSON_COLUMNS = "{" + ", ".join(
    f"'{name}': '{'VARCHAR[]' if name in ('fields', 'result_subject_ids') else 'JSON'}'"
    for name in ("event_id", "time", "user_id", "role", "org_id", "terminal_id", "session_id", "source_ip",
                 "action", "resource_type", "resource_id", "subject_id", "fields", "purpose", "outcome",
                 "reason", "query", "result_count", "result_subject_ids")
) + "}"


def _columns(con: duckdb.DuckDBPyConnection, scan: str) -> dict[str, str]:
    described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    return {str(row[0]): str(row[1]) for row in described}


def _text(col: str, present: dict[str, str]) -> str:
    """``col`` as trimmed text, NULL when absent or blank."""
    if col not in present:
        return "CAST(NULL AS VARCHAR)"
    if present[col] == "JSON":
        return f"NULLIF(trim(\"{col}\" ->> '$'), '')"
    return f"NULLIF(trim(CAST(\"{col}\" AS VARCHAR)), '')"


def _typed(col: str, present: dict[str, str], json_types: tuple[str, ...] = ("VARCHAR",),
           column_types: tuple[str, ...] = ("VARCHAR",)) -> str:
    """True where ``col`` is absent, null, or of a type the exact reader takes as it is.

    Anything else (a JSON number or a Parquet integer where the contract says string, a JSON
    fraction for a count) is left to the exact reader, which accepts it or names the row.
    """
    if col not in present:
        return "true"
    if present[col] == "JSON":
        return f"coalesce(json_type(\"{col}\"), 'NULL') IN ({', '.join(repr(t) for t in ('NULL', *json_types))})"
    return "true" if present[col] in column_types else f"\"{col}\" IS NULL"


def _list(col: str, present: dict[str, str]) -> str:
    """A list column as ``;a;b;`` (NULL when empty): JSON/Parquet lists or ``;``-joined text."""
    if col not in present:
        return "CAST(NULL AS VARCHAR)"
    # Items trimmed, empty ones dropped, as interchange.tabular.split_list reads them.
    items = f"\"{col}\"" if present[col].endswith("[]") else f"string_split(CAST(\"{col}\" AS VARCHAR), ';')"
    joined = f"array_to_string(list_filter(list_transform({items}, lambda x: trim(x)), lambda x: x <> ''), ';')"
    return f"CASE WHEN coalesce({joined}, '') = '' THEN NULL ELSE ';' || {joined} || ';' END"


def _time(expr: str) -> str:
    return f"CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP)"


def _time_ok(expr: str, kind: str = "VARCHAR") -> str:
    """``expr`` (the text of a column of type ``kind``) is absent or a time the exact reader accepts."""
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return "true"  # a Parquet timestamp with a zone is a point in time already
    if kind not in ("VARCHAR", "JSON"):
        return f"{expr} IS NULL"  # integers, naive timestamps, dates: the exact reader names them
    parses = f"TRY_CAST({expr} AS TIMESTAMPTZ) IS NOT NULL"
    return f"({expr} IS NULL OR (regexp_full_match({expr}, '{RFC3339_PATTERN}') AND {parses}))"


def _events_select(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, str]:
    """(normalising select list, per-row "is invalid" expression) for one events file."""
    scan = _scan(path)
    cols = _columns(con, scan)
    time = _text("time", cols)
    count = "CAST(NULL AS VARCHAR)" if "result_count" not in cols else _text("result_count", cols)
    select = ", ".join([
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
    ])
    required = " OR ".join(f"{_text(c, cols)} IS NULL" for c in _REQUIRED)
    typed = " AND ".join(_typed(c, cols) for c in ("event_id", *_TEXT, "outcome"))
    bad = (
        f"({required}) OR NOT ({typed}) OR NOT {_time_ok(time, cols.get('time', 'VARCHAR'))} "
        f"OR coalesce({_text('outcome', cols)}, 'allowed') NOT IN ('allowed', 'denied') "
        f"OR NOT {_typed('result_count', cols, ('UBIGINT', 'BIGINT', 'VARCHAR'), _INTEGERS)} "
        f"OR ({count} IS NOT NULL AND NOT regexp_full_match({count}, '[0-9]+'))"
    )
    return f"SELECT {select}", f"coalesce({bad}, true)"


def load_events(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    *,
    since: datetime | None = None,
    skip_invalid: bool = False,
    quarantine: Path | None = None,
) -> LoadStats:
    """Create table ``events`` from ``paths``; invalid rows raise, or are quarantined if asked."""
    if not paths:
        raise InputError("no events file given")
    con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
    invalid = exact = 0
    quarantined: list[dict[str, Any]] = []
    for path in paths:
        if not path.exists():
            raise InterchangeError("file does not exist", where=str(path))
        if path.name.lower().endswith(".fhir.json"):
            # FHIR R4 AuditEvent bundles go through the documented mapping (interchange.fhir).
            from piguard.interchange.fhir import read_fhir_bundle

            _insert(con, list(read_fhir_bundle(path)))
            continue
        fast_ok = False
        try:
            # One scan: rows land in a staging table with their validity; bad rows send the
            # whole file to the exact reader.
            select, is_invalid = _events_select(con, path)
            # A single file becomes the events table itself (no second copy of every row).
            staged = "events" if len(paths) == 1 else "_staged"
            con.execute(f"CREATE OR REPLACE TABLE {staged} AS {select}, ({is_invalid}) AS _bad FROM {_scan(path)}")
            problems, total = con.execute(f"SELECT count(*) FILTER (WHERE _bad), count(*) FROM {staged}").fetchall()[0]
            # No rows at all may be an empty JSONL file or a file that is no events file (a
            # zero-byte .json or .csv); the exact reader tells them apart, at no cost.
            fast_ok = int(problems) == 0 and int(total) > 0
            if staged == "events":
                if fast_ok:
                    con.execute("ALTER TABLE events DROP COLUMN _bad")
                else:
                    con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
            else:
                if fast_ok:
                    con.execute(f"INSERT INTO events SELECT {', '.join(EVENT_SCHEMA.names)} FROM _staged")
                con.execute("DROP TABLE _staged")
        except duckdb.Error:
            # DuckDB could not parse it; the exact reader below names the row.
            fast_ok = False
            if len(paths) == 1:
                con.execute(f"CREATE OR REPLACE TABLE events ({_ddl(EVENT_SCHEMA)})")
        if not fast_ok:
            exact += 1
            rejected = _load_events_exactly(con, path, skip_invalid=skip_invalid)
            invalid += len(rejected)
            quarantined.extend(rejected)
    _check_unique(con, paths)
    if since is not None:
        cutoff = since.astimezone(UTC).replace(tzinfo=None)
        con.execute("DELETE FROM events WHERE ts < ?", [cutoff])
    row = con.execute("SELECT count(*) FROM events").fetchall()[0]
    written = _write_quarantine(quarantine, quarantined) if quarantined else None
    return LoadStats(events_read=int(row[0]) if row else 0, events_invalid=invalid, quarantine=written,
                     exact_reads=exact)


def _ddl(schema: pa.Schema) -> str:
    kinds = {pa.string(): "VARCHAR", pa.timestamp("us"): "TIMESTAMP", pa.int64(): "BIGINT"}
    return ", ".join(f"{f.name} {kinds[f.type]}" for f in schema)


def _check_unique(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    row = con.execute("SELECT count(*) - count(DISTINCT event_id) FROM events").fetchall()[0]
    if row and int(row[0]) > 0:
        # Duplicated ids would make evidence ambiguous; name the first repeat exactly.
        seen: set[str] = set()
        for path in paths:
            for where, event_id in _ids(path):
                if event_id in seen:
                    raise InterchangeError("field 'event_id': duplicate of an earlier event", where=where)
                seen.add(event_id)
        raise InterchangeError("duplicate event ids across the input files")


def _ids(path: Path) -> Iterator[tuple[str, str]]:
    if path.name.lower().endswith(".fhir.json"):
        from piguard.interchange.fhir import read_fhir_bundle

        for number, event in enumerate(read_fhir_bundle(path)):
            yield f"{path}#event[{number}]", event.event_id
        return
    for raw in read_rows(path):
        yield raw.where, str(raw.data.get("event_id", "")).strip()


def _load_events_exactly(con: duckdb.DuckDBPyConnection, path: Path, *, skip_invalid: bool) -> list[dict[str, Any]]:
    """Validate row by row with the interchange reader; returns the quarantined rows."""
    bad: list[dict[str, Any]] = []
    batch: list[AccessEvent] = []
    rows = read_rows(path)
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except InterchangeError as exc:
            # A structural error (bad JSON line, wrong column count) ends a CSV/JSON array read;
            # JSONL readers continue line by line, so only JSONL can skip it.
            if not skip_invalid or file_format(path) != "jsonl":
                raise
            bad.append({"where": exc.where, "reason": exc.reason})
            rows = _resume_jsonl(path, exc.where)
            continue
        try:
            batch.append(event_from_row(raw))
        except InterchangeError as exc:
            if not skip_invalid:
                raise
            bad.append({"where": exc.where, "reason": exc.reason, "row": _jsonable(raw.data)})
            continue
        if len(batch) >= 50_000:
            _insert(con, batch)
            batch = []
    _insert(con, batch)
    return bad


def _resume_jsonl(path: Path, where: str | None) -> Iterator[Row]:
    """Rows after the malformed line ``where``; later malformed lines are raised the same way.

    ``interchange.tabular`` stops at a malformed JSONL line, which is right for every other
    caller; quarantining must go on, so the remaining lines are parsed here with the same
    messages (one object per line, as FORMATS.md §1 defines JSONL).
    """
    import gzip
    import io

    skip = int(str(where).rsplit(":", 1)[-1]) if where else 0
    raw = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")  # noqa: SIM115 (closed by the with below)
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if number <= skip or not line.strip():
                continue
            here = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InterchangeError(f"invalid JSON ({exc.msg})", where=here) from None
            if not isinstance(obj, dict):
                raise InterchangeError("expected a JSON object", where=here)
            yield Row(here, obj)


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
                raise InterchangeError("the users table is required (users.csv, users.parquet, ...)",
                                       where=str(directory))
            con.execute(f"CREATE OR REPLACE TABLE ctx_{name} ({_context_ddl(spec)})")
            continue
        present.add(name)
        _load_context_table(con, name, path, spec)
    return frozenset(present)


def _context_ddl(spec: dict[str, tuple[str, bool]]) -> str:
    kinds = {"str": "VARCHAR", "time": "TIMESTAMP", "bool": "INTEGER"}
    return ", ".join(f"\"{col}\" {kinds[kind]}" for col, (kind, _) in spec.items())


def _load_context_table(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                        spec: dict[str, tuple[str, bool]]) -> None:
    try:
        scan = _scan(path)
        cols = _columns(con, scan)
        exprs: list[str] = []
        checks: list[str] = []
        for col, (kind, required) in spec.items():
            text = _text(col, cols)
            if required:
                checks.append(f"{text} IS NULL")
            if kind == "time":
                exprs.append(f"{_time(text)} AS \"{col}\"")
                checks.append(f"NOT {_time_ok(text, cols.get(col, 'VARCHAR'))}")
            elif kind == "bool":
                exprs.append(f"CASE WHEN lower({text}) IN ('1', 'true') THEN 1 ELSE 0 END AS \"{col}\"")
                checks.append(f"coalesce(lower({text}), '0') NOT IN ('0', '1', 'true', 'false')")
            else:
                exprs.append(f"{text} AS \"{col}\"")
        if name in _WINDOWS:
            start, end = _WINDOWS[name]
            checks.append(f"{_time(_text(end, cols))} < {_time(_text(start, cols))}")
        if name == "orgs":
            checks.append(f"{_text('org_type', cols)} NOT IN ('hospital', 'emergency_center', 'cdc', 'police', "
                          "'funeral_home', 'civil_affairs', 'health_commission')")
        row = con.execute(f"SELECT count(*) FROM {scan} WHERE {' OR '.join(checks)}").fetchall()[0]
        if row is not None and int(row[0]) == 0:
            con.execute(f"CREATE OR REPLACE TABLE ctx_{name} AS SELECT {', '.join(exprs)} FROM {scan}")
            return
    except duckdb.Error:
        pass  # fall through to the exact reader, which names the file, line and field
    model = ROW_TYPES[name]
    # The exact reader raises on the first bad row, naming file, line and field; if it accepts
    # everything (an unusual but valid time form DuckDB rejected), its rows are used.
    _insert_context(con, name, [parse_row(model, raw).to_record() for raw in read_rows(path)])


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
                exprs.append(_time(f"CAST(\"{col}\" AS VARCHAR)"))
            elif kind == "bool":
                exprs.append(f"CAST(\"{col}\" AS INTEGER)")
            else:
                exprs.append(f"CAST(\"{col}\" AS VARCHAR)")
        con.execute(f"INSERT INTO ctx_{name} SELECT {', '.join(exprs)} FROM _ctx")
        con.unregister("_ctx")
