"""Rotating the installation secret: every TOTP seed re-encrypted in one transaction, then the key file swapped.

The secret decrypts the TOTP seeds and keys the pseudonyms; an operator replaces it when it may
have been copied (a departed administrator, a leaked backup). The new secret is written to
``secret.key.next`` and synced before the database changes, so a crash at any point leaves either
the old state (the ``.next`` file is discarded) or a re-encrypted database whose key is on disk;
``finish_rotation`` tells the two apart by trying both keys on the stored seeds.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from piguard.config import Settings
from piguard.errors import ConfigError
from piguard.identity import audit, totp
from piguard.identity.models import Account
from piguard.keys import (
    MIN_SECRET_BYTES,
    ReplaceableSecretError,
    load_secret,
    pending_secret_path,
    read_secret_file,
    write_private,
)
from piguard.ledger import service as ledger

INSTALLATION = audit.INSTALLATION


@dataclass(frozen=True, slots=True)
class RotationResult:
    """What a rotation (or its completion) did."""

    outcome: Literal["rotated", "completed", "rolled back"]
    seeds: int  # TOTP seeds now encrypted under the secret in force


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(settings: Settings) -> None:
    """Make the pending secret the installation's secret (atomic rename, then the folder synced)."""
    current = settings.secret_key_path()
    os.replace(pending_secret_path(settings), current)
    _sync_directory(current.parent)


def _write_pending(settings: Settings) -> bytes:
    """A fresh secret written (0600, synced) to the pending path; returns it."""
    new_hex = secrets.token_hex(MIN_SECRET_BYTES)
    write_private(pending_secret_path(settings), new_hex.encode())
    return bytes.fromhex(new_hex)


def _seeded(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.totp_secret_enc.is_not(None)).order_by(Account.id)))


def rotate_secret(
    *, settings: Settings, sessions: sessionmaker[Session], now: datetime | None = None
) -> RotationResult:
    """Generate a new secret, re-encrypt every TOTP seed under it, record the change, swap the files."""
    # Refuses while an earlier rotation is unfinished; a weak secret is exactly what to rotate away.
    old = load_secret(settings, allow_weak=True)
    new = _write_pending(settings)
    pending = pending_secret_path(settings)
    try:
        with sessions() as session, session.begin():
            ledger.bind_settings(session, settings)
            accounts = _seeded(session)
            for account in accounts:
                assert account.totp_secret_enc is not None
                seed = totp.decrypt_secret(account.totp_secret_enc, app_secret=old, account_id=account.id)
                account.totp_secret_enc = totp.encrypt_secret(seed, app_secret=new, account_id=account.id)
            audit.record_operator_change(
                session,
                at=now or datetime.now(UTC),
                org_id=INSTALLATION,
                action="update",
                reason=f"installation secret rotated by the operator: {len(accounts)} TOTP seeds re-encrypted",
                resource_type="installation_secret",
                resource_id="secret.key",
            )
    except BaseException:
        pending.unlink(missing_ok=True)  # nothing was committed: the old secret stays in force
        raise
    try:
        _swap_in(settings)
    except OSError as exc:
        raise ConfigError(
            f"the seeds are re-encrypted but the key file could not be replaced ({exc.strerror or exc}): "
            "run 'piguard rotate-secret --finish'"
        ) from None
    return RotationResult(outcome="rotated", seeds=len(accounts))


def _decrypts(account: Account, key: bytes) -> bool:
    assert account.totp_secret_enc is not None
    try:
        totp.decrypt_secret(account.totp_secret_enc, app_secret=key, account_id=account.id)
    except ConfigError:
        return False
    return True


def finish_rotation(*, settings: Settings, sessions: sessionmaker[Session]) -> RotationResult:
    """Settle an interrupted rotation: keep the key the stored seeds decrypt with, discard the other."""
    pending = pending_secret_path(settings)
    if not pending.exists():
        raise ConfigError("no secret rotation is pending")
    new = read_secret_file(pending)
    try:
        old: bytes | None = read_secret_file(settings.secret_key_path(), allow_weak=True)
    except ReplaceableSecretError as placeholder:
        old = placeholder.key  # None: a placeholder replaced by 'piguard init' decrypts nothing
    with sessions() as session, session.begin():
        accounts = _seeded(session)
        under_new = sum(_decrypts(account, new) for account in accounts)
        under_old = sum(_decrypts(account, old) for account in accounts) if old is not None else 0
    if under_new == len(accounts):
        _swap_in(settings)  # the database committed the new secret (or holds no seeds at all)
        return RotationResult(outcome="completed", seeds=len(accounts))
    if under_old == len(accounts):
        pending.unlink()
        _sync_directory(pending.parent)
        return RotationResult(outcome="rolled back", seeds=len(accounts))
    raise ConfigError(
        f"of {len(accounts)} stored TOTP seeds, {under_new} decrypt with the pending secret and {under_old} "
        "with the current one: an account was created or re-enrolled by a process still holding the old "
        "secret; keep both key files and restore from backup or re-enrol those accounts"
    )


def check_secret_may_be_created(*, settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Refuse to create a missing secret while TOTP seeds are stored (``piguard init``).

    The seeds were encrypted under the lost key file: a new secret would lock every one of those
    accounts out and change every pseudonym, so the operator must put the file back instead.
    """
    with sessions() as session:
        if Account.__tablename__ not in inspect(session.connection()).get_table_names():
            return  # a new database: nothing is encrypted yet
        count = session.scalar(select(func.count()).select_from(Account).where(Account.totp_secret_enc.is_not(None)))
    if count:
        raise ConfigError(
            f"secret key file {settings.secret_key_path()} is missing but {count} TOTP seeds in the database are "
            "encrypted under a secret: restore the key file from backup (or point PIGUARD_SECRET_KEY_FILE at it); "
            "a new secret would lock those accounts out"
        )


def replace_unusable_secret(
    *, settings: Settings, sessions: sessionmaker[Session], problem: ReplaceableSecretError, now: datetime | None = None
) -> None:
    """Replace a placeholder or weak secret that no TOTP seed is encrypted under (``piguard init``).

    When seeds are stored, a new secret would lock their accounts out, so nothing is changed and
    the ConfigError says what to do instead: rotate a weak secret they decrypt with, or put back
    the key file they were encrypted under. Crash-safe like a rotation (``--finish`` settles it).
    """
    pending = pending_secret_path(settings)
    _write_pending(settings)
    try:
        with sessions() as session, session.begin():
            ledger.bind_settings(session, settings)
            accounts = _seeded(session)
            if accounts:
                raise _seeds_stored(problem, accounts)
            audit.record_operator_change(
                session,
                at=now or datetime.now(UTC),
                org_id=INSTALLATION,
                action="update",
                reason=f"installation secret replaced by the operator: the key file held {problem.what}",
                resource_type="installation_secret",
                resource_id="secret.key",
            )
    except BaseException:
        pending.unlink(missing_ok=True)  # nothing was committed: the file stays as it was
        raise
    _swap_in(settings)


def _seeds_stored(problem: ReplaceableSecretError, accounts: list[Account]) -> ConfigError:
    """What to do instead of replacing an unusable secret while TOTP seeds are stored."""
    count = len(accounts)
    if problem.key is not None and all(_decrypts(account, problem.key) for account in accounts):
        return ConfigError(
            f"secret key file {problem.path} holds {problem.what} and {count} TOTP seeds are encrypted under it: "
            "stop every 'piguard serve', then run 'piguard rotate-secret --yes' to replace it"
        )
    return ConfigError(
        f"secret key file {problem.path} holds {problem.what}, but the database holds {count} TOTP seeds encrypted "
        "under another secret: put back the key file from your backup of the keys folder (a new secret would lock "
        "those accounts out)"
    )
