"""A witness: keeps the last checkpoint it saw and accepts a new one only if consistent with it.

This is what catches a log operator who rolls the log back or shows different people
different histories (a split view): neither can be hidden from a party that remembers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from piguard.errors import InputError, LedgerError, ProofError
from piguard.ledger.checkpoint import SignedCheckpoint, Verifier, cosign, naming, open_checkpoint, parse_vkey
from piguard.ledger.merkle import verify_consistency
from piguard.ledger.rotation import StoredRotation, open_signed, periods

STATE_NOTE = "checkpoint.note"
STATE_KEY = "log.vkey"
COSIGNED_NOTE = "cosigned.note"


class RollbackError(LedgerError):
    """The log presented a smaller tree than the witness has already seen."""


class SplitViewError(LedgerError):
    """The log signed two different trees of the same size."""


class UnprovenExtensionError(LedgerError):
    """The consistency proof does not show that the new tree extends the one the witness has seen."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the witness concluded about a new checkpoint."""

    previous_size: int | None
    size: int
    note: str
    rotated_to: Verifier | None = None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def log_key(state: Path, given: str | None) -> Verifier:
    """The pinned log key: given now (and then pinned) or remembered from an earlier run."""
    pinned_path = state / STATE_KEY
    pinned = None
    if pinned_path.exists():
        with naming(pinned_path):
            pinned = parse_vkey(pinned_path.read_text(encoding="utf-8"))
    if given is None:
        if pinned is None:
            raise InputError("first run: give the log's verifier key (--log-key)", where=str(state))
        return pinned
    try:
        verifier = parse_vkey(given)
    except LedgerError as exc:
        raise InputError(str(exc), where="--log-key") from None
    if pinned is not None and verifier != pinned:
        raise LedgerError(f"the given log key differs from the key this witness has pinned in {pinned_path}")
    return verifier


def last_seen(state: Path, verifier: Verifier) -> SignedCheckpoint | None:
    """The checkpoint this witness accepted last, re-verified."""
    path = state / STATE_NOTE
    if not path.exists():
        return None
    with naming(path):
        return open_checkpoint(read_note(path), verifier)


def read_note(path: Path) -> str:
    """A note file's exact text: bytes decoded, no newline translation (a CR is refused as it is)."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=str(path)) from None


def open_new(note: str, pinned: Verifier, rotations: list[StoredRotation] | None) -> tuple[SignedCheckpoint, Verifier]:
    """Open a checkpoint with the pinned key or, through the log's key rotations, a key it endorsed.

    With the rotations known, every signature counts only for the sizes of its key's period, the
    pinned key's too: once retired at tree size N it signs sizes up to N, never a larger tree.
    Returns the checkpoint and the key to pin from now on: the one that signed it, so the note kept
    as the last one seen always opens with the pinned key.
    """
    if not rotations:
        return open_checkpoint(note, pinned), pinned
    history = periods(rotations, pinned)  # every link signed by both keys, starting from ours
    mine = [period.verifier for period in history].index(pinned)
    # A witness trusts keys from its own on: a key retired before it was pinned is not its concern.
    period, signed = open_signed(note, history[mine:])
    return signed, period.verifier


def observe(
    *,
    state: Path,
    note: str,
    verifier: Verifier,
    proof: list[bytes] | None,
    rotations: list[StoredRotation] | None = None,
    source: str | None = None,
) -> Observation:
    """Check a new checkpoint against the remembered one; remember it when consistent.

    ``source``: the file or URL the note came from, named in what is refused.
    """
    new, current = open_new(note, verifier, rotations)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    old = last_seen(state, verifier)
    if old is not None:
        if new.tree_size < old.tree_size:
            raise RollbackError(f"rollback: log now shows {new.tree_size} entries, the witness saw {old.tree_size}")
        if new.tree_size == old.tree_size and new.root != old.root:
            raise SplitViewError(f"split view: two different trees of size {new.tree_size}")
        if new.tree_size > old.tree_size:
            if proof is None:
                raise InputError(
                    f"the tree grew from {old.tree_size} entries (the checkpoint in {state / STATE_NOTE}) to "
                    f"{new.tree_size}: a consistency proof from size {old.tree_size} to {new.tree_size} is needed "
                    "(--consistency-file, or --checkpoint-url to fetch it)",
                    where=source,
                )
            try:
                verify_consistency(
                    size1=old.tree_size,
                    size2=new.tree_size,
                    proof=proof,
                    root1=old.root,
                    root2=new.root,
                )
            except ProofError as exc:
                # A bad proof alone does not prove a fork (the proof may be damaged), but the
                # checkpoint cannot be accepted either: say both, and fail like a verification.
                raise UnprovenExtensionError(
                    f"not accepted: the consistency proof does not show that the tree of {new.tree_size} "
                    f"entries extends the {old.tree_size} the witness saw ({exc}); the log either changed "
                    "its history (a split view) or served a wrong proof"
                ) from None
    _atomic_write(state / STATE_KEY, current.vkey() + "\n")
    _atomic_write(state / STATE_NOTE, note)
    return Observation(
        previous_size=old.tree_size if old else None,
        size=new.tree_size,
        note=note,
        rotated_to=None if current == verifier else current,
    )


def cosign_observed(*, state: Path, note: str, name: str, key: Ed25519PrivateKey, timestamp: int | None = None) -> str:
    """Add this witness's cosignature line to an accepted note and store it beside the state."""
    cosigned = cosign(note, name=name, key=key, timestamp=timestamp or int(time.time()))
    _atomic_write(state / COSIGNED_NOTE, cosigned)
    return cosigned
