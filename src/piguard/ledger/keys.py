"""The ledger's Ed25519 signing key: created by ``piguard init`` (mode 0600), loaded strictly.

Its public half is kept beside it (``<key file>.pub``, PEM), written when the key is created or
rotated in, and whenever the key is loaded and the file is missing or differs: the stored signed
checkpoints can then still be checked and served (``GET /api/v1/audit/checkpoint``) while the
private key is missing or unusable.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from piguard.config import Settings
from piguard.errors import ConfigError
from piguard.keys import check_private_file, write_private

log = logging.getLogger("piguard.ledger")
#: Public key files this process could not write: warned about once, not at every load.
_unwritable: set[Path] = set()


def new_private_key_pem() -> bytes:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    return _private_pem(Ed25519PrivateKey.generate())


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_signing_key(settings: Settings) -> bool:
    """Create the checkpoint signing key if missing; True when a new key was written."""
    path = settings.ledger_key_path()
    if path.exists():
        return False
    key = Ed25519PrivateKey.generate()
    write_private(path, _private_pem(key))
    save_public_key(settings, key)
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
    stat = check_private_file(path, "ledger key file")
    key = _load(path.resolve(), stat.st_mtime_ns, stat.st_size)
    save_public_key(settings, key)  # one small read when it is there; older installations get one
    return key


def public_key_path(settings: Settings) -> Path:
    """Where the signing key's public half is kept (PEM), beside the key file."""
    path = settings.ledger_key_path()
    return path.with_name(path.name + ".pub")


def save_public_key(settings: Settings, key: Ed25519PrivateKey) -> None:
    """Keep ``key``'s public half beside the key file (atomic; a read-only folder only logs a warning)."""
    path = public_key_path(settings)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        if path.is_file() and path.read_bytes() == pem:
            return
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # concurrent workers write their own
        tmp.write_bytes(pem)
        tmp.chmod(0o644)  # a public key: anyone may read it
        os.replace(tmp, path)
    except OSError as exc:
        # Signing does not need it; only checking checkpoints while the private key is missing does.
        if path not in _unwritable:
            _unwritable.add(path)
            log.warning("could not save the ledger's public key beside the key file (%s)", exc.strerror or exc)


def load_public_key(settings: Settings) -> bytes | None:
    """The raw Ed25519 public key saved beside the key file; None if there is none usable."""
    try:
        key = serialization.load_pem_public_key(public_key_path(settings).read_bytes())
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, Ed25519PublicKey):
        return None
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte Ed25519 public key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
