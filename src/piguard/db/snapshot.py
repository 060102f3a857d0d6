"""Read-only transactions that see one consistent snapshot of the database."""

from __future__ import annotations

from sqlalchemy.orm import Session


def begin_read_snapshot(session: Session) -> None:
    """Make the session's transaction, begun but unused, read one snapshot and write nothing.

    A check that reads a table at a time (the ledger's head, its checkpoints, entries and tree
    nodes) must not see a writer's commit between two of its reads: it would take a healthy,
    growing log for a tampered one. PostgreSQL gets a REPEATABLE READ, READ ONLY transaction;
    SQLite (WAL) a deferred BEGIN, whose first read fixes the snapshot, since Python's driver
    would otherwise run each read on its own.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    elif connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            driver.execute("BEGIN")
