"""`piguard demo` end to end on a short period: the Minhang replay fails as it should, the log verifies."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.ledger import service as ledger

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
    assert sum(e.outcome == "denied" for e in events) >= 4
    # Running again on the same demo directory starts afresh; a non-demo database is refused.
    assert runner.invoke(app, ["demo", "--data-dir", str(data), "--days", "3"]).exit_code == 0
    (data / "demo-accounts.json").unlink()
    refused = runner.invoke(app, ["demo", "--data-dir", str(data), "--days", "3"])
    assert refused.exit_code == 2 and "not a demo" in refused.output
