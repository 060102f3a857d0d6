"""Engine and session factories (never created at import time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from piguard.config import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_before_savepoint(connection: Connection, _name: str | None) -> None:
    # Python's sqlite3 driver (legacy transaction control) sends BEGIN only before its first
    # INSERT/UPDATE/DELETE. A SAVEPOINT issued before that starts the transaction itself, and
    # releasing it then COMMITS everything so far: a workflow's change would be durable before
    # its ledger event, and a later failure could not roll it back. So a BEGIN goes first, and an
    # IMMEDIATE one: the reads inside the savepoint would otherwise hold a snapshot that SQLite
    # cannot upgrade to a write once another request has committed ("database is locked" at
    # once, busy_timeout notwithstanding). Every such transaction writes (at least its access
    # event), so taking the write lock up front, waiting up to busy_timeout, costs no concurrency.
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def make_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """Create the engine for the configured database (SQLite file by default)."""
    target = url or settings.resolved_database_url()
    if target.startswith("sqlite"):
        if target.startswith("sqlite:///") and ":memory:" not in target:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(target, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    return create_engine(target, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory; the caller owns the transaction (``with session.begin():``)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
