"""A placeholder or weak installation secret: refused everywhere, replaced by `piguard init` when that is safe."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import ConfigError
from piguard.identity import secret_rotation, totp
from piguard.identity import service as identity
from piguard.identity.models import Account
from piguard.keys import ReplaceableSecretError, load_secret, pending_secret_path, read_secret_file
from piguard.ledger import service as ledger
from piguard.ledger.keys import load_signing_key
from piguard.records import service as records

runner = CliRunner()
WEAK = ["0123456789abcdef" * 4, "a" * 64, bytes(range(32)).hex(), "deadbeef" * 8, "0f1e2d3c" * 8]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A data directory made by `piguard init` (SQLite)."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    load_all_models()
    return Settings(data_dir=data_dir)


def _overwrite_secret(settings: Settings, text: str) -> None:
    path = settings.secret_key_path()
    path.write_text(text)
    path.chmod(0o600)


def _seed_account(settings: Settings, secret: bytes) -> str:
    """An account whose TOTP seed is encrypted under ``secret``; returns the seed."""
    engine = make_engine(settings)
    with make_session_factory(engine)() as db, db.begin():
        ledger.bind_settings(db, settings)
        org = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        made = identity.create_account(
            session=db, secret=secret, username="wang.fang", display_name="Wang Fang", role="physician", org_id=org.id
        )
    engine.dispose()
    assert made.totp_secret is not None
    return made.totp_secret


def _seed_decrypts_with(settings: Settings, key: bytes, seed: str) -> bool:
    engine = make_engine(settings)
    with make_session_factory(engine)() as db:
        account = identity.get_account_by_username(session=db, username="wang.fang")
        blob = db.get_one(Account, account.id).totp_secret_enc
    engine.dispose()
    assert blob is not None
    try:
        return totp.decrypt_secret(blob, app_secret=key, account_id=account.id) == seed
    except ConfigError:
        return False


@pytest.mark.parametrize("text", WEAK)
def test_low_entropy_secrets_are_refused_with_a_reason(settings: Settings, text: str) -> None:
    _overwrite_secret(settings, text)
    with pytest.raises(ReplaceableSecretError, match=r"holds a weak secret \(.+\): run 'piguard init' to replace it"):
        load_secret(settings)
    assert len(read_secret_file(settings.secret_key_path(), allow_weak=True)) == 32  # a rotation can still read it


def test_a_generated_secret_is_not_weak(settings: Settings) -> None:
    for _ in range(200):
        _overwrite_secret(settings, secrets.token_hex(32))
        assert len(load_secret(settings)) == 32


@pytest.mark.parametrize("text", ["changeme", "0123456789abcdef" * 4])
def test_init_replaces_a_placeholder_or_weak_secret_nothing_is_encrypted_under(settings: Settings, text: str) -> None:
    _overwrite_secret(settings, text)
    serve = runner.invoke(app, ["serve"])
    assert serve.exit_code == 2 and "run 'piguard init' to replace it" in serve.output
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    secret_line = next(line for line in result.output.splitlines() if line.startswith("secret"))
    assert "(replaced: it held a" in secret_line
    path = settings.secret_key_path()
    assert path.read_text() != text and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(load_secret(settings)) == 32
    assert not pending_secret_path(settings).exists()
    engine = make_engine(settings)
    with make_session_factory(engine)() as db:
        event = list(ledger.iter_events(session=db))[-1]
    engine.dispose()
    assert (event.user_id, event.action, event.resource_type) == ("local-operator", "update", "installation_secret")
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0 and "(kept)" in again.output


def test_a_weak_secret_with_seeds_under_it_is_rotated_as_init_says(settings: Settings) -> None:
    weak = "0123456789abcdef" * 4
    _overwrite_secret(settings, weak)
    seed = _seed_account(settings, bytes.fromhex(weak))
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "1 TOTP seeds are encrypted under it" in result.output
    assert "piguard rotate-secret --yes" in result.output
    assert settings.secret_key_path().read_text() == weak  # nothing changed
    rotated = runner.invoke(app, ["rotate-secret", "--yes"])
    assert rotated.exit_code == 0, rotated.output
    new = load_secret(settings)
    assert _seed_decrypts_with(settings, new, seed)
    assert runner.invoke(app, ["init"]).exit_code == 0


def test_a_placeholder_with_seeds_under_another_secret_is_kept_and_the_backup_asked_for(settings: Settings) -> None:
    seed = _seed_account(settings, load_secret(settings))
    backup = settings.secret_key_path().read_text()
    _overwrite_secret(settings, "changeme")
    rotate = runner.invoke(app, ["rotate-secret", "--yes"])
    assert rotate.exit_code == 2 and "holds a placeholder: run 'piguard init' to replace it" in rotate.output
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "1 TOTP seeds encrypted under another secret" in result.output
    assert "put back the key file from your backup" in result.output
    assert settings.secret_key_path().read_text() == "changeme"  # a new secret would lock wang.fang out
    _overwrite_secret(settings, backup)
    assert _seed_decrypts_with(settings, load_secret(settings), seed)


def test_a_replacement_interrupted_before_the_swap_is_completed_by_finish(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _overwrite_secret(settings, "changeme")

    def crash(_: Settings) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(secret_rotation, "_swap_in", crash)
    assert runner.invoke(app, ["init"]).exit_code != 0
    monkeypatch.undo()
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(settings.data_dir))
    assert pending_secret_path(settings).exists()
    finish = runner.invoke(app, ["rotate-secret", "--finish"])
    assert finish.exit_code == 0, finish.output
    assert "completed" in finish.output
    assert len(load_secret(settings)) == 32


def test_init_does_not_replace_a_lost_secret_that_seeds_are_encrypted_under(settings: Settings) -> None:
    key = load_secret(settings)
    seed = _seed_account(settings, key)
    path = settings.secret_key_path()
    path.rename(path.with_name("moved.key"))
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "is missing but 1 TOTP seeds in the database are encrypted under a secret" in result.output
    assert "restore the key file" in result.output
    assert not path.exists()  # nothing generated: the account is not locked out
    path.with_name("moved.key").rename(path)
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert _seed_decrypts_with(settings, load_secret(settings), seed)


def test_init_creates_a_missing_secret_when_nothing_is_encrypted(settings: Settings) -> None:
    settings.secret_key_path().unlink()
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "(new)" in result.output
    assert stat.S_IMODE(settings.secret_key_path().stat().st_mode) == 0o600


def test_init_does_not_replace_a_lost_ledger_key_that_checkpoints_are_signed_with(settings: Settings) -> None:
    assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0  # one signed checkpoint
    key = settings.ledger_key_path()
    key.rename(key.with_name("moved.key"))
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "is missing but the database holds 1 checkpoints signed with it" in result.output.replace("\n", " ")
    assert not key.exists()  # no new key: the checkpoints still verify once the file is back
    key.with_name("moved.key").rename(key)
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_a_key_in_a_folder_others_may_write_to_is_refused(settings: Settings) -> None:
    folder = settings.secret_key_path().parent
    folder.chmod(0o777)  # anyone could swap the key files for their own
    swapped = r"is in a folder others may write to \(and so replace it\): chmod 700"
    with pytest.raises(ConfigError, match=swapped):
        load_secret(settings)
    with pytest.raises(ConfigError, match=swapped):
        load_signing_key(settings)
    folder.chmod(0o1777)  # sticky, as /tmp: nobody replaces another's file
    assert len(load_secret(settings)) == 32
    folder.chmod(0o700)


def test_a_key_file_of_another_user_is_refused(settings: Settings) -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    os.chown(settings.secret_key_path(), 65534, -1)
    try:
        with pytest.raises(ConfigError, match=r"belongs to another user \(uid 65534\): chown it"):
            load_secret(settings)
    finally:
        os.chown(settings.secret_key_path(), 0, -1)
