"""Naming the kind of tampering: a pure classifier over leaf hashes and stored level-1 nodes.

When every row is self-consistent (each leaf hash matches its event) but the tree no longer
matches the stored interior nodes, the rows were moved, inserted, removed or rewritten
together with their hashes. The stored level-1 nodes, ``H(L[2k], L[2k+1])`` of the original
leaves ``L``, are witnesses of the original order: each hypothesis below is accepted only if
the current leaves ``C`` rearranged that way reproduce those witnesses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from piguard.ledger.merkle import node_hash

#: Level-1 node ``k`` as stored, or None where none exists (beyond the original tree).
PairReader = Callable[[int], bytes | None]
WINDOW = 64


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The kind of tampering and the first entry it touches."""

    kind: str
    index: int
    detail: str


def _matches(seq: Sequence[bytes | None], stored: PairReader, first: int, last: int) -> int:
    """Number of stored level-1 nodes in ``[first, last)`` that ``seq`` reproduces; -1 on a miss."""
    checked = 0
    for k in range(first, last):
        witness = stored(k)
        if witness is None or 2 * k + 1 >= len(seq):
            continue
        left, right = seq[2 * k], seq[2 * k + 1]
        if left is None or right is None:
            continue
        if node_hash(left, right) != witness:
            return -1
        checked += 1
    return checked


def _reordered(current: Sequence[bytes], stored: PairReader, bad: list[int]) -> bool:
    pool = [current[i] for k in bad for i in (2 * k, 2 * k + 1) if i < len(current)]
    if len(pool) > 2 * WINDOW:
        return False
    free = list(range(len(pool)))
    for k in bad:
        witness = stored(k)
        found = next(
            ((a, b) for a in free for b in free if a != b and node_hash(pool[a], pool[b]) == witness),
            None,
        )
        if found is None:
            return False
        free.remove(found[0])
        free.remove(found[1])
    return True


def diagnose(current: Sequence[bytes], stored: PairReader, bad: Sequence[int]) -> Diagnosis:
    """Classify self-consistent rows whose level-1 pairs ``bad`` (sorted) disagree with storage."""
    k0 = bad[0]
    last = min(k0 + WINDOW, len(current) // 2 + 1)
    if len(bad) <= WINDOW and _reordered(current, stored, list(bad)):
        moved = [i for k in bad for i in (2 * k, 2 * k + 1)]
        return Diagnosis(
            "reordered_events",
            min(moved),
            f"entries {min(moved)}..{max(moved)} hold the original events in a different order",
        )
    for p in (2 * k0, 2 * k0 + 1):
        without = [*current[:p], *current[p + 1 :]]
        if _matches(without, stored, k0, last) > 0:
            return Diagnosis(
                "inserted_event",
                p,
                f"entry {p} is not part of the signed history; later entries were renumbered",
            )
    with_gap: list[bytes | None] = [*current[: 2 * k0], None, *current[2 * k0 :]]
    if _matches(with_gap, stored, k0 + 1, last + 1) > 0:
        return Diagnosis(
            "deleted_event",
            2 * k0,
            f"an event at entry {2 * k0} or {2 * k0 + 1} was removed and later entries renumbered",
        )
    if len(bad) == 1:
        return Diagnosis(
            "modified_event",
            2 * k0,
            f"entry {2 * k0} or {2 * k0 + 1} was changed and its leaf hash rewritten to match",
        )
    return Diagnosis("rewritten_history", 2 * k0, f"entries from {2 * k0} on differ from the stored tree")
