"""Ledger tables: leaves, interior nodes, the head (size and frontier) and signed checkpoints.

Storage keeps every complete perfect subtree (RFC 9162 node ``(level, index)``), so any
proof or prefix root is read with O(log n) lookups; ``ledger_head`` is the single row
appends lock to serialise (gapless indexes, no forks).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base

# On SQLite an INTEGER PRIMARY KEY is the rowid: appends then write one b-tree, not two.
Index64 = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    """One leaf: the RFC 8785 canonical JSON of an access event and its leaf hash."""

    __tablename__ = "ledger_entries"

    idx: Mapped[int] = mapped_column(Index64, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Copies of event fields for selection (export, evidence bundles); the leaf is ``data``.
    # Only time is indexed: every index costs each append a b-tree write, and selections by
    # user or subject are rare, offline exports. Time is microseconds since the epoch (UTC) so
    # that bulk appends bind plain integers.
    event_id: Mapped[str] = mapped_column(String(128))
    time_us: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[str | None] = mapped_column(String(128), default=None)


class LedgerNode(Base):
    """Hash of the complete perfect subtree ``(level >= 1, idx)``."""

    __tablename__ = "ledger_nodes"
    # Clustered on (level, idx) in SQLite too: one b-tree instead of a rowid table plus an index.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The one row appends lock: tree size, compact-range frontier, last checkpoint."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    checkpoint_size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Microseconds since the epoch (UTC): read and written with raw SQL on the append path.
    checkpoint_time_us: Mapped[int | None] = mapped_column(BigInteger, default=None)


class LedgerCheckpoint(Base):
    """A signed checkpoint (C2SP signed note) of the tree at ``tree_size``."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()


class LedgerKeyRotation(Base):
    """A signing-key rotation: the key retired, the key brought in, and the note both signed."""

    __tablename__ = "ledger_key_rotations"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    old_vkey: Mapped[str] = mapped_column(Text)
    new_vkey: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
