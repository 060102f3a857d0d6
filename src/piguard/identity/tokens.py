"""Opaque bearer tokens and API keys: random, shown once, only their SHA-256 stored."""

from __future__ import annotations

import hashlib
import re
import secrets

from piguard.errors import InputError

ACCESS_PREFIX = "pgt_"
# A workstation or vehicle terminal id: tokens are bound to it and every access event carries it,
# so it is held to one rule wherever it comes in (login, API key header, command line).
TERMINAL_ID_PATTERN = r"^[\x21-\x7e]{1,64}$"
_TERMINAL_ID = re.compile(TERMINAL_ID_PATTERN)
API_KEY_PREFIX = "pgk_"
# 32 random bytes: a stolen database yields only SHA-256 digests of 256-bit values, which cannot be
# inverted or guessed, so a keyed hash would add nothing here.
_TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^pg[tk]_[A-Za-z0-9_-]{43}$")


def new_access_token() -> str:
    """A fresh access token (``pgt_`` + 43 URL-safe characters)."""
    return ACCESS_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_api_key() -> str:
    """A fresh service API key (``pgk_`` + 43 URL-safe characters)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def well_formed(token: str) -> bool:
    """Whether ``token`` has the shape of a piguard token or key (cheap check before any lookup)."""
    return TOKEN_PATTERN.fullmatch(token) is not None


def is_api_key(token: str) -> bool:
    """Whether ``token`` is a service API key rather than a login token."""
    return token.startswith(API_KEY_PREFIX)


def token_hash(token: str) -> bytes:
    """The stored form of a token or key: its SHA-256 digest."""
    return hashlib.sha256(token.encode("ascii")).digest()


def check_terminal_id(value: str, *, where: str) -> str:
    """``value`` stripped, if it is 1-64 printable ASCII characters without spaces; else ``InputError``."""
    value = value.strip()
    if not _TERMINAL_ID.fullmatch(value):
        raise InputError("must be 1-64 printable ASCII characters without spaces", where=where)
    return value
