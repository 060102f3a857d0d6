"""Sign only a tree that extends the last signed checkpoint, never a fork or a rollback.

Appends extend, and checkpoints sign, the tree the ``ledger_head`` row describes (its size and
compact-range frontier). Whoever can write to the database can overwrite that row: a forged
frontier makes every later checkpoint sign a tree that forks from the signed history and from
the stored entries; a deleted or shrunken head, a rolled-back one. So before anything is signed,
``check_extends`` rebuilds the head from what is already signed and stored:

1. the latest stored checkpoint, its signature verified (a forged note cannot pass);
2. the stored nodes of that size, which must fold into its signed root (O(log n) nodes, one read);
3. that compact range extended with the stored leaf hashes since (at most a checkpoint interval:
   ``checkpoint_every_entries``, or what arrived within ``checkpoint_every_seconds``; on the
   append path only up to the head as read, before this transaction's own leaves),

and requires the result to be exactly the head's frontier. Any difference raises ``TamperError``;
a signing key that did not sign the latest checkpoint raises ``ForeignKeyError``, a ``ConfigError``
(nothing is signed). A key a stored rotation retired did sign the checkpoints up to the rotation,
so that test passes it: ``rotation.check_not_retired`` (run first wherever anything is signed or
served) raises ``RetiredKeyError`` for it, a ``ConfigError`` too.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from piguard.errors import ConfigError, LedgerError, TamperError
from piguard.ledger import store
from piguard.ledger.checkpoint import SignedCheckpoint, Verifier, open_checkpoint, parse_note
from piguard.ledger.merkle import CompactRange, fold, perfect_subtrees

_RUN_VERIFY = "run 'piguard audit verify'"


class ForeignKeyError(ConfigError):
    """The signing key did not sign the latest stored checkpoint: it is not this log's key."""

    def __init__(self, key_id: str, signed_by: str) -> None:
        self.key_id, self.signed_by = key_id, signed_by
        super().__init__(
            f"refusing to sign: the signing key (key id {key_id}) did not sign the latest stored checkpoint "
            f"(signed by key id {signed_by}); it is not this log's key: restore the key file "
            "(a new key must be brought in with 'piguard audit rotate-key')"
        )


class RetiredKeyError(ConfigError):
    """The signing key is one a stored key rotation retired: it signs no checkpoint any more."""

    def __init__(self, key_id: str, tree_size: int, current: str) -> None:
        self.key_id, self.tree_size, self.current = key_id, tree_size, current
        super().__init__(
            f"refusing to sign: the signing key (key id {key_id}) was retired at tree size {tree_size} by a stored "
            f"key rotation; the log's current key is key id {current}. The key file holds a copy made before the "
            "rotation (a backup restored?): put the current key back (with an unfinished rotation: "
            "'piguard audit rotate-key --finish')"
        )


def check_signed_by(note: str, verifier: Verifier) -> None:
    """Raise ``ForeignKeyError`` if no signature line of ``note`` is by ``verifier``'s key.

    A replaced or misplaced key file, not tampering: a configuration error, so the append path
    skips the checkpoint as it does for a missing key and ``audit checkpoint`` exits 2. A note that
    cannot be parsed raises ``SignatureError`` (tampering).
    """
    _, signatures = parse_note(note)
    if not any(sig.name == verifier.name and sig.key_id == verifier.key_id for sig in signatures):
        raise ForeignKeyError(verifier.key_id.hex(), ", ".join(sorted({sig.key_id.hex() for sig in signatures})))


def _open_latest(note: str, verifier: Verifier) -> SignedCheckpoint:
    """The latest stored checkpoint, verified with the signing key's public half.

    A note with no signature by this key is ``ForeignKeyError`` (see ``check_signed_by``); a bad
    or unreadable signature is tampering.
    """
    try:
        check_signed_by(note, verifier)
        return open_checkpoint(note, verifier)
    except LedgerError as exc:  # a malformed note or a signature that fails
        raise TamperError(
            f"refusing to sign: the latest stored checkpoint does not verify ({exc}); {_RUN_VERIFY}"
        ) from None


def check_extends(
    session: Session, head: store.Head, verifier: Verifier, *, loaded: CompactRange | None = None
) -> None:
    """Raise ``TamperError`` unless the head's tree extends the latest signed checkpoint exactly.

    ``loaded``: the frontier as read from the head row, when ``head.range`` has since been
    extended in memory by the leaves this transaction appended (computed here, so trusted): only
    the stored part needs checking, and the rebuilt tail stays short.
    """
    frontier = head.range if loaded is None else loaded
    note = store.checkpoint_note(session)
    if note is None:
        if head.checkpoint_size:
            raise TamperError(
                f"refusing to sign: the head records a signed checkpoint of size {head.checkpoint_size}, "
                f"but none is stored; {_RUN_VERIFY}"
            )
        return
    last = _open_latest(note, verifier)
    size, signed = frontier.size, last.tree_size
    if head.checkpoint_size > signed:
        raise TamperError(
            f"refusing to sign: the head records a signed checkpoint of size {head.checkpoint_size}, "
            f"the largest stored is {signed}; {_RUN_VERIFY}"
        )
    if size < signed:
        raise TamperError(
            f"refusing to sign a rollback: the head holds {size} entries, the last signed checkpoint "
            f"covers {signed}; {_RUN_VERIFY}"
        )
    prefix = store.read_nodes(session, perfect_subtrees(0, signed))
    rebuilt = CompactRange(size=signed, hashes=[prefix[node] for node in perfect_subtrees(0, signed)])
    if fold(rebuilt.hashes) != last.root:
        raise TamperError(
            f"refusing to sign: the stored tree no longer matches the signed checkpoint of size {signed}; {_RUN_VERIFY}"
        )
    tail = store.leaf_hashes(session, signed, size)
    if [idx for idx, _ in tail] != list(range(signed, size)):
        raise TamperError(f"refusing to sign: entries between {signed} and {size} are missing; {_RUN_VERIFY}")
    try:
        for _, digest in tail:
            rebuilt.append(digest)
    except LedgerError as exc:
        raise TamperError(f"refusing to sign: a stored leaf hash after entry {signed} is malformed ({exc})") from None
    if rebuilt.hashes != frontier.hashes:
        raise TamperError(
            f"refusing to sign: the ledger head's frontier ({size} entries) is not the signed checkpoint "
            f"of size {signed} extended by the entries stored since (a corrupt or forged head); {_RUN_VERIFY}"
        )
