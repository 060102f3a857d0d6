"""Ledger fixtures: fresh databases of both backends that tests may commit to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from piguard.config import Settings
from piguard.db import Base, make_engine
from piguard.db.registry import load_all_models
from piguard.ledger.keys import ensure_signing_key
from tests.conftest import make_backend_engine, private_database_url
from tests.integration.ledger.audit_cli import append


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each backend that tests may commit to."""
    yield from make_backend_engine(request.param, tmp_path)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An installation with a key, the schema and 30 committed events (checkpoint every 8)."""
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PIGUARD_CHECKPOINT_EVERY_ENTRIES", "8")
    settings = Settings()
    ensure_signing_key(settings)
    load_all_models()
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    engine.dispose()
    append(settings, range(30))
    return settings


@pytest.fixture(params=["sqlite", "postgresql"])
def installed_on(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """``installed`` on each backend: the CLI reaches the database through PIGUARD_DATABASE_URL."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="ledger_cli"):
        monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("PIGUARD_DATABASE_URL", url)
        monkeypatch.setenv("PIGUARD_CHECKPOINT_EVERY_ENTRIES", "8")
        settings = Settings()
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        engine.dispose()
        append(settings, range(30))
        yield settings
