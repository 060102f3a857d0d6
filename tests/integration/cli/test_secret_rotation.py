"""`piguard rotate-secret`: TOTP seeds re-encrypted, the key swapped, interrupted rotations settled."""

from __future__ import annotations

import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import ConfigError
from piguard.identity import service as identity
from piguard.identity import totp
from piguard.identity.login import login
from piguard.identity.models import Account
from piguard.keys import load_secret, pending_secret_path, read_secret_file, write_private
from piguard.ledger import service as ledger
from piguard.records import service as records

runner = CliRunner()
PASSWORD = "correct horse battery 9"  # a throwaway account in a temporary database


@dataclass
class Installed:
    settings: Settings
    seeds: dict[str, str]  # account id -> TOTP seed

    def session(self) -> Iterator[Session]:
        engine = make_engine(self.settings)
        try:
            with make_session_factory(engine)() as session:
                ledger.bind_settings(session, self.settings)
                yield session
        finally:
            engine.dispose()

    def stored(self) -> dict[str, bytes]:
        for session in self.session():
            accounts = session.scalars(select(Account).where(Account.totp_secret_enc.is_not(None)))
            return {account.id: bytes(account.totp_secret_enc or b"") for account in accounts}
        raise AssertionError("unreachable")

    def seeds_decrypt_with(self, key: bytes) -> bool:
        try:
            return all(
                totp.decrypt_secret(blob, app_secret=key, account_id=account_id) == self.seeds[account_id]
                for account_id, blob in self.stored().items()
            )
        except ConfigError:  # a wrong key is the answer "no"
            return False


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Installed:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    load_all_models()
    settings = Settings(data_dir=data_dir)
    seeds: dict[str, str] = {}
    engine = make_engine(settings)
    with make_session_factory(engine)() as db, db.begin():
        ledger.bind_settings(db, settings)
        org = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        for name in ("wang.fang", "li.na"):
            made = identity.create_account(
                session=db,
                secret=load_secret(settings),
                username=name,
                display_name=name,
                role="physician",
                org_id=org.id,
                password=PASSWORD,
            )
            seeds[made.account.id] = made.totp_secret or ""
    engine.dispose()
    return Installed(settings=settings, seeds=seeds)


def _can_log_in(installed: Installed) -> bool:
    account_id, seed = next(iter(installed.seeds.items()))
    for session in installed.session():
        with session.begin():
            username = session.get_one(Account, account_id).username
            code = totp.code_at(seed, totp.step_of(identity.utcnow()))
            outcome = login(
                session=session,
                secret=load_secret(installed.settings),
                settings=installed.settings,
                username=username,
                password=PASSWORD,
                totp_code=code,
                terminal_id="ws-1",
            )
        return outcome.error is None
    raise AssertionError("unreachable")


def test_rotation_re_encrypts_every_seed_and_swaps_the_key(installed: Installed) -> None:
    old = load_secret(installed.settings)
    result = runner.invoke(app, ["rotate-secret", "--yes"])
    assert result.exit_code == 0, result.output
    assert "secret rotated: 2 TOTP seeds" in result.output
    path = installed.settings.secret_key_path()
    new = load_secret(installed.settings)
    assert new != old and len(new) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not pending_secret_path(installed.settings).exists()
    assert installed.seeds_decrypt_with(new) and not installed.seeds_decrypt_with(old)
    assert _can_log_in(installed)
    for session in installed.session():
        events = [e for e in ledger.iter_events(session=session) if e.resource_type == "installation_secret"]
        assert len(events) == 1
        assert events[0].user_id == "local-operator" and events[0].action == "update"
        assert old.hex() not in events[0].canonical_json().decode()


def test_declining_the_confirmation_changes_nothing(installed: Installed) -> None:
    before = installed.settings.secret_key_path().read_bytes()
    stored = installed.stored()
    result = runner.invoke(app, ["rotate-secret"], input="n\n")
    assert result.exit_code != 0
    assert installed.settings.secret_key_path().read_bytes() == before
    assert installed.stored() == stored


def test_crash_after_commit_is_completed_by_finish(installed: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    old = load_secret(installed.settings)

    def crash(*_: object) -> None:
        raise OSError("power lost before the rename")  # the database has committed by now

    with monkeypatch.context() as patched:
        patched.setattr("piguard.identity.secret_rotation.os.replace", crash)
        interrupted = runner.invoke(app, ["rotate-secret", "--yes"])
    assert interrupted.exit_code == 2 and "rotate-secret --finish" in interrupted.output
    pending = pending_secret_path(installed.settings)
    assert pending.exists()
    new = read_secret_file(pending)
    assert installed.seeds_decrypt_with(new) and not installed.seeds_decrypt_with(old)
    # Until settled, nothing starts with either key: a service holding the old one could not log anyone in.
    blocked = runner.invoke(app, ["users", "list"])
    assert blocked.exit_code != 0 and "rotate-secret --finish" in blocked.output
    again = runner.invoke(app, ["rotate-secret", "--yes"])
    assert again.exit_code == 2 and "unfinished" in again.output
    finished = runner.invoke(app, ["rotate-secret", "--finish"])
    assert finished.exit_code == 0, finished.output
    assert "secret completed: 2 TOTP seeds" in finished.output
    assert load_secret(installed.settings) == new and not pending.exists()
    assert _can_log_in(installed)


def test_crash_before_commit_is_rolled_back_by_finish(installed: Installed) -> None:
    old = load_secret(installed.settings)
    pending = pending_secret_path(installed.settings)
    write_private(pending, secrets.token_hex(32).encode())  # the new secret written, the transaction never committed
    finished = runner.invoke(app, ["rotate-secret", "--finish"])
    assert finished.exit_code == 0, finished.output
    assert "secret rolled back" in finished.output
    assert not pending.exists() and load_secret(installed.settings) == old
    assert installed.seeds_decrypt_with(old)


def test_a_seed_that_does_not_decrypt_stops_the_rotation_and_loses_nothing(installed: Installed) -> None:
    victim = next(iter(installed.seeds))
    for session in installed.session():
        with session.begin():
            account = session.get_one(Account, victim)
            account.totp_secret_enc = b"\x00" * 40
    stored = installed.stored()
    before = installed.settings.secret_key_path().read_bytes()
    result = runner.invoke(app, ["rotate-secret", "--yes"])
    assert result.exit_code == 2
    assert "does not decrypt" in result.output and "Traceback" not in result.output
    assert installed.stored() == stored
    assert installed.settings.secret_key_path().read_bytes() == before
    assert not pending_secret_path(installed.settings).exists()


def test_finish_refuses_a_mixed_database_and_keeps_both_keys(installed: Installed) -> None:
    pending = pending_secret_path(installed.settings)
    other = secrets.token_bytes(32)
    write_private(pending, other.hex().encode())
    victim, seed = next(iter(installed.seeds.items()))
    for session in installed.session():
        with session.begin():
            account = session.get_one(Account, victim)
            account.totp_secret_enc = totp.encrypt_secret(seed, app_secret=other, account_id=victim)
    result = runner.invoke(app, ["rotate-secret", "--finish"])
    assert result.exit_code == 2
    assert "1 decrypt with the pending secret and 1 with the current one" in result.output
    assert pending.exists() and installed.settings.secret_key_path().exists()


def test_finish_without_a_pending_rotation_says_so(installed: Installed) -> None:
    result = runner.invoke(app, ["rotate-secret", "--finish"])
    assert result.exit_code == 2 and "no secret rotation is pending" in result.output
