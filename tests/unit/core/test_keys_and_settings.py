"""Secrets are generated 0600, never overwritten, and the service refuses placeholders."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from piguard.config import Settings
from piguard.errors import ConfigError
from piguard.keys import ensure_secret, load_secret


def test_secret_generated_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert ensure_secret(settings) is True
    path = settings.secret_key_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = load_secret(settings)
    assert len(first) == 32
    assert ensure_secret(settings) is False
    assert load_secret(settings) == first


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        (b"changeme", 0o600, "placeholder"),
        (b"0" * 64, 0o600, "placeholder"),
        (b"9f3a1c7e5b2d8046", 0o600, "shorter"),
        # Short and an obvious pattern: a placeholder, which 'piguard init' replaces.
        (b"0123456789abcdef", 0o600, "placeholder"),
        (b"not hex at all, but long enough to pass the length", 0o600, "hex"),
        (b"a1" * 32, 0o644, "readable by others"),
    ],
)
def test_bad_secrets_refused(tmp_path: Path, content: bytes, mode: int, message: str) -> None:
    settings = Settings(data_dir=tmp_path)
    path = settings.secret_key_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=message):
        load_secret(settings)


def test_missing_secret_refuses_to_start(tmp_path: Path) -> None:
    from piguard.api.app import create_app

    with pytest.raises(ConfigError, match="piguard init"):
        create_app(Settings(data_dir=tmp_path))


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PIGUARD_TOKEN_LIFETIME_SECONDS", "600")
    settings = Settings()
    assert settings.token_lifetime_seconds == 600
    assert settings.resolved_database_url() == f"sqlite:///{(tmp_path / 'piguard.db').resolve()}"
    monkeypatch.setenv("PIGUARD_TOKEN_LIFETIME_SECONDS", "0")
    with pytest.raises(ValueError, match="token_lifetime_seconds"):
        Settings()
