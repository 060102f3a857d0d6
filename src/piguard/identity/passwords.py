"""Password hashing with Argon2id (OWASP parameters), a dummy hash for unknown users, password rules."""

from __future__ import annotations

import contextlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from piguard.errors import InputError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# OWASP Password Storage Cheat Sheet, Argon2id: m=19 MiB, t=2, p=1.
OWASP = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
# Demo-only profile (documented in docs/identity.md): ~1 ms per hash so the demo can create 200
# accounts within its time budget. Such hashes are upgraded to OWASP parameters at the first login.
DEMO = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)


def hash_password(password: str, *, demo: bool = False) -> str:
    """Argon2id hash of ``password`` (OWASP parameters unless ``demo``)."""
    return (DEMO if demo else OWASP).hash(password)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password with the production parameters, verified for unknown users."""
    return OWASP.hash(secrets.token_urlsafe(24))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no stored hash, a dummy hash is verified so timing matches."""
    if stored_hash is None:
        with contextlib.suppress(VerificationError):
            OWASP.verify(dummy_hash(), password)
        return False
    try:
        return OWASP.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the stored hash uses weaker parameters than OWASP (e.g. a demo hash)."""
    try:
        return OWASP.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def check_password_rules(password: str, *, where: str = "password") -> None:
    """Refuse passwords that are too short or too long (length rules per NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"must be at least {MIN_PASSWORD_LENGTH} characters", where=where)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"must be at most {MAX_PASSWORD_LENGTH} characters", where=where)


def generate_password() -> str:
    """A random initial password (20 URL-safe characters, ~120 bits)."""
    return secrets.token_urlsafe(15)
