"""Reproducible random samples for spot checks (pure: no database, no global random state).

Each candidate id is ranked by ``SHA-256(seed || 0x00 || id)`` and the ``size`` lowest ranks
are drawn. The draw is a pure function of the seed and the set of ids: it does not depend on
the order the database returns rows in, on the Python version or on any random generator's
implementation, and adding or removing one candidate never reshuffles the others (an inspector
can explain exactly why one record was drawn and another not). The list is then given in rank
order, which is as random as the draw.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence

SEED_BYTES = 8  # 64 bits: a sample cannot be steered by trying seeds until a wanted one appears


def new_seed() -> str:
    """A fresh random seed (hex), recorded with the spot check so the draw can be repeated."""
    return secrets.token_hex(SEED_BYTES)


def rank(seed: str, candidate: str) -> str:
    """The candidate's position key under this seed (hex SHA-256; lower is drawn first)."""
    return hashlib.sha256(seed.encode() + b"\x00" + candidate.encode()).hexdigest()


def draw(population: Iterable[str], *, seed: str, size: int) -> list[str]:
    """The ``size`` candidates with the lowest rank under ``seed`` (all of them if fewer), in rank order."""
    if size < 0:
        raise ValueError("sample size must not be negative")
    unique = set(population)
    ranked = sorted(unique, key=lambda candidate: (rank(seed, candidate), candidate))
    return ranked[:size]


def population_digest(population: Iterable[str]) -> str:
    """SHA-256 of the sorted, distinct ids: proof of which population the sample was drawn from."""
    joined = "\n".join(sorted(set(population)))
    return hashlib.sha256(joined.encode()).hexdigest()


def same_sample(recorded: Sequence[str], redrawn: Sequence[str]) -> bool:
    """Whether a re-draw reproduced the recorded sample exactly (same ids, same order)."""
    return list(recorded) == list(redrawn)
