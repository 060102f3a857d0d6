"""`piguard serve` and the app refuse to start on an empty database or a schema older than the code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from piguard.api.app import create_app
from piguard.cli.main import app as cli
from piguard.config import Settings
from piguard.db import Base, make_engine, migrate
from piguard.db.migrate import SchemaNotCurrentError
from piguard.db.registry import load_all_models
from piguard.keys import ensure_secret
from piguard.ledger.keys import ensure_signing_key
from tests.conftest import BACKENDS, private_database_url

runner = CliRunner()


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """An installation whose secret and ledger key exist, over an empty database of either backend."""
    for url in private_database_url(request.param, tmp_path, prefix="serve_schema"):
        monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("PIGUARD_DATABASE_URL", url)
        monkeypatch.delenv("PIGUARD_TRUSTED_PROXIES", raising=False)
        made = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(made)
        ensure_signing_key(made)
        yield made


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The apps `piguard serve` would have run (no real server is started)."""
    apps: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: apps.append(app))
    return apps


def _serve() -> Result:
    result = runner.invoke(cli, ["serve"])
    assert "Traceback" not in result.output
    return result


def _previous_revision(settings: Settings) -> str:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    head = scripts.get_revision(scripts.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


def test_serve_on_an_empty_database_says_to_run_init(settings: Settings, served: list[object]) -> None:
    result = _serve()
    assert result.exit_code == 2
    assert "the database is empty (no piguard tables): run 'piguard init'" in result.output
    assert served == []
    with pytest.raises(SchemaNotCurrentError, match="run 'piguard init'"), TestClient(create_app(settings)):
        pass  # the app's own start-up (its lifespan) refuses as well


def test_serve_on_an_older_schema_says_to_upgrade_and_starts_once_upgraded(
    settings: Settings, served: list[object]
) -> None:
    previous = _previous_revision(settings)
    migrate.upgrade(settings, revision=previous)  # the code was updated, `piguard db upgrade` not run
    result = _serve()
    assert result.exit_code == 2
    assert f"the database schema is at revision {previous}, older than this version of piguard" in result.output
    assert "run 'piguard db upgrade'" in result.output
    assert served == []
    with pytest.raises(SchemaNotCurrentError, match="piguard db upgrade"), TestClient(create_app(settings)):
        pass
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert _serve().exit_code == 0 and len(served) == 1
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/audit/checkpoint").status_code == 404  # no checkpoint yet, and no 500


def test_a_schema_newer_than_the_code_is_refused_too(settings: Settings, served: list[object]) -> None:
    migrate.upgrade(settings)
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    engine.dispose()
    result = _serve()
    assert result.exit_code == 2
    assert "at revision zz99, which this version of piguard does not know" in result.output
    assert served == []


def test_tables_made_from_the_models_without_a_revision_are_accepted(settings: Settings, served: list[object]) -> None:
    # Test fixtures and benchmarks create the tables with metadata.create_all: no revision is recorded.
    load_all_models()
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    engine.dispose()
    assert _serve().exit_code == 0 and len(served) == 1
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/audit/checkpoint").status_code == 404


def test_an_unreachable_database_is_named_without_its_password() -> None:
    engine = create_engine("postgresql+psycopg://piguard:hunter2-secret@127.0.0.1:1/piguard")
    with pytest.raises(SchemaNotCurrentError) as raised:
        migrate.require_current(engine)
    engine.dispose()
    said = str(raised.value)
    assert "hunter2" not in said
    assert "cannot connect to it or read its schema (OperationalError)" in said
