"""Shared fixtures: real SQLite and real PostgreSQL, each test rolled back at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db import Base, make_engine
from piguard.db.registry import load_all_models

# CLI output is read by tests: a wide, fixed console keeps Rich tables from wrapping cell text.
os.environ["COLUMNS"] = "240"
os.environ.pop("NO_COLOR", None)

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def shared_path(*parts: str) -> Path:
    """A file under ../shared (test vectors and corpora are read from there, never copied)."""
    for base in (SHARED, Path(os.environ.get("PIGUARD_SHARED_DIR", "")).resolve()):
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    pytest.fail(f"shared test data missing: {'/'.join(parts)} (looked in {SHARED})")


def postgres_url() -> str:
    """The PostgreSQL URL for tests."""
    return os.environ.get("PIGUARD_TEST_DATABASE_URL", DEFAULT_PG)


def postgres_available() -> bool:
    """Whether PostgreSQL answers; in CI an unreachable server is a failure, not a skip."""
    try:
        probe = create_engine(postgres_url())
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
        return True
    except Exception:
        if os.environ.get("CI") == "true":
            raise
        return False


def private_database_url(backend: str, tmp_path: Path, *, prefix: str = "app") -> Iterator[str]:
    """A URL of an empty database the code under test may commit to: an SQLite file, or a private
    PostgreSQL schema (dropped afterwards) that every connection of the URL's engine lands in."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'piguard.db'}"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL not reachable (set PIGUARD_TEST_DATABASE_URL)")
    schema = f"{prefix}_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}"
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_url() else "?"
    # libpq's "options" puts every connection of the app's own engine into the private schema.
    yield f"{postgres_url()}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _private_schema_engine(url: str, schema: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    return engine


def make_backend_engine(backend: str, tmp_dir: Path) -> Iterator[Engine]:
    """A fresh, empty database of the given backend with every table created."""
    load_all_models()
    if backend == "sqlite":
        settings = Settings(data_dir=tmp_dir)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    if not postgres_available():
        pytest.skip("PostgreSQL not reachable (set PIGUARD_TEST_DATABASE_URL)")
    # A private schema per test process keeps parallel test runs from colliding.
    schema = f"t_{os.getpid()}_{abs(hash(str(tmp_dir))) % 10**8}"
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = _private_schema_engine(postgres_url(), schema)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One database per backend for the whole test session."""
    yield from make_backend_engine(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session joined to an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield db
        finally:
            db.close()
            outer.rollback()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a private data directory."""
    return Settings(data_dir=tmp_path / "data")
