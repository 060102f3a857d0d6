"""``piguard users`` through Typer's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import AuthenticationError
from piguard.identity import service as identity
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url


@dataclass
class Cli:
    """The runner's environment and the seeded organisation."""

    env: dict[str, str]
    settings: Settings
    org_id: str

    def run(self, *args: str) -> tuple[int, str]:
        """Invoke ``piguard ARGS``; returns exit code and combined output."""
        result = CliRunner().invoke(app, list(args), env=self.env)
        return result.exit_code, result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="identity_cli"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as db, db.begin():
            org = records.create_organisation(session=db, name="Hospital A", org_type="hospital", district="310112")
        env = {"PIGUARD_DATA_DIR": str(settings.data_dir), "PIGUARD_DATABASE_URL": url, "COLUMNS": "200"}
        yield Cli(env=env, settings=settings, org_id=org.id)
        engine.dispose()


def test_add_prints_credentials_once_then_list_and_disable(cli: Cli) -> None:
    code, out = cli.run("users", "add", "wang.fang", "--name", "Wang Fang", "--role", "physician", "--org", cli.org_id)
    assert code == 0, out
    assert re.search(r"initial password: \S{20}", out)
    assert "otpauth://totp/piguard:wang.fang" in out
    code, out = cli.run("users", "list")
    assert code == 0, out
    assert "wang.fang" in out
    assert "active" in out
    assert "password" not in out
    code, out = cli.run("users", "disable", "wang.fang")
    assert code == 0, out
    assert "disabled wang.fang" in out
    code, out = cli.run("users", "list", "--active")
    assert "wang.fang" not in out
    engine = make_engine(cli.settings)
    with make_session_factory(engine)() as db:
        event = list(ledger.iter_events(session=db))[-1]
        assert (event.user_id, event.action, event.reason) == (
            "local-operator",
            "update",
            "account disabled; 0 session(s) revoked",
        )
    engine.dispose()


def test_service_account_key_and_training(cli: Cli) -> None:
    code, out = cli.run(
        "users", "add", "svc-telephony", "--name", "Bridge", "--role", "service", "--org", cli.org_id, "--service"
    )
    assert code == 0, out
    assert "initial password" not in out
    code, out = cli.run("users", "api-key", "svc-telephony", "--scope", "handles:resolve")
    assert code == 0, out
    assert re.search(r"pgk_[A-Za-z0-9_-]{43}", out)
    cli.run("users", "add", "li.na", "--name", "Li Na", "--role", "nurse", "--org", cli.org_id)
    # A completion from a month ago: one older than a year would be lapsed already, and is refused.
    completed = (datetime.now(UTC) - timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)
    code, out = cli.run("users", "training", "li.na", "--score", "92", "--completed", f"{completed:%Y-%m-%dT%H:%M:%S}")
    assert code == 0, out
    assert f"privacy-basics valid until {completed + timedelta(days=365):%Y-%m-%d}" in out
    engine = make_engine(cli.settings)
    with make_session_factory(engine)() as db:
        account = identity.get_account_by_username(session=db, username="li.na")
        assert identity.training_valid_until(session=db, account_id=account.id) is not None
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "nurse1", "--name", "N", "--role", "nurse", "--org", "ORG"), "username"),
        (("users", "add", "li.na", "--name", "N", "--role", "surgeon", "--org", "ORG"), "role"),
        (("users", "add", "li.na", "--name", "N", "--role", "nurse", "--org", "NOPE"), "org_id"),
        (("users", "disable", "nobody.here"), "nobody.here: no account with this username"),
        (("users", "api-key", "nobody.here", "--scope", "handles:resolve"), "nobody.here: no account"),
        (("users", "training", "nobody.here", "--score", "90"), "nobody.here: no account"),
        (("users", "api-keys", "nobody.here"), "nobody.here: no account"),
    ],
)
def test_errors_are_one_line_without_traceback(cli: Cli, args: tuple[str, ...], message: str) -> None:
    code, out = cli.run(*(cli.org_id if a == "ORG" else a for a in args))
    assert code == 2  # bad input, named
    assert "error:" in out
    assert message in out
    assert "Traceback" not in out


def test_missing_secret_is_a_clean_error(cli: Cli) -> None:
    cli.settings.secret_key_path().unlink()
    code, out = cli.run("users", "list")
    assert code == 2  # an installation to fix first, as for every command
    assert "piguard init" in out
    assert "Traceback" not in out


def test_accounts_and_api_keys_made_by_the_operator_are_in_the_ledger(cli: Cli) -> None:
    assert cli.run("users", "add", "li.na", "--name", "Li Na", "--role", "nurse", "--org", cli.org_id)[0] == 0
    code, out = cli.run(
        "users", "add", "svc-bridge", "--name", "Bridge", "--role", "service", "--org", cli.org_id, "--service"
    )
    assert code == 0, out
    assert cli.run("users", "api-key", "svc-bridge", "--scope", "handles:resolve")[0] == 0
    engine = make_engine(cli.settings)
    with make_session_factory(engine)() as db:
        made = [e for e in ledger.iter_events(session=db) if e.user_id == "local-operator"]
        nurse = identity.get_account_by_username(session=db, username="li.na")
    engine.dispose()
    assert [(e.action, e.resource_type, e.outcome) for e in made] == [
        ("create", "account", "allowed"),
        ("create", "account", "allowed"),
        ("create", "api_key", "allowed"),
    ]
    assert made[0].resource_id == nurse.id and made[0].org_id == cli.org_id
    assert "Li Na" not in made[0].model_dump_json() and "li.na" not in made[0].model_dump_json()


def test_one_api_key_is_listed_and_revoked_by_its_id_and_the_others_keep_working(cli: Cli) -> None:
    assert (
        cli.run("users", "add", "svc-bridge", "--name", "B", "--role", "service", "--org", cli.org_id, "--service")[0]
        == 0
    )
    keys = [
        re.search(r"pgk_\S+", cli.run("users", "api-key", "svc-bridge", "--scope", "handles:resolve")[1]) for _ in "ab"
    ]
    leaked, kept = (match.group(0) for match in keys if match is not None)
    code, out = cli.run("users", "api-keys", "svc-bridge")
    assert code == 0 and out.count("handles:resolve") == 2 and "pgk_" not in out
    engine = make_engine(cli.settings)
    with make_session_factory(engine)() as db:
        account = identity.get_account_by_username(session=db, username="svc-bridge")
        leaked_id = next(k.id for k in identity.list_api_keys(session=db, account_id=account.id))
    code, out = cli.run("users", "revoke-api-key", "svc-bridge", leaked_id)
    assert code == 0 and f"revoked API key {leaked_id}" in out
    assert cli.run("users", "revoke-api-key", "svc-bridge", leaked_id)[1].count("already revoked") == 1
    code, out = cli.run("users", "revoke-api-key", "svc-bridge", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert code == 1 and "no API key with that id" in out and "Traceback" not in out
    with make_session_factory(engine)() as db:
        ledger.bind_settings(db, cli.settings)
        with pytest.raises(AuthenticationError):
            identity.authenticate_token(session=db, secret=b"s" * 32, token=leaked, terminal_id=None, source_ip=None)
        assert (
            identity.authenticate_token(session=db, secret=b"s" * 32, token=kept, terminal_id=None, source_ip=None).kind
            == "service"
        )
        revoked = [e for e in ledger.iter_events(session=db) if e.resource_type == "api_key" and e.action == "update"]
    engine.dispose()
    assert len(revoked) == 1 and leaked_id in (revoked[0].reason or "")
    assert "revoked (UTC)" in cli.run("users", "api-keys", "svc-bridge")[1]
