"""TOTP (RFC 6238) with replay protection, and the secrets encrypted at rest with AES-GCM."""

from __future__ import annotations

import hmac
import os
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from piguard.errors import ConfigError

ISSUER = "piguard"
STEP_SECONDS = 30
DIGITS = 6
# One step either side tolerates clock drift between the server and the authenticator app.
DRIFT_STEPS = 1
_NONCE_BYTES = 12
_KEY_INFO = b"piguard/identity/totp-secret/v1"


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=username, issuer_name=ISSUER)


def step_of(at: datetime) -> int:
    """The RFC 6238 time step containing ``at``."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of one time step (used by tests and by the CLI's demo helper)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def match_step(secret: str, code: str, *, at: datetime) -> int | None:
    """The step whose code equals ``code`` within the drift window, or None (constant-time compare)."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_of(at)
    found: int | None = None
    # Every candidate is compared so the time taken does not depend on which one matched.
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code) and found is None:
            found = step
    return found


def _key(app_secret: bytes) -> bytes:
    # A dedicated subkey: the app secret also signs tokens and pseudonyms, so it is never used directly.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(app_secret)


def encrypt_secret(secret: str, *, app_secret: bytes, account_id: str) -> bytes:
    """AES-256-GCM ciphertext (nonce first), bound to the account id as associated data."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(_key(app_secret)).encrypt(nonce, secret.encode("ascii"), account_id.encode())


def decrypt_secret(blob: bytes, *, app_secret: bytes, account_id: str) -> str:
    """Decrypt a stored TOTP secret; a wrong key or a row moved to another account is a ConfigError."""
    try:
        plain = AESGCM(_key(app_secret)).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], account_id.encode())
    except (InvalidTag, ValueError):
        raise ConfigError("stored TOTP secret does not decrypt with this installation's secret key") from None
    return plain.decode("ascii")
