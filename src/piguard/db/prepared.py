"""Core statements compiled once per dialect and run on the DBAPI cursor of the session's transaction.

The guarded read issues a handful of small indexed statements per request. SQLAlchemy's
per-execution machinery (execution context, cache key, result metadata) costs about ten times
what SQLite needs to answer them, so the hot path compiles each statement once with SQLAlchemy
(the SQL stays portable and typed) and runs the compiled text on the driver's cursor, applying
the same bind and result processors SQLAlchemy would (``UTCDateTime`` included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter order for positional paramstyles, None for named
    constants: dict[str, Any]  # values bound when the statement was built (literals in where clauses)
    binders: dict[str, Processor]
    readers: tuple[Processor, ...]


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    named = {compiled.bind_names[bind]: bind for bind in compiled.binds.values()}
    binders = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in named.items()}
    readers = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in getattr(statement, "selected_columns", ())
    )
    constants = {name: bind.value for name, bind in named.items() if not bind.required and bind.callable is None}
    order = tuple(compiled.positiontup) if compiled.positional else None
    return _Compiled(compiled.string, order, constants, binders, readers)


class Prepared:
    """A Core SELECT (or RETURNING statement) prepared for repeated execution on the hot path."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        self.names = tuple(column.key for column in getattr(statement, "selected_columns", ()))

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run with ``params`` in the session's transaction (pending ORM changes flushed first)."""
        session.flush()  # the ORM's autoflush guarantee: the read sees this transaction's writes
        connection = connection_of(session)
        compiled = self._compiled(connection.dialect)
        values = {**compiled.constants, **params}
        for name, binder in compiled.binders.items():
            if binder is not None and name in values:
                values[name] = binder(values[name])
        bound: Sequence[Any] | Mapping[str, Any] = (
            values if compiled.order is None else tuple(values[name] for name in compiled.order)
        )
        raw = driver_rows(connection, compiled.sql, bound)
        readers = compiled.readers
        if not any(readers):
            return [tuple(row) for row in raw]
        return [
            tuple(value if read is None else read(value) for value, read in zip(row, readers, strict=True))
            for row in raw
        ]

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _compile(self._statement, dialect)
        return compiled


_CONNECTION_INFO_KEY = "piguard.transaction_connection"


def connection_of(db: Session | Connection) -> Connection:
    """The connection of a session's transaction (or the connection itself).

    Remembered per transaction in ``session.info``: ``Session.connection()`` walks the
    transaction state on every call, and the hot path asks several times per request. The key
    is the innermost transaction, savepoints included: asking the session for the connection of
    a new savepoint is what emits its SAVEPOINT, so a savepoint must never reuse the entry of
    the transaction around it. Holding the transaction object keeps its identity from being
    reused.
    """
    if isinstance(db, Connection):
        return db
    remembered = db.info.get(_CONNECTION_INFO_KEY)
    current = db.get_nested_transaction() or db.get_transaction()
    if remembered is not None and current is not None and remembered[0] is current:
        connection: Connection = remembered[1]
        return connection
    connection = db.connection()
    db.info[_CONNECTION_INFO_KEY] = (db.get_nested_transaction() or db.get_transaction(), connection)
    return connection


@contextmanager
def _driver_cursor(db: Session | Connection, sql: str, params: Any) -> Iterator[Any]:
    """A DBAPI cursor of the transaction; driver errors become SQLAlchemy's ``DBAPIError``.

    Parameters are hidden in the error, since they may hold record data.
    """
    connection = connection_of(db)
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, params, exc, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
        ) from exc
    finally:
        cursor.close()


def driver_rows(db: Session | Connection, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
    """Run SQL text on the DBAPI cursor of the transaction; the rows, if it returns any."""
    with _driver_cursor(db, sql, params) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []


def driver_executemany(db: Session | Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` on the DBAPI cursor of the transaction (values already plain)."""
    with _driver_cursor(db, sql, rows) as cursor:
        cursor.executemany(sql, rows)
