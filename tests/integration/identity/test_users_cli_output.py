"""``piguard users`` output on narrow terminals and pipes, and its option checks, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli import common
from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.keys import ensure_secret
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url

LONG_NAME = "zhangsan.ouyang-xiaoming.radiology"  # a real person's long, valid username


@dataclass
class Cli:
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
    for url in private_database_url(request.param, tmp_path, prefix="users_cli"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as db, db.begin():
            org = records.create_organisation(session=db, name="Hospital A", org_type="hospital", district="310112")
        yield Cli(
            env={"PIGUARD_DATA_DIR": str(settings.data_dir), "PIGUARD_DATABASE_URL": url},
            settings=settings,
            org_id=org.id,
        )
        engine.dispose()


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 80-column terminal (a pipe gets the same width)."""
    monkeypatch.setattr(common.console, "width", 80)


def _account_ids(cli: Cli) -> list[str]:
    engine = make_engine(cli.settings)
    with make_session_factory(engine)() as db:
        ids = [account.id for account in identity.list_accounts(session=db)]
    engine.dispose()
    return ids


def test_list_never_crops_usernames_or_ids_on_a_narrow_terminal(cli: Cli, narrow: None) -> None:
    for name in (LONG_NAME, "li.na"):
        code, out = cli.run(
            "users", "add", name, "--name", "Ouyang Xiaoming Zhangsan", "--role", "physician", "--org", cli.org_id
        )
        assert code == 0, out
    code, out = cli.run("users", "list")
    assert code == 0, out
    assert "…" not in out
    assert LONG_NAME in out
    for account_id in _account_ids(cli):
        assert account_id in out
    assert out.count(cli.org_id) == 2


def test_list_refuses_an_unknown_role_or_organisation(cli: Cli) -> None:
    code, out = cli.run("users", "list", "--role", "nope")
    assert code == 2
    assert "--role" in out and "physician" in out and "privacy_officer" in out
    code, out = cli.run("users", "list", "--org", "nope")
    assert code == 2
    assert "--org" in out and "no such organisation" in out
    assert "Traceback" not in out
    assert cli.run("users", "list", "--role", "nurse", "--org", cli.org_id)[0] == 0


def test_add_refuses_a_service_account_with_another_role(cli: Cli) -> None:
    code, out = cli.run(
        "users", "add", "svc-bridge", "--name", "Bridge", "--role", "nurse", "--org", cli.org_id, "--service"
    )
    assert code == 2
    assert "--role" in out and "service" in out
    assert _account_ids(cli) == []


def test_the_totp_uri_is_printed_on_one_line_whatever_the_width(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "width", 40)
    code, out = cli.run("users", "add", "wang.fang", "--name", "Wang Fang", "--role", "physician", "--org", cli.org_id)
    assert code == 0, out
    line = next(line for line in out.splitlines() if "otpauth://" in line)
    assert re.search(r"otpauth://totp/piguard:wang\.fang\?secret=[A-Z2-7]{32}&issuer=piguard$", line), line
    assert re.search(r"initial password: \S{20}$", out, re.MULTILINE)


def test_api_keys_and_organisations_keep_their_ids_whole_on_a_narrow_terminal(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.console, "width", 40)
    assert (
        cli.run("users", "add", "svc-bridge", "--name", "B", "--role", "service", "--org", cli.org_id, "--service")[0]
        == 0
    )
    assert cli.run("users", "api-key", "svc-bridge", "--scope", "handles:resolve")[0] == 0
    engine = make_engine(cli.settings)
    with make_session_factory(engine)() as db:
        account = identity.get_account_by_username(session=db, username="svc-bridge")
        key_id = identity.list_api_keys(session=db, account_id=account.id)[0].id
    engine.dispose()
    code, out = cli.run("users", "api-keys", "svc-bridge")
    assert code == 0 and key_id in out and "…" not in out
    code, out = cli.run("orgs", "list")
    assert code == 0 and cli.org_id in out
