"""The ledger service: append access events, checkpoint, prove, read back.

Every function runs in the caller's transaction and never commits: the door owns
``with session.begin():`` so a disclosure and its ledger entry commit or fail together.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.base import utcnow
from piguard.db.prepared import connection_of
from piguard.errors import ConfigError, ProofError, TamperError
from piguard.interchange.events import AccessEvent
from piguard.ledger import extension, rotation, selection, store
from piguard.ledger.canonical import canonical_event
from piguard.ledger.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    Verifier,
    naming,
    open_checkpoint,
    sign_checkpoint,
    verifier_for,
)
from piguard.ledger.keys import load_public_key, load_signing_key
from piguard.ledger.merkle import CompactRange, NodeId, leaf_hash, tree

log = logging.getLogger("piguard.ledger")
#: Key of ``Session.info`` under which a door may place its ``Settings`` (else: environment).
SETTINGS_INFO_KEY = "piguard_settings"


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of acknowledgement: the leaf's index, its hash and the tree size after the append."""

    index: int
    leaf_hash: bytes
    tree_size: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored leaf with its event."""

    index: int
    leaf_hash: bytes
    data: bytes
    event: AccessEvent


def settings_for(session: Session) -> Settings:
    """The settings a door attached to the session, else those of the environment."""
    attached = session.info.get(SETTINGS_INFO_KEY)
    return attached if isinstance(attached, Settings) else Settings()


def bind_settings(session: Session, settings: Settings) -> Session:
    """Attach settings (signing key path, origin, checkpoint cadence) to a session."""
    session.info[SETTINGS_INFO_KEY] = settings
    return session


def time_us(value: datetime) -> int:
    """Microseconds since the epoch (UTC) of an aware datetime, as the entries table stores it."""
    return store.to_us(value)


def append(*, session: Session, event: AccessEvent) -> Receipt:
    """Append one access event in the caller's transaction; returns its receipt."""
    return append_many(session=session, events=(event,))[0]


def append_many(*, session: Session, events: Iterable[AccessEvent]) -> list[Receipt]:
    """Append events in order, in the caller's transaction (one lock, batched inserts)."""
    connection = connection_of(session)
    head = store.lock_head(connection)
    tree_range = head.range
    loaded = CompactRange(size=tree_range.size, hashes=list(tree_range.hashes))  # as stored, for the check
    rows: list[tuple[Any, ...]] = []
    nodes: list[tuple[NodeId, bytes]] = []
    receipts: list[Receipt] = []
    for event in events:
        data = canonical_event(event)
        digest = leaf_hash(data)
        index = tree_range.size
        nodes.extend(tree_range.append(digest))
        rows.append((index, digest, data, event.event_id, time_us(event.time), event.user_id, event.subject_id))
        receipts.append(Receipt(index=index, leaf_hash=digest, tree_size=index + 1))
    if not rows:
        return receipts
    try:
        store.insert_entries(connection, rows)
    except IntegrityError:
        # Appends hold the head lock, so a taken index means the head is behind the stored entries.
        raise TamperError(
            f"entries from index {rows[0][0]} are already stored: the ledger head ({rows[0][0]} entries) is behind "
            "the stored entries; run 'piguard audit verify'"
        ) from None
    store.insert_nodes(connection, nodes)
    made = _maybe_checkpoint(session, head, loaded)
    if made is None:
        store.save_head(connection, tree_range)
    return receipts


def _due(head: store.Head, settings: Settings) -> bool:
    if head.range.size <= head.checkpoint_size:
        return False
    if head.range.size - head.checkpoint_size >= settings.checkpoint_every_entries:
        return True
    if head.checkpoint_time is None:
        return True
    return (utcnow() - head.checkpoint_time).total_seconds() >= settings.checkpoint_every_seconds


def _maybe_checkpoint(session: Session, head: store.Head, loaded: CompactRange) -> SignedCheckpoint | None:
    settings = settings_for(session)
    if not _due(head, settings):
        return None
    try:
        return _make_checkpoint(session, head, settings, loaded=loaded)
    except ConfigError as exc:
        # Recording the disclosure matters more than the periodic checkpoint; say so loudly.
        log.warning("ledger checkpoint skipped: %s", exc)
        return None
    except TamperError as exc:
        # The head no longer extends the signed history: appending to it would acknowledge entries
        # whose inclusion no honest checkpoint can prove. Refuse the append (the disclosure fails).
        log.error("ledger append refused: %s", exc)
        raise


def _make_checkpoint(
    session: Session, head: store.Head, settings: Settings, *, loaded: CompactRange | None = None
) -> SignedCheckpoint:
    key = load_signing_key(settings)
    verifier = verifier_for(settings.ledger_origin, key)
    rotation.check_not_retired(session, verifier)  # a restored pre-rotation key file (ConfigError)
    extension.check_extends(session, head, verifier, loaded=loaded)
    body = Checkpoint(origin=settings.ledger_origin, size=head.range.size, root=head.range.root())
    signed = sign_checkpoint(body, key=key)
    now = utcnow()
    store.insert_checkpoint(session, tree_size=body.size, root=body.root, note=signed.note, created_at=now)
    store.save_head(session, head.range, checkpoint_size=body.size, checkpoint_time=now)
    return signed


def checkpoint(*, session: Session, settings: Settings | None = None) -> SignedCheckpoint:
    """Sign and store a checkpoint of the current tree (or return the stored one of that size)."""
    settings = settings or settings_for(session)
    head = store.lock_head(session)
    stored = store.checkpoint_note(session, head.range.size)
    if stored is not None:
        verifier = log_verifier(settings)
        rotation.check_not_retired(session, verifier)  # it signed this size, but may not vouch for it now
        with naming(f"stored checkpoint of size {head.range.size}"):
            # A key file that did not sign it is the same configuration error as when there is
            # something to sign (ForeignKeyError, exit 2), not a note that fails to verify.
            extension.check_signed_by(stored, verifier)
            return open_checkpoint(stored, verifier)
    return _make_checkpoint(session, head, settings)


def check_signing_ready(*, session: Session, settings: Settings | None = None) -> None:
    """``ConfigError`` unless this installation can sign its next checkpoint (``piguard serve`` at start).

    The key file must load (present, owner-only), not be one a rotation retired, carry the log's
    name (``PIGUARD_LEDGER_ORIGIN`` as the stored checkpoints have it) and have signed the latest
    checkpoint. Otherwise the service would run and skip every checkpoint, and the public one
    would answer 503, with nothing said at start.
    """
    settings = settings or settings_for(session)
    note = store.checkpoint_note(session)
    if note is not None:
        stored = note.split("\n", 1)[0]
        if stored != settings.ledger_origin:
            raise ConfigError(
                f"PIGUARD_LEDGER_ORIGIN is '{settings.ledger_origin}' but the log's checkpoints are named "
                f"'{stored}': set it back (the origin names the log and its key, and cannot change once signed)"
            )
    verifier = log_verifier(settings)  # a missing or group-readable key file: ConfigError naming it
    rotation.check_not_retired(session, verifier)
    if note is not None:
        extension.check_signed_by(note, verifier)


def log_verifier(settings: Settings) -> Verifier:
    """The verifier (public key, named by the origin) of this installation's checkpoints."""
    return verifier_for(settings.ledger_origin, load_signing_key(settings))


class KeyUnavailableError(ConfigError):
    """Neither the signing key nor its saved public half can be loaded (the message names no path)."""


def public_verifier(settings: Settings) -> Verifier:
    """The log's verifier: from the signing key, else from the public key saved beside the key file.

    Checking a stored checkpoint needs only the public key; it is saved whenever the key is
    created, rotated in or loaded (``ledger.keys``), so a missing or unusable private key does not
    stop the public checkpoint being checked and served. ``KeyUnavailableError`` if neither loads.
    """
    try:
        return log_verifier(settings)
    except ConfigError:
        public = load_public_key(settings)
        if public is None:
            raise KeyUnavailableError(
                "the ledger's signing key cannot be loaded and its public key was not saved beside it, "
                "so the stored checkpoints cannot be checked"
            ) from None
        return Verifier(name=settings.ledger_origin, public_key=public)


def latest_checkpoint(
    *, session: Session, settings: Settings | None = None, verifier: Verifier | None = None
) -> SignedCheckpoint | None:
    """The largest stored checkpoint, signature checked; None before the first one.

    ``verifier`` defaults to ``public_verifier``; a key a stored rotation retired is
    ``RetiredKeyError`` and a note it did not sign at all ``ForeignKeyError`` (a restored or
    replaced key file), a signature that fails ``SignatureError``.
    """
    note = store.checkpoint_note(session)
    if note is None:
        return None
    verifier = verifier or public_verifier(settings or settings_for(session))
    rotation.check_not_retired(session, verifier)
    with naming("latest stored checkpoint"):
        extension.check_signed_by(note, verifier)
        return open_checkpoint(note, verifier)


def count(*, session: Session) -> int:
    """Number of entries in the ledger (the tree size)."""
    return store.read_head(session).range.size


def _reader(session: Session) -> tree.NodeReader:
    def read(ids: Collection[NodeId]) -> Mapping[NodeId, bytes]:
        return store.read_nodes(session, ids)

    return read


def _check_size(session: Session, size: int) -> None:
    if type(size) is not int or size < 0:  # a bool or float must not pass for a size
        raise ProofError(f"tree size must be a non-negative integer, got {size!r}")
    current = count(session=session)
    if size > current:
        raise ProofError(f"tree size {size} is larger than the ledger ({current} entries)")


def root(*, session: Session, size: int | None = None) -> bytes:
    """Root hash of the first ``size`` entries (default: all)."""
    head = store.read_head(session)
    if size is None:
        return head.range.root()
    _check_size(session, size)
    if size == head.range.size:
        return head.range.root()
    return tree.root_at(size, _reader(session))


def read_leaf_hash(*, session: Session, index: int) -> bytes:
    """The stored leaf hash of entry ``index``."""
    current = count(session=session)
    # An index beyond the log is a bad request, not a missing (tampered) row.
    if type(index) is not int or not 0 <= index < current:
        raise ProofError(f"index {index!r} is not an entry of the ledger ({current} entries)")
    return store.read_nodes(session, [(0, index)])[(0, index)]


def inclusion_proof(*, session: Session, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    _check_size(session, size)
    return tree.inclusion_proof(index, size, _reader(session))


def inclusion_proofs(*, session: Session, indexes: Sequence[int], size: int) -> list[list[bytes]]:
    """Inclusion proofs of many entries in the tree of ``size``: one batched read of shared nodes."""
    _check_size(session, size)
    return tree.inclusion_proofs(indexes, size, _reader(session))


def consistency_proof(*, session: Session, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 consistency proof between tree sizes ``size1`` <= ``size2``."""
    _check_size(session, size2)
    return tree.consistency_proof(size1, size2, _reader(session))


def _event(index: int, data: bytes) -> AccessEvent:
    try:
        return AccessEvent.model_validate_json(data)
    except ValidationError:
        raise TamperError(f"entry {index}: stored event is not a valid access event") from None


def iter_entries(
    *,
    session: Session,
    start: int = 0,
    end: int | None = None,
    user_id: str | None = None,
    subject_id: str | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    or_no_subject: bool = False,
    batch: int = 5000,
) -> Iterator[Entry]:
    """Stored entries in index order, optionally selected (``time_to`` is exclusive).

    With ``or_no_subject``, entries naming no subject are kept too (searches, prints, dispatch
    reads): the caller then tells from the event whether it concerns ``subject_id``. Every entry
    read is checked (leaf hash, copied columns against the leaf) and a selection also reads the
    entries whose columns were edited away from it: either raises ``TamperError`` (see
    ``ledger.selection``).
    """
    wanted = selection.Selection(
        user_id=user_id, subject_id=subject_id, time_from=time_from, time_to=time_to, or_no_subject=or_no_subject
    )
    stmt = selection.statement(session, wanted, start=start, end=end)
    table = store.ENTRIES
    last = start - 1
    while True:
        # Keyset pagination: bounded memory, and no server-side cursor needed on either backend.
        try:
            rows = session.execute(stmt.where(table.c.idx > last).order_by(table.c.idx).limit(batch)).all()
        except DataError:
            # PostgreSQL could not read a leaf's time as one (a date such as February 30th): no
            # event was ever appended with it, so the leaf was edited.
            raise TamperError("a stored event's time is not a valid time; run 'piguard audit verify'") from None
        for idx, digest, data, *values in rows:
            entry = _checked(int(idx), store.as_bytes(digest), store.as_bytes(data), values)
            if wanted.matches(user_id=values[2], subject_id=values[3], time_us=values[1]):
                yield entry
        if len(rows) < batch:
            return
        last = int(rows[-1][0])


def _checked(idx: int, digest: bytes, data: bytes, values: Sequence[Any]) -> Entry:
    """The entry, once its event, leaf hash and copied columns are checked (``TamperError`` if not)."""
    event = _event(idx, data)  # TEXT on SQLite after an edit with its text functions: as_bytes
    selection.check_row(idx, digest, data, (values[0], values[1], values[2], values[3]))
    return Entry(index=idx, leaf_hash=digest, data=data, event=event)


def entries_at(*, session: Session, indexes: Iterable[int], batch: int = 1000) -> Iterator[Entry]:
    """The stored entries of the given indexes, in index order (batched reads; absent ones skipped)."""
    wanted = sorted(set(indexes))
    for start in range(0, len(wanted), batch):
        for idx, digest, data, *values in store.entries_at(session, wanted[start : start + batch]):
            yield _checked(idx, digest, data, values)


def iter_events(
    *,
    session: Session,
    user_id: str | None = None,
    subject_id: str | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> Iterator[AccessEvent]:
    """Stored events in ledger order, optionally selected by user, subject and time."""
    for entry in iter_entries(
        session=session,
        user_id=user_id,
        subject_id=subject_id,
        time_from=time_from,
        time_to=time_to,
    ):
        yield entry.event
