"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from piguard.config import Settings
from piguard.db import Base, migrate
from piguard.db.registry import load_all_models
from tests.conftest import postgres_available, postgres_url


def _assert_no_drift(url: str) -> None:
    load_all_models()
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    migrate.upgrade(settings)
    _assert_no_drift(settings.resolved_database_url())


def test_postgres_migrations_match_models(tmp_path: Path) -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL not reachable")
    schema = f"mig_{abs(hash(str(tmp_path))) % 10**8}"
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_url() else "?"
    url = f"{postgres_url()}{separator}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(Settings(data_dir=tmp_path), url=url)
        _assert_no_drift(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
