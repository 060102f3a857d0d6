"""Alembic environment: runs migrations against the URL set by ``piguard.db.migrate``."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, create_engine, event

from piguard.db.base import Base
from piguard.db.registry import load_all_models

load_all_models()
target_metadata = Base.metadata
config = context.config


def _transactional_sqlite(engine: Engine) -> None:
    # Python's sqlite3 driver sends BEGIN only before INSERT/UPDATE/DELETE, so DDL ran in
    # autocommit mode and a migration failing half-way left half a schema behind. SQLite's DDL is
    # transactional once a real BEGIN is sent; this is SQLAlchemy's documented pysqlite recipe.
    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def run_migrations_online() -> None:
    """Run migrations in one transaction with a live connection (SQLite uses batch mode for ALTERs)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = create_engine(url)
    if connectable.dialect.name == "sqlite":
        _transactional_sqlite(connectable)
    try:
        with connectable.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        connectable.dispose()  # also when a migration fails: no connection left open


run_migrations_online()
