"""Hashes and keyed pseudonyms (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac

from piguard.errors import ConfigError, InputError

MIN_KEY_BYTES = 16


def hash_value(value: str, *, length: int = 64) -> str:
    """Unkeyed SHA-256 hex of the UTF-8 value, truncated to ``length`` hex digits.

    Anyone can recompute it, so for low-entropy values (phone numbers, ID numbers) it is
    reversible by enumeration; prefer ``pseudonymize`` wherever the key can be kept.
    """
    _check_length(length)
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:length]


def pseudonymize(value: str, *, key: bytes, domain: str = "", length: int = 16) -> str:
    """Keyed pseudonym: hex HMAC-SHA256(key, domain NUL value), truncated to ``length`` hex digits.

    The same value under the same key and domain always gives the same pseudonym, so
    joins across files survive; without the key it cannot be reversed by enumeration.
    The domain (e.g. the entity name) keeps equal strings of different kinds apart.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"pseudonym key must be at least {MIN_KEY_BYTES} bytes")
    _check_length(length)
    message = domain.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:length]


def _check_length(length: int) -> None:
    # Below 8 hex digits collisions become likely even in small tables.
    if not 8 <= length <= 64:
        raise InputError("hash length must be between 8 and 64 hex digits", where="length")
