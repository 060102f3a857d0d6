"""init, db upgrade, canary and export through the real CLI on a fresh data directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.interchange.context import read_context
from piguard.records import service as records

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_init_creates_private_keys_and_schema_once(data_dir: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    keys = data_dir / "keys"
    for name in ("secret.key", "ledger_ed25519.key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    before = (keys / "secret.key").read_bytes()
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0 and "kept" in again.output
    assert (keys / "secret.key").read_bytes() == before
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0


def test_canary_plant_list_and_export(data_dir: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = make_engine(Settings(data_dir=data_dir))
    with make_session_factory(engine)() as db, db.begin():
        records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
    engine.dispose()
    planted = runner.invoke(app, ["canary", "plant", "--count", "3"])
    assert planted.exit_code == 0, planted.output
    assert "planted 3 canaries" in planted.output
    listed = runner.invoke(app, ["canary", "list"])
    assert listed.exit_code == 0 and listed.output.count("310112") == 3
    assert runner.invoke(app, ["canary", "plant", "--count", "0"]).exit_code == 2
    out = tmp_path / "context"
    exported = runner.invoke(app, ["export", "context", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    tables = read_context(out)
    assert sum(s.is_canary for s in tables.subjects) == 3
    handles = runner.invoke(app, ["export", "handles", "--out", str(tmp_path / "handles.csv")])
    assert handles.exit_code == 0 and (tmp_path / "handles.csv").read_text().startswith("handle,user_id")
    bad = runner.invoke(app, ["export", "context", "--out", str(out), "--format", "xml"])
    assert bad.exit_code == 2 and "csv or parquet" in bad.output


def test_serve_refuses_without_init(data_dir: Path) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "piguard init" in result.output
    assert "Traceback" not in result.output


def test_serve_warns_when_the_disclosure_limit_is_off(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    assert runner.invoke(app, ["init"]).exit_code == 0
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **_: served.append(application))  # no real server
    monkeypatch.setenv("PIGUARD_DISCLOSURE_LIMIT_ENABLED", "false")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0 and len(served) == 1
    assert "PIGUARD_DISCLOSURE_LIMIT_ENABLED=false" in result.output
    monkeypatch.delenv("PIGUARD_DISCLOSURE_LIMIT_ENABLED")
    quiet = runner.invoke(app, ["serve"])
    assert quiet.exit_code == 0 and "LIMIT_ENABLED" not in quiet.output


def test_serve_refuses_a_ledger_it_could_not_sign(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0
    monkeypatch.setattr(uvicorn, "run", lambda application, **_: None)  # no real server
    # The log's name changed after its checkpoints were signed: every checkpoint would be skipped.
    monkeypatch.setenv("PIGUARD_LEDGER_ORIGIN", "hospital.example/ledger")
    renamed = runner.invoke(app, ["serve"])
    assert renamed.exit_code == 2, renamed.output
    assert "PIGUARD_LEDGER_ORIGIN is 'hospital.example/ledger' but the log's checkpoints are named" in (
        renamed.output.replace("\n", " ")
    )
    monkeypatch.delenv("PIGUARD_LEDGER_ORIGIN")
    # A key file others may read: the append path would skip every checkpoint; serve does not start.
    key = data_dir / "keys" / "ledger_ed25519.key"
    key.chmod(0o644)
    readable = runner.invoke(app, ["serve"])
    assert readable.exit_code == 2 and "chmod 600" in readable.output.replace("\n", " "), readable.output
    key.chmod(0o600)
    assert runner.invoke(app, ["serve"]).exit_code == 0
