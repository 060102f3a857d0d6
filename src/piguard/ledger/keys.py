"""The ledger's Ed25519 signing key: created by ``piguard init`` (mode 0600), loaded strictly."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from piguard.config import Settings
from piguard.errors import ConfigError
from piguard.keys import write_private


def new_private_key_pem() -> bytes:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_signing_key(settings: Settings) -> bool:
    """Create the checkpoint signing key if missing; True when a new key was written."""
    path = settings.ledger_key_path()
    if path.exists():
        return False
    write_private(path, new_private_key_pem())
    return True


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int, size: int) -> Ed25519PrivateKey:
    # Keyed on mtime and size so a replaced key file is re-read; signing then costs no file I/O.
    del mtime_ns, size
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"ledger key file {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"ledger key file {path} does not hold an Ed25519 key")
    return key


def pending_key_path(settings: Settings) -> Path:
    """Where a key rotation keeps the new key until its transaction has committed."""
    path = settings.ledger_key_path()
    return path.with_name(path.name + ".next")


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key; refuses a missing, world-readable or malformed file."""
    path = settings.ledger_key_path()
    if not path.exists():
        raise ConfigError(f"ledger key file {path} is missing: run 'piguard init'")
    if pending_key_path(settings).exists():
        # Mid-rotation the old key may no longer sign new sizes: sign nothing until it is settled.
        raise ConfigError("a ledger key rotation is unfinished: run 'piguard audit rotate-key --finish'")
    stat = path.stat()
    if stat.st_mode & 0o077:
        raise ConfigError(f"ledger key file {path} is readable by others: chmod 600 it")
    return _load(path.resolve(), stat.st_mtime_ns, stat.st_size)


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte Ed25519 public key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
