"""`piguard demo` end to end on a short period: the Minhang replay fails as it should, the log verifies."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory, migrate
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url

runner = CliRunner()


def test_demo_short_run(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--data-dir", str(data), "--days", "4", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "The Minhang pattern, replayed" in result.output and "NO" not in result.output
    accounts = data / "demo-accounts.json"
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    payload = json.loads(accounts.read_text(encoding="utf-8"))
    assert "DEMO ONLY" in payload["warning"]
    roles = {a["role"] for a in payload["accounts"]}
    assert {"physician", "emt", "cdc_coder", "police_registrar", "funeral_clerk"} <= roles
    assert all(a["password"] and a["totp_secret"] for a in payload["accounts"])
    engine = make_engine(Settings(data_dir=data))
    with make_session_factory(engine)() as db:
        events = list(ledger.iter_events(session=db))
    engine.dispose()
    outcomes = {e.outcome for e in events}
    assert outcomes == {"allowed", "denied"}
    # The late call to a family's virtual number: in four days none of the physician's numbers has
    # ended yet, so the replay says so and calls nothing (the 60-day demo makes the call).
    assert "not replayed" in result.output
    assert not [e for e in events if e.action == "resolve_handle"]
    assert sum(e.outcome == "denied" for e in events) >= 4
    # Running again on the same demo directory starts afresh; a non-demo database is refused.
    assert runner.invoke(app, ["demo", "--data-dir", str(data), "--days", "3"]).exit_code == 0
    (data / "demo-accounts.json").unlink()
    refused = runner.invoke(app, ["demo", "--data-dir", str(data), "--days", "3"])
    assert refused.exit_code == 2 and "not a demo" in refused.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_demo_never_writes_into_the_installation_the_shell_is_set_up_for(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in private_database_url(backend, tmp_path, prefix="demo_env"):
        installation = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_signing_key(installation)
        migrate.upgrade(installation)
        engine = make_engine(installation)
        with make_session_factory(engine)() as db, db.begin():
            ledger.bind_settings(db, installation)
            records.create_organisation(session=db, name="某区人民医院", org_type="hospital", district="310112")
        production_key = installation.ledger_key_path().read_bytes()
        with make_session_factory(engine)() as db:
            entries = ledger.count(session=db)
        monkeypatch.setenv("PIGUARD_DATABASE_URL", url)
        monkeypatch.setenv("PIGUARD_LEDGER_KEY_FILE", str(installation.ledger_key_path()))
        demo = tmp_path / "demo"
        ran = runner.invoke(app, ["demo", "--data-dir", str(demo), "--days", "3", "--seed", "3"])
        assert ran.exit_code == 0, ran.output
        with make_session_factory(engine)() as db:
            assert [org.name for org in records.list_organisations(session=db)] == ["某区人民医院"]
            assert ledger.count(session=db) == entries
        assert installation.ledger_key_path().read_bytes() == production_key
        assert (demo / "piguard.db").exists() and (demo / "keys" / "ledger_ed25519.key").exists()
        # Named explicitly, a database that holds piguard data is refused before anything is written.
        refused = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "d2"), "--days", "3", "--database-url", url])
        assert refused.exit_code == 2 and "already holds piguard data" in refused.output, refused.output
        with make_session_factory(engine)() as db:
            assert ledger.count(session=db) == entries
        engine.dispose()
