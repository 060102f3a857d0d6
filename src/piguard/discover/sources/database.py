"""Database tables by SQLAlchemy URL (SQLite, PostgreSQL, ...), sampled in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    MetaData,
    Table,
    create_engine,
    func,
    inspect,
    select,
    type_coerce,
    types,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from piguard.discover.sources.base import ColumnSample, Skipped, TableSample, value_texts
from piguard.errors import DiscoveryError, InputError

CONNECT_TIMEOUT_SECONDS = 10
# Query parameters that carry a secret (libpq and most drivers accept ``?password=``).
_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "sslpassword", "sslkey_password", "token", "secret"})


def display_url(url: str) -> str:
    """The URL as reports show it: the password is never printed, in the URL or its query."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<invalid database URL>"
    hidden = {key: "***" for key in parsed.query if key.lower() in _SECRET_PARAMS}
    shown = parsed.update_query_dict(hidden).render_as_string(hide_password=True)
    return shown.replace("=%2A%2A%2A", "=***")  # the query is percent-encoded


def _secrets(url: str) -> list[str]:
    """The secrets in ``url`` (password, secret query values), to keep out of messages."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return []
    found = [str(parsed.password)] if parsed.password else []
    for key, value in parsed.query.items():
        if key.lower() in _SECRET_PARAMS:
            found.extend([value] if isinstance(value, str) else list(value))
    return [secret for secret in found if secret]


def connect_reason(exc: SQLAlchemyError, url: str) -> str:
    """Why a connection failed, from the driver's first line ("database "x" does not exist").

    The class name alone does not tell a wrong password from a wrong host. The driver's
    connection message names the host, port, user or database, never a row; any secret of
    the URL is blanked all the same.
    """
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    # psycopg: 'connection failed: connection to server at "h", port 5432 failed: FATAL:  <reason>'
    reason = lines[0].rpartition(" failed: ")[2] if " failed: " in lines[0] else lines[0]
    reason = " ".join(reason.removeprefix("FATAL:").split())
    for secret in _secrets(url):
        reason = reason.replace(secret, "***")
    return f"{reason[:200]}; {type(exc).__name__}"


# Quoted text and byte values in a driver's message may be row data: SQLite's "Could not decode to
# UTF-8 column 'c' with text '…'", PostgreSQL's "character with byte sequence 0xe5 0xbc …".
_QUOTED = re.compile(r"'[^']*'?")
_BYTES = re.compile(r"0x[0-9A-Fa-f]+(?:\s+0x[0-9A-Fa-f]+)*")


def read_reason(exc: SQLAlchemyError, url: str) -> str:
    """Why a table could not be read, from the database's first line (``permission denied for
    table numt``), with any secret of the URL and anything that could be row data blanked."""
    orig = getattr(exc, "orig", None) or exc
    # The first line is the database's message; DETAIL lines and SQLAlchemy's own text after it
    # ([SQL: …], [parameters: …]) may hold values.
    first = next((line.strip() for line in str(orig).splitlines() if line.strip()), "")
    reason = " ".join(first.removeprefix("ERROR:").split())
    reason = _BYTES.sub("0x…", _QUOTED.sub("'…'", reason))
    for secret in _secrets(url):
        reason = reason.replace(secret, "***")
    return f"{reason[:200]}; {type(exc).__name__}" if reason else type(exc).__name__


def open_database(url: str) -> Engine:
    """An engine for ``url``; raises ``InputError`` for a malformed URL or missing driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError("not a valid SQLAlchemy database URL", where="--db") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not str(parsed.database).startswith("file:"):
            if not path.is_file():
                # SQLite would create an empty file and report no tables: say what is wrong.
                raise InputError(f"no such SQLite database file: {path}", where="--db")
            # Read-only: a scan never creates or changes the database it looks at.
            # As an SQLite URI, the path percent-encoded ("#" or "?" in a folder name).
            parsed = URL.create(
                "sqlite", database=f"file:{quote(str(path.resolve()), safe='/')}", query={"mode": "ro", "uri": "true"}
            )
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # An unreachable host would otherwise hang the scan until the operating system gives up.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise InputError(f"no database driver for this URL ({type(exc).__name__})", where="--db") from None


def sample_database(url: str, *, tables: Sequence[str] | None = None, sample: int) -> Iterator[TableSample | Skipped]:
    """A random row sample of each table (all tables of the default schema unless named).

    ``tables`` may be ``name`` or ``schema.name``. A table that cannot be read is yielded as
    a ``Skipped`` error and the others are still sampled.
    """
    engine = open_database(url)
    source = display_url(url)
    try:
        try:
            inspector = inspect(engine)
            names = list(tables) if tables else sorted(inspector.get_table_names())
        except SQLAlchemyError as exc:
            raise DiscoveryError(f"cannot connect to {source} ({connect_reason(exc, url)})") from None
        for qualified in names:
            schema, _, name = qualified.rpartition(".")
            try:
                yield _sample_table(engine, schema or None, name, source=source, sample=sample)
            except NoSuchTableError:
                yield Skipped(f"{source} {qualified}", "no such table", error=True)
            except SQLAlchemyError as exc:
                yield Skipped(f"{source} {qualified}", f"cannot read table ({read_reason(exc, url)})", error=True)
    finally:
        engine.dispose()


def _sample_table(engine: Engine, schema: str | None, name: str, *, source: str, sample: int) -> TableSample:
    table = Table(name, MetaData(), schema=schema, autoload_with=engine)
    comments = {col["name"]: col.get("comment") for col in inspect(engine).get_columns(name, schema=schema)}
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(table)).scalar_one()
        query = select(*(_as_stored(column) for column in table.columns))
        if total > sample:
            # random() exists in SQLite and PostgreSQL alike; a full scan, but one query.
            query = query.order_by(func.random())
        rows = conn.execute(query.limit(sample)).all()
    columns: list[ColumnSample] = []
    for index, column in enumerate(table.columns):
        # An array's items are values of their own (a text[] of phone numbers).
        values = [text for row in rows for text in value_texts(row[index])]
        columns.append(
            ColumnSample(
                name=column.name,
                dtype=sql_dtype(column.type),
                comment=comments.get(column.name) or None,
                values=values,
            )
        )
    label = f"{schema}.{name}" if schema else name
    return TableSample(source=source, table=label, columns=columns, rows_sampled=len(rows), rows_total=int(total))


def _as_stored(column: Column[Any]) -> ColumnElement[Any]:
    """``column`` as the driver returns it for an exact number type: SQLAlchemy would turn
    SQLite's numbers into Decimals through a float, losing the last digits of an 18-digit ID
    (310112194001100006 read as 310112194001100032)."""
    if isinstance(column.type, types.Numeric) and not isinstance(column.type, types.Float):
        return type_coerce(column, types.NullType()).label(column.name)
    return column


def sql_dtype(sql_type: Any) -> str:
    """The normalised data type of an SQLAlchemy column type (an array's is its items')."""
    if isinstance(sql_type, types.ARRAY):
        return sql_dtype(sql_type.item_type)
    if isinstance(sql_type, types.Numeric) and not isinstance(sql_type, types.Float):
        # numeric(11,0), numeric(18): exact integers, every digit of a phone number or an ID
        # kept; numeric(12,2) or numeric: exact decimals. Neither loses digits as a float does.
        return "integer" if sql_type.scale == 0 else "decimal"
    checks: tuple[tuple[type[Any], str], ...] = (
        (types.Boolean, "boolean"),
        (types.Integer, "integer"),
        (types.Float, "float"),
        (types.DateTime, "datetime"),
        (types.Date, "date"),
        (types.LargeBinary, "binary"),
        (types.JSON, "json"),
        (types.String, "text"),
    )
    for kind, name in checks:
        if isinstance(sql_type, kind):
            return name
    return "unknown"
