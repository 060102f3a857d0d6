"""Storage of the ledger behind a narrow interface (SQLAlchemy Core; SQLite and PostgreSQL).

Appends lock the single ``ledger_head`` row first: on PostgreSQL the UPDATE holds a row lock
until the caller's transaction ends; on SQLite the first write takes the database write lock
(waiting up to ``busy_timeout``). Either way appends are serialised, so indexes stay gapless
and two writers can never extend the same tree size twice (no fork).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.orm import Session

from piguard.db.prepared import connection_of, driver_executemany, driver_rows
from piguard.errors import LedgerError, TamperError
from piguard.ledger.merkle import CompactRange, NodeId
from piguard.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode

HEAD_ID = 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ENTRIES: Table = LedgerEntry.__table__  # type: ignore[assignment]
NODES: Table = LedgerNode.__table__  # type: ignore[assignment]
HEAD: Table = LedgerHead.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = LedgerCheckpoint.__table__  # type: ignore[assignment]
# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
MAX_IN = 500


@dataclass
class Head:
    """The locked head: the tree's compact range and when it was last checkpointed."""

    range: CompactRange
    checkpoint_size: int
    checkpoint_time: datetime | None


def _dialect(db: Session | Connection) -> str:
    return connection_of(db).dialect.name


def _insert_ignore(session: Session | Connection, table: Table, values: dict[str, Any]) -> None:
    if _dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())


def as_bytes(value: Any) -> bytes:
    """A BLOB column's value as bytes, whatever type SQLite kept (see ``_blob``)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "surrogateescape")  # what SQLite's CAST(... AS BLOB) gives


def _blob(db: Session | Connection, column: str) -> str:
    """Select a BLOB column so that it always comes back as bytes.

    SQLite returns a value with the type it was stored with, and an edit with its text functions
    (``replace()``, ``hex()``, a quoted literal in its shell) stores TEXT in a BLOB column: the
    readers would crash on it instead of naming the tampered row. PostgreSQL's bytea is typed.
    """
    return f"CAST({column} AS BLOB)" if _dialect(db) == "sqlite" else column


def _head_from_row(row: Any) -> Head:
    return Head(
        range=CompactRange.from_bytes(int(row[0]), as_bytes(row[1])),
        checkpoint_size=int(row[2]),
        checkpoint_time=None if row[3] is None else from_us(int(row[3])),
    )


def from_us(value: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=value)


def to_us(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if value.tzinfo is None:
        raise LedgerError("time must carry a UTC offset")
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _mark(db: Session | Connection) -> str:
    return "?" if connection_of(db).dialect.paramstyle == "qmark" else "%s"


# The append path issues these as plain SQL: building and caching SQLAlchemy statements
# cost several times more than SQLite needs to run them.
_LOCK = "UPDATE ledger_head SET size = size WHERE id = 1 RETURNING size, frontier, checkpoint_size, checkpoint_time_us"
_READ_HEAD = "SELECT size, frontier, checkpoint_size, checkpoint_time_us FROM ledger_head WHERE id = 1"
_SAVE = "UPDATE ledger_head SET size = ?, frontier = ? WHERE id = 1"
_SAVE_CHECKPOINT = (
    "UPDATE ledger_head SET size = ?, frontier = ?, checkpoint_size = ?, checkpoint_time_us = ? WHERE id = 1"
)


def _driver_sql(session: Session | Connection, sql: str) -> str:
    """Adapt ``?`` placeholders to the driver's paramstyle (psycopg uses ``%s``)."""
    return sql if _mark(session) == "?" else sql.replace("?", "%s")


def _fetch(session: Session | Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Rows of SQL written with ``?`` placeholders, on the DBAPI cursor of the session's transaction."""
    connection = connection_of(session)
    return driver_rows(connection, _driver_sql(connection, sql), tuple(params))


class MissingHeadError(TamperError):
    """The head row is gone although entries or checkpoints are stored: the tree is not empty."""

    def __init__(self, message: str, *, entries: int = 0, signed: int = 0) -> None:
        super().__init__(message)
        self.entries, self.signed = entries, signed


def _missing_head(session: Session | Connection, *, what: str = "row is missing") -> MissingHeadError | None:
    """The error to raise for an absent (or emptied) head row, or None if the ledger really is empty."""
    entries = _fetch(session, "SELECT count(*) FROM ledger_entries", ())[0][0]
    # A checkpoint of the empty tree (signed before the first append) commits to nothing.
    signed = _fetch(session, "SELECT count(*) FROM ledger_checkpoints WHERE tree_size > 0", ())[0][0]
    if not entries and not signed:
        return None
    return MissingHeadError(
        f"the ledger head {what}, but {entries} entries and {signed} signed checkpoints are stored: "
        "the tree is not empty; run 'piguard audit verify'",
        entries=int(entries),
        signed=int(signed),
    )


def lock_head(session: Session | Connection) -> Head:
    """Lock the head row for the rest of the caller's transaction and return it.

    The first append of an empty ledger creates the row; a missing row in a ledger that holds
    entries is ``MissingHeadError`` (an empty head there would fork the log from size 0).
    """
    rows = _fetch(session, _LOCK, ())
    found = bool(rows)
    if not found:
        # A concurrent first append may create the row meanwhile: insert-or-ignore, then lock what is there.
        _insert_ignore(session, HEAD, {"id": HEAD_ID, "size": 0, "frontier": b"", "checkpoint_size": 0})
        rows = _fetch(session, _LOCK, ())
    head = _head_from_row(rows[0])
    if head.range.size == 0:  # only ever before the first append: one count, then never again
        missing = _missing_head(session, what="records an empty tree" if found else "row is missing")
        if missing is not None:
            raise missing  # the caller's transaction fails: an empty row it inserted is not kept
    return head


def read_head(session: Session) -> Head:
    """The head as committed (no lock); an empty tree if nothing was ever appended."""
    rows = _fetch(session, _READ_HEAD, ())
    if not rows:
        missing = _missing_head(session)
        if missing is None:
            return Head(range=CompactRange(), checkpoint_size=0, checkpoint_time=None)
        rows = _fetch(session, _READ_HEAD, ())  # the first append may have committed in between
        if not rows:
            raise missing
    return _head_from_row(rows[0])


def save_head(
    session: Session | Connection,
    tree: CompactRange,
    *,
    checkpoint_size: int | None = None,
    checkpoint_time: datetime | None = None,
) -> None:
    """Store the new size and frontier (and the last checkpoint, when one was made)."""
    if checkpoint_size is None:
        sql = _SAVE
        params: tuple[Any, ...] = (tree.size, tree.to_bytes())
    else:
        sql = _SAVE_CHECKPOINT
        stamp = None if checkpoint_time is None else to_us(checkpoint_time)
        params = (tree.size, tree.to_bytes(), checkpoint_size, stamp)
    _fetch(session, sql, params)


ENTRY_COLUMNS = ("idx", "leaf_hash", "data", "event_id", "time_us", "user_id", "subject_id")


def _bulk_insert(
    session: Session | Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    # Straight to the driver's executemany: appends are the hot path, and SQLAlchemy's per-row
    # parameter processing cost more than the database work. Every value is already a plain
    # int, str or bytes, so no type processing is skipped.
    connection = connection_of(session)
    mark = _mark(connection)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - fixed identifiers
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    driver_executemany(connection, sql, rows)


def insert_entries(session: Session | Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert leaf rows given as tuples in ``ENTRY_COLUMNS`` order (one executemany)."""
    if rows:
        _bulk_insert(session, ENTRIES, ENTRY_COLUMNS, rows)


def insert_nodes(session: Session | Connection, nodes: Sequence[tuple[NodeId, bytes]]) -> None:
    """Insert completed interior nodes (one executemany)."""
    if nodes:
        _bulk_insert(
            session,
            NODES,
            ("level", "idx", "hash"),
            [(level, idx, digest) for (level, idx), digest in nodes],
        )


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), MAX_IN):
        yield items[start : start + MAX_IN]


_LEAVES_SQL = "SELECT 0 AS level, idx, {hash} FROM ledger_entries WHERE idx IN ({{marks}})"
_NODES_SQL = (
    "SELECT n.level, n.idx, {hash} FROM ledger_nodes AS n JOIN "
    "(VALUES {{values}}) AS v ON n.level = v.column1 AND n.idx = v.column2"
)
# Per dialect, built once (a proof is read in about 0.1 ms): SQLite casts the hashes (``_blob``).
_PROOF_SQL = {
    True: (_LEAVES_SQL.format(hash="CAST(leaf_hash AS BLOB)"), _NODES_SQL.format(hash="CAST(n.hash AS BLOB)")),
    False: (_LEAVES_SQL.format(hash="leaf_hash"), _NODES_SQL.format(hash="n.hash")),
}


def read_nodes(session: Session, ids: Collection[NodeId]) -> Mapping[NodeId, bytes]:
    """Hashes of the given nodes (leaves from entries); raises ``TamperError`` if one is missing.

    Point lookups on the primary keys, straight to the driver: a proof is ~2 log2(n) nodes, and
    SQLAlchemy's statement handling cost more than the lookups. Interior nodes are joined from a
    VALUES list (a row-value ``(level, idx) IN (...)`` makes SQLite scan the whole table); a
    proof's leaves and nodes come back from one statement.
    """
    found: dict[NodeId, bytes] = {}
    leaves = sorted({idx for level, idx in ids if level == 0})
    inner = sorted({node for node in ids if node[0] > 0})
    connection = connection_of(session)
    leaves_sql, nodes_sql = _PROOF_SQL[connection.dialect.name == "sqlite"]
    if len(leaves) + len(inner) <= MAX_IN:  # a proof: one statement, one round trip
        parts, params = [], []
        if leaves:
            parts.append(leaves_sql.format(marks=", ".join(["?"] * len(leaves))))
            params.extend(leaves)
        if inner:
            parts.append(nodes_sql.format(values=", ".join(["(?, ?)"] * len(inner))))
            params.extend(value for node in inner for value in node)
        rows = _fetch(connection, " UNION ALL ".join(parts), params) if parts else []
        found.update({(int(lv), int(idx)): bytes(digest) for lv, idx, digest in rows})
    else:
        for chunk in _chunks(leaves):
            rows = _fetch(connection, leaves_sql.format(marks=", ".join(["?"] * len(chunk))), chunk)
            found.update({(0, int(idx)): bytes(digest) for _, idx, digest in rows})
        for chunk in _chunks(inner):
            sql = nodes_sql.format(values=", ".join(["(?, ?)"] * len(chunk)))
            rows = _fetch(connection, sql, [value for node in chunk for value in node])
            found.update({(int(lv), int(idx)): bytes(digest) for lv, idx, digest in rows})
    missing = [node for node in ids if node not in found]
    if missing:
        level, idx = min(missing)
        what = f"entry {idx}" if level == 0 else f"tree node (level {level}, index {idx})"
        raise TamperError(f"stored {what} is missing")
    return found


def entries_at(session: Session, indexes: Sequence[int]) -> list[tuple[Any, ...]]:
    """Stored ``(idx, leaf_hash, data, event_id, time_us, user_id, subject_id)`` of the given (sorted)
    indexes, in index order; unknown ones skipped."""
    rows: list[tuple[Any, ...]] = []
    columns = f"idx, {_blob(session, 'leaf_hash')}, {_blob(session, 'data')}, event_id, time_us, user_id, subject_id"
    for chunk in _chunks(indexes):
        marks = ", ".join(["?"] * len(chunk))
        sql = f"SELECT {columns} FROM ledger_entries WHERE idx IN ({marks}) ORDER BY idx"  # noqa: S608
        for idx, digest, data, *values in _fetch(session, sql, chunk):
            rows.append((int(idx), bytes(digest), bytes(data), *values))
    return rows


def leaf_hashes(session: Session, start: int, end: int) -> list[tuple[int, bytes]]:
    """Stored ``(idx, leaf_hash)`` with ``start <= idx < end``, in index order."""
    sql = f"SELECT idx, {_blob(session, 'leaf_hash')} FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx"  # noqa: S608
    return [(int(idx), bytes(digest)) for idx, digest in _fetch(session, sql, (start, end))]


def entry_count(session: Session) -> int:
    """Number of stored leaf rows (the head's size is the authoritative tree size)."""
    return int(session.execute(select(func.count()).select_from(ENTRIES)).scalar_one())


def insert_checkpoint(session: Session, *, tree_size: int, root: bytes, note: str, created_at: datetime) -> None:
    """Store a signed checkpoint (a second one for the same size is ignored)."""
    _insert_ignore(
        session,
        CHECKPOINTS,
        {"tree_size": tree_size, "root": root, "note": note, "created_at": created_at},
    )


def checkpoint_note(session: Session, tree_size: int | None = None) -> str | None:
    """The stored note for ``tree_size`` (default: the largest), or None."""
    stmt = select(CHECKPOINTS.c.note)
    if tree_size is None:
        stmt = stmt.order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)
    else:
        stmt = stmt.where(CHECKPOINTS.c.tree_size == tree_size)
    note = session.execute(stmt).scalar_one_or_none()
    return None if note is None else str(note)


def all_checkpoints(session: Session) -> list[tuple[int, bytes, str]]:
    """Every stored checkpoint as ``(tree_size, root, note)``, smallest first."""
    rows = session.execute(
        select(CHECKPOINTS.c.tree_size, CHECKPOINTS.c.root, CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.tree_size)
    )
    return [(int(row[0]), as_bytes(row[1]), str(row[2])) for row in rows]


def indexes_of(session: Session, event_ids: Collection[str], *, end: int) -> list[int]:
    """Sorted leaf indexes (below ``end``) of the given event ids; unknown ids are skipped."""
    ids = sorted(event_ids)
    found: set[int] = set()
    for start in range(0, len(ids), MAX_IN):
        chunk = ids[start : start + MAX_IN]
        rows = session.execute(select(ENTRIES.c.idx).where(ENTRIES.c.event_id.in_(chunk), ENTRIES.c.idx < end))
        found.update(int(row[0]) for row in rows)
    return sorted(found)


# Bulk reads for full verification: straight to the driver's cursor (no SQLAlchemy row objects),
# keyset pages so memory stays bounded on both backends without a server-side cursor.


def _keyset_pages(session: Session, columns: str, page: int) -> Iterator[list[Any]]:
    sql = f"SELECT {columns} FROM ledger_entries WHERE idx > ? ORDER BY idx LIMIT ?"  # noqa: S608 - fixed columns
    last = -(2**62)
    while True:
        rows = _fetch(session, sql, (last, page))
        if rows:
            yield rows
        if len(rows) < page:
            return
        last = rows[-1][0]


def entry_pages(session: Session, *, page: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
    """Every stored entry as ``(idx, leaf_hash, data, event_id, time_us, user_id, subject_id)``, in
    index order, ``page`` rows at a time."""
    columns = f"idx, {_blob(session, 'leaf_hash')}, {_blob(session, 'data')}, event_id, time_us, user_id, subject_id"
    return _keyset_pages(session, columns, page)


def leaf_hash_pages(session: Session, *, page: int = 50_000) -> Iterator[list[tuple[int, bytes]]]:
    """Every stored ``(idx, leaf_hash)`` in index order (no event data), ``page`` rows at a time."""
    return _keyset_pages(session, f"idx, {_blob(session, 'leaf_hash')}", page)


def node_range(session: Session, level: int, start: int, end: int | None) -> list[tuple[int, bytes]]:
    """Stored ``(idx, hash)`` of one level with ``start <= idx < end`` (no bound if None), in order."""
    columns = f"idx, {_blob(session, 'hash')}"
    if end is None:
        sql = f"SELECT {columns} FROM ledger_nodes WHERE level = ? AND idx >= ? ORDER BY idx"  # noqa: S608
        return _fetch(session, sql, (level, start))
    sql = f"SELECT {columns} FROM ledger_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"  # noqa: S608
    return _fetch(session, sql, (level, start, end))


def nodes_outside(session: Session, low: int, high: int) -> list[tuple[int, int, bytes]]:
    """Stored ``(level, idx, hash)`` with level below ``low`` or above ``high`` (few by design)."""
    columns = f"level, idx, {_blob(session, 'hash')}"
    sql = f"SELECT {columns} FROM ledger_nodes WHERE level < ? OR level > ? ORDER BY level, idx"  # noqa: S608
    return _fetch(session, sql, (low, high))
