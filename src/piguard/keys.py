"""Generated secrets: created by ``piguard init`` with mode 0600, never committed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from piguard.config import Settings
from piguard.errors import ConfigError

PLACEHOLDERS = {b"", b"changeme", b"change-me", b"secret", b"placeholder", b"0" * 64}
MIN_SECRET_BYTES = 32


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (its folder 0700) and write ``data``; never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())  # a key must be on disk before anything is encrypted or signed with it


def ensure_secret(settings: Settings) -> bool:
    """Create the HMAC secret if missing; returns True when a new one was written."""
    path = settings.secret_key_path()
    if path.exists():
        return False
    write_private(path, secrets.token_hex(32).encode())
    return True


def pending_secret_path(settings: Settings) -> Path:
    """Where a secret rotation keeps the new secret until the re-encrypted seeds have committed."""
    path = settings.secret_key_path()
    return path.with_name(path.name + ".next")


def load_secret(settings: Settings) -> bytes:
    """The HMAC secret; refuses a missing, world-readable, short or placeholder secret."""
    path = settings.secret_key_path()
    if not path.exists():
        raise ConfigError(f"secret key file {path} is missing: run 'piguard init'")
    if pending_secret_path(settings).exists():
        # Mid-rotation the database may already hold seeds encrypted under the new secret.
        raise ConfigError("a secret rotation is unfinished: run 'piguard rotate-secret --finish'")
    return read_secret_file(path)


def read_secret_file(path: Path) -> bytes:
    """Read and check one secret file: private, hex, long enough, not a placeholder."""
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"secret key file {path} is readable by others: chmod 600 it")
    raw = path.read_bytes().strip()
    if raw.lower() in PLACEHOLDERS or len(set(raw)) < 8:
        raise ConfigError(f"secret key file {path} holds a placeholder: run 'piguard init' anew")
    try:
        key = bytes.fromhex(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(f"secret key file {path} is not hex-encoded") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(f"secret key file {path} is shorter than {MIN_SECRET_BYTES} bytes")
    return key
