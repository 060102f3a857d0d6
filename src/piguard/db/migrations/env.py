"""Alembic environment: runs migrations against the URL set by ``piguard.db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from piguard.db.base import Base
from piguard.db.registry import load_all_models

load_all_models()
target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    """Run migrations with a live connection (SQLite uses batch mode for ALTERs)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = create_engine(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations_online()
