"""Rotating the ledger's signing key without breaking anyone's trust in its history.

A rotation signs the current tree twice:

- a *rotation note*: the checkpoint of the current tree with one extension line
  ``piguard-key-rotation <new vkey>``, signed by the old key and by the new one. The old key's
  signature over that line is what endorses the new key (a plain checkpoint the old key signed
  says nothing about other keys, so adding a signature of one's own to it proves nothing); the
  new key's signature names the old key as its predecessor.
- the plain checkpoint of that size, signed by both keys, so readers holding either key (the
  public checkpoint, witnesses, ``audit verify``) can go on from it.

Checkpoints up to the rotation's size belong to the old key, larger ones to the new key only:
a leaked, retired key cannot sign any of the log's later history that a verifier accepts.
Every link is signed by both of its keys, so trusting any key of the chain (the first one,
published when the log was set up, or the current one) lets a verifier check all of it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.base import utcnow
from piguard.errors import ConfigError, InputError, LedgerError, SignatureError
from piguard.keys import write_private
from piguard.ledger import store
from piguard.ledger.checkpoint import (
    ROTATION,
    Checkpoint,
    SignedCheckpoint,
    Verifier,
    open_checkpoint,
    parse_vkey,
    sign_note,
    verifier_for,
    verify_note,
)
from piguard.ledger.extension import RetiredKeyError, check_extends
from piguard.ledger.keys import load_signing_key, new_private_key_pem, pending_key_path, save_public_key
from piguard.ledger.models import LedgerCheckpoint, LedgerKeyRotation

EXTENSION = ROTATION


@dataclass(frozen=True, slots=True)
class KeyRotation:
    """One verified rotation: from ``old`` to ``new`` at tree size ``tree_size``."""

    tree_size: int
    root: bytes
    old: Verifier
    new: Verifier
    note: str


@dataclass(frozen=True, slots=True)
class KeyPeriod:
    """A key and the checkpoint sizes it signs: ``first <= size <= last`` (``last`` None: open)."""

    verifier: Verifier
    first: int
    last: int | None

    def covers(self, size: int) -> bool:
        """Whether a checkpoint of ``size`` may carry this key's signature."""
        return self.first <= size and (self.last is None or size <= self.last)


@dataclass(frozen=True, slots=True)
class StoredRotation:
    """A rotation as stored or published: the retired key and the note (checked by ``follow``)."""

    old_vkey: str
    note: str


def rotation_body(checkpoint: Checkpoint, new: Verifier) -> str:
    """The checkpoint text with the extension line that names the new key."""
    plain = Checkpoint(origin=checkpoint.origin, size=checkpoint.size, root=checkpoint.root)
    return plain.body() + f"{EXTENSION}{new.vkey()}\n"


def sign_twice(body: str, *, name: str, first: Ed25519PrivateKey, second: Ed25519PrivateKey) -> str:
    """A signed note carrying the signatures of two keys over the same body."""
    note = sign_note(body, name=name, key=first)
    return note + sign_note(body, name=name, key=second)[len(body) + 1 :]


def open_rotation(note: str, old: Verifier) -> KeyRotation:
    """Verify a rotation note against the key it retires; returns the rotation it records."""
    signed = open_checkpoint(note, old, extensions=True)
    extensions = signed.checkpoint.extensions
    if len(extensions) != 1 or not extensions[0].startswith(EXTENSION):
        raise SignatureError("a rotation note must carry exactly one 'piguard-key-rotation' line")
    new = parse_vkey(extensions[0][len(EXTENSION) :])
    if new.name != old.name:
        raise SignatureError("a rotation must keep the log's key name (its origin)")
    if new == old:
        raise SignatureError("a rotation note must name a new key")
    try:
        verify_note(note, new)  # the new key's holder signed the same statement
    except SignatureError:
        raise SignatureError(f"the rotation is not signed by the new key it names ({new.key_id.hex()})") from None
    return KeyRotation(tree_size=signed.tree_size, root=signed.root, old=old, new=new, note=note)


def chain(rotations: Sequence[StoredRotation]) -> list[KeyRotation]:
    """Verify stored rotations (oldest first) and that each starts from the key the last one named."""
    verified: list[KeyRotation] = []
    for number, stored in enumerate(rotations, start=1):
        try:
            rotation = open_rotation(stored.note, parse_vkey(stored.old_vkey))
        except LedgerError as exc:
            raise SignatureError(f"key rotation {number}: {exc}") from None
        if verified and rotation.old != verified[-1].new:
            raise SignatureError(f"key rotation {number} retires a key the rotation before it did not bring in")
        if verified and rotation.tree_size < verified[-1].tree_size:
            raise SignatureError(f"key rotation {number} is at a smaller tree size than the one before it")
        verified.append(rotation)
    return verified


def periods(rotations: Sequence[StoredRotation], trusted: Verifier) -> list[KeyPeriod]:
    """The keys of the log's history and the sizes each signs, if ``trusted`` is one of them."""
    links = chain(rotations)
    keys = [links[0].old, *(link.new for link in links)] if links else [trusted]
    if trusted not in keys:
        raise SignatureError(
            f"the trusted key (key id {trusted.key_id.hex()}) is not one of the log's signing keys "
            f"({', '.join(key.key_id.hex() for key in keys)})"
        )
    bounds = [0, *(link.tree_size for link in links)]
    return [
        KeyPeriod(verifier=key, first=bounds[i], last=bounds[i + 1] if i + 1 < len(bounds) else None)
        for i, key in enumerate(keys)
    ]


def open_in_history(note: str, history: Sequence[KeyPeriod]) -> Checkpoint:
    """Open a checkpoint with the key that signs its size; raises ``SignatureError`` otherwise."""
    return open_signed(note, history)[1].checkpoint


def open_signed(note: str, history: Sequence[KeyPeriod]) -> tuple[KeyPeriod, SignedCheckpoint]:
    """The period whose key signed ``note`` and signs its size, and the checkpoint.

    A key's signature counts only for the sizes of its period: a key retired at tree size N signs
    sizes up to N (the rotation's own checkpoint, which both keys sign), never a larger one.
    """
    errors: list[str] = []
    for period in history:
        try:
            signed = open_checkpoint(note, period.verifier)
        except LedgerError as exc:
            errors.append(str(exc))
            continue
        if not period.covers(signed.tree_size):
            errors.append(outside(period, signed.tree_size))
            continue
        return period, signed
    raise SignatureError(errors[-1] if len(errors) == 1 else "; ".join(dict.fromkeys(errors)))


def outside(period: KeyPeriod, size: int) -> str:
    """Why a signature by ``period``'s key does not count for a checkpoint of ``size``."""
    if period.last is not None and size > period.last:
        return f"signed by key {period.verifier.key_id.hex()}, which was retired at tree size {period.last}"
    return f"signed by key {period.verifier.key_id.hex()}, which signs sizes from {period.first} only"


def published(rotations: Sequence[StoredRotation]) -> list[dict[str, object]]:
    """The rotations as published for witnesses and auditors (keys, sizes and notes only)."""
    out: list[dict[str, object]] = []
    for link, stored in zip(chain(rotations), rotations, strict=True):
        out.append(
            {
                "tree_size": link.tree_size,
                "old_key": stored.old_vkey,
                "new_key": link.new.vkey(),
                "note": stored.note,
            }
        )
    return out


def from_published(data: object, where: str) -> list[StoredRotation]:
    """Rotations read from their published JSON (a list, or ``{"rotations": [...]}``)."""
    if isinstance(data, dict) and "rotations" in data:
        data = data["rotations"]
    if not isinstance(data, list):
        raise InputError("key rotations must be a JSON list of {old_key, note}", where=where)
    rotations: list[StoredRotation] = []
    for number, item in enumerate(data, start=1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("old_key"), str)
            or not isinstance(item.get("note"), str)
        ):
            raise InputError(f"key rotation {number} needs 'old_key' and 'note' strings", where=where)
        rotations.append(StoredRotation(old_vkey=item["old_key"], note=item["note"]))
    return rotations


def stored_rotations(session: Session) -> list[StoredRotation]:
    """The rotations in the database, oldest first (not yet verified: see ``chain``)."""
    rows = session.execute(select(LedgerKeyRotation.old_vkey, LedgerKeyRotation.note).order_by(LedgerKeyRotation.seq))
    return [StoredRotation(old_vkey=str(old), note=str(note)) for old, note in rows]


def history(session: Session, settings: Settings, trusted: Verifier | None = None) -> list[KeyPeriod]:
    """The key history, trusting ``trusted`` (default: the first key the database records)."""
    rotations = stored_rotations(session)
    if trusted is None:
        trusted = parse_vkey(rotations[0].old_vkey) if rotations else _current(settings)
    return periods(rotations, trusted)


def _current(settings: Settings) -> Verifier:
    return verifier_for(settings.ledger_origin, load_signing_key(settings))


def check_not_retired(session: Session, verifier: Verifier) -> None:
    """Raise ``RetiredKeyError`` if a stored rotation retired ``verifier``'s key: it signs nothing more.

    A key file restored from a backup made before a rotation holds such a key. Every checkpoint
    up to the rotation carries its signature, so ``check_signed_by`` alone would let it sign the
    later history, which no verifier accepts from it. One read of the (few) rotation rows; they
    are not verified here: a record that does not verify is ``audit verify``'s to report, and
    refusing to sign on its word costs only a skipped checkpoint.
    """
    rows = session.execute(
        select(LedgerKeyRotation.tree_size, LedgerKeyRotation.old_vkey, LedgerKeyRotation.new_vkey).order_by(
            LedgerKeyRotation.seq
        )
    ).all()
    latest = _key_of(str(rows[-1][2])) if rows else None
    retired = next((int(size) for size, old, _ in rows if _key_of(str(old)) == verifier), None)
    if retired is not None and latest != verifier:  # a key brought back by a later rotation signs again
        raise RetiredKeyError(verifier.key_id.hex(), retired, latest.key_id.hex() if latest else "unknown")


def _key_of(vkey: str) -> Verifier | None:
    try:
        return parse_vkey(vkey)
    except LedgerError:
        return None  # a malformed row: 'audit verify' names it


def rotate(*, session: Session, settings: Settings) -> KeyRotation:
    """Retire the signing key for a new one, in the caller's transaction (see ``replace_key_file``).

    The new key is written beside the old one first (``*.next``, mode 0600), so it cannot be
    lost once the transaction commits; the caller then calls ``replace_key_file``.
    """
    old_key = load_signing_key(settings)
    old = verifier_for(settings.ledger_origin, old_key)
    check_not_retired(session, old)  # a key file restored from before a rotation: exit 2, say so
    rotations = stored_rotations(session)
    if rotations and chain(rotations)[-1].new != old:
        raise LedgerError("the signing key file is not the key the last rotation brought in")
    head = store.lock_head(session)
    check_extends(session, head, old)  # never endorse a new key over a forked or rolled-back tree
    pending = pending_key_path(settings)
    write_private(pending, new_private_key_pem())
    new_key = serialization.load_pem_private_key(pending.read_bytes(), password=None)
    assert isinstance(new_key, Ed25519PrivateKey)
    new = verifier_for(settings.ledger_origin, new_key)
    body = Checkpoint(origin=settings.ledger_origin, size=head.range.size, root=head.range.root())
    note = sign_twice(rotation_body(body, new), name=body.origin, first=old_key, second=new_key)
    plain = sign_twice(body.body(), name=body.origin, first=old_key, second=new_key)
    now = utcnow()
    session.add(
        LedgerKeyRotation(tree_size=body.size, old_vkey=old.vkey(), new_vkey=new.vkey(), note=note, created_at=now)
    )
    exists = session.execute(select(LedgerCheckpoint.tree_size).where(LedgerCheckpoint.tree_size == body.size))
    if exists.first() is None:
        store.insert_checkpoint(session, tree_size=body.size, root=body.root, note=plain, created_at=now)
    else:
        # The note already stored for this size carries the old key's signature; this one
        # carries both, so a reader that knows only the new key can start from it.
        session.execute(update(LedgerCheckpoint).where(LedgerCheckpoint.tree_size == body.size).values(note=plain))
    store.save_head(session, head.range, checkpoint_size=body.size, checkpoint_time=now)
    session.flush()
    return KeyRotation(tree_size=body.size, root=body.root, old=old, new=new, note=note)


def replace_key_file(settings: Settings) -> None:
    """Put the committed new key in place of the retired one (which is deleted by the rename)."""
    pending, path = pending_key_path(settings), settings.ledger_key_path()
    os.replace(pending, path)
    _sync_dir(path.parent)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if isinstance(key, Ed25519PrivateKey):  # always: rotate wrote it; its public half goes beside it
        save_public_key(settings, key)


def discard_pending(settings: Settings) -> None:
    """Remove the new key of a rotation whose transaction did not commit."""
    pending_key_path(settings).unlink(missing_ok=True)


def finish_interrupted(*, session: Session, settings: Settings) -> bool | None:
    """Complete or undo a rotation interrupted between its commit and the key file's rename.

    True: the pending key was the one the last rotation brought in, and is now in place;
    False: it belonged to a rotation that never committed, and is removed; None: nothing pending.
    """
    pending = pending_key_path(settings)
    if not pending.exists():
        return None
    try:
        key = serialization.load_pem_private_key(pending.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"pending key file {pending} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"pending key file {pending} does not hold an Ed25519 key")
    rotations = stored_rotations(session)
    committed = bool(rotations) and chain(rotations)[-1].new == verifier_for(settings.ledger_origin, key)
    if committed:
        replace_key_file(settings)
    else:
        discard_pending(settings)
    return committed


def _sync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
