"""Failed-login counters, exponential backoff and lockout, per account, unknown username and source address."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from piguard.identity.models import LoginThrottle

# Backoff starts after this many consecutive failures: 1 s, then 2 s, 4 s, ... up to MAX_BACKOFF.
BACKOFF_AFTER = 3
MAX_BACKOFF_SECONDS = 60
# A source address (a whole hospital may sit behind one NAT) gets this many times the per-account
# allowance within the lockout window before it is locked out as well.
SOURCE_FACTOR = 10
# An IPv6 client usually holds a whole /64 and may take any address in it: the /64 is one source,
# or a new address per attempt would never trip the per-address lockout.
IPV6_SOURCE_PREFIX = 64
# Attempted usernames and addresses are few enough to enumerate, so a plain digest of one could be
# reversed; a keyed hash cannot be without the installation secret.
_KEY_INFO = b"piguard/identity/login-throttle-key/v1"


def account_key(account_id: str) -> str:
    """Throttle key of a known account."""
    return f"acct:{account_id}"


def _hash_key(secret: bytes) -> bytes:
    # A dedicated subkey of the installation secret, as for the TOTP seeds.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret)


def _keyed(value: str, *, secret: bytes) -> str:
    return hmac.new(_hash_key(secret), value.encode(), hashlib.sha256).hexdigest()


def name_key(username: str, *, secret: bytes) -> str:
    """Throttle key of a username that names no account (keyed hash: it may be a mistyped password)."""
    return "name:" + _keyed(username, secret=secret)


def source_key(source_ip: str, *, secret: bytes) -> str:
    """Throttle key of a client address (keyed hash: addresses are personal data); IPv6 counts per /64.

    A login without a known address (the API passes None for a peer that is no IP address) takes no
    per-address bucket at all (``identity.login`` skips it): only the per-account lockout applies.
    """
    return "ip:" + _keyed(_source_bucket(source_ip), secret=secret)


def _source_bucket(source_ip: str) -> str:
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return source_ip  # the API passes canonical addresses only; other callers keep their text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)  # one IPv4 client, however its socket reported it
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(address), IPV6_SOURCE_PREFIX), strict=False))
    return str(address)


def load(session: Session, key: str, *, now: datetime) -> LoginThrottle:
    """The throttle row for ``key``, created if missing and locked so concurrent failures all count."""
    # Insert-if-absent first: two first-time attempts racing on one key must not both insert.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, window_start=now)
        .on_conflict_do_nothing(index_elements=[LoginThrottle.key])
    )
    locked = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    return session.scalars(locked.execution_options(populate_existing=True)).one()


def wait_seconds(row: LoginThrottle, *, now: datetime, window_seconds: int, backoff: bool) -> int | None:
    """Seconds the caller must wait before another attempt, or None if an attempt is allowed now."""
    if row.locked_until is not None and row.locked_until > now:
        return max(1, math.ceil((row.locked_until - now).total_seconds()))
    if now - row.window_start > timedelta(seconds=window_seconds):
        # Failures older than the window no longer count.
        row.failures = 0
        row.window_start = now
        row.locked_until = None
        return None
    if backoff and row.failures >= BACKOFF_AFTER and row.last_failure_at is not None:
        delay = min(2 ** (row.failures - BACKOFF_AFTER), MAX_BACKOFF_SECONDS)
        until = row.last_failure_at + timedelta(seconds=delay)
        if until > now:
            return max(1, math.ceil((until - now).total_seconds()))
    return None


def fail(row: LoginThrottle, *, now: datetime, max_failures: int, lockout_seconds: int) -> bool:
    """Count one failure; returns True when this failure locks the key for ``lockout_seconds``."""
    if row.failures == 0:
        row.window_start = now
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= max_failures:
        row.locked_until = now + timedelta(seconds=lockout_seconds)
        row.failures = 0
        row.window_start = now
        return True
    return False


def clear(session: Session, row: LoginThrottle) -> None:
    """Forget the failures of ``row`` (after a successful login)."""
    session.delete(row)
