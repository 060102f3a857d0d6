"""Scoring: per-detector tail p-values against peers, combined per user, mapped to [0, 1].

For each detector a user's count (distinct records, or events) is compared with the same
count among peers (same role and organisation; same role when that group is small). The
peers' mean and variance are taken after trimming their top decile, so a few insiders cannot
raise their own baseline, and the tail probability uses a negative binomial when peers are
over-dispersed (Poisson otherwise). Counts are absolute, not ratios: covering accesses that
imitate normal work add to the denominator of a ratio but cannot lower these counts, which is
what makes the ranking hold up against camouflage.

The per-detector p-values are combined twice, by Fisher's method (several moderate signals)
and by Tippett's minimum (one strong signal), and the smaller is doubled (Bonferroni over the
two). The score is the Sellke-Bayarri-Berger bound on the posterior probability of misuse,
``1 / (1 + (1 - prior) / prior * B)`` with ``B = -e p ln p``: a calibrated upper bound that
needs only the prior base rate of insiders (default 1 %), not labels.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats

MIN_GROUP = 5
MIN_MEAN = 0.001
SHRINK = 5.0
TRIM = 0.10
DEFAULT_PRIOR = 0.01


@dataclass(frozen=True, slots=True)
class PeerStats:
    """Trimmed mean and variance of a count among a user's peers."""

    mean: float
    var: float


def peer_keys(groups: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Each user's peer group: (role, org) if it has enough members, else (role,), else all."""
    by_role_org: dict[tuple[str, str], int] = defaultdict(int)
    by_role: dict[str, int] = defaultdict(int)
    for role, org in groups.values():
        by_role_org[(role, org)] += 1
        by_role[role] += 1
    keys: dict[str, tuple[str, ...]] = {}
    for user, (role, org) in groups.items():
        if by_role_org[(role, org)] >= MIN_GROUP:
            keys[user] = (role, org)
        elif by_role[role] >= MIN_GROUP:
            keys[user] = (role,)
        else:
            keys[user] = ()
    return keys


def _trimmed(values: list[int]) -> list[int]:
    values = sorted(values)
    drop = int(len(values) * TRIM) + 1 if len(values) >= MIN_GROUP else 0
    return values[: len(values) - drop] or values


def peer_stats(counts: Mapping[str, int], keys: Mapping[str, tuple[str, ...]]) -> dict[tuple[str, ...], PeerStats]:
    """Trimmed mean and variance of ``counts`` (absent users count 0) per peer group.

    A group's mean is shrunk towards its role's mean (``SHRINK`` pseudo-members), and the
    role's mean carries half a pseudo-count, so a detector that never fires among hundreds
    of peers gets a small but non-zero rate instead of an arbitrary floor.
    """
    members: dict[tuple[str, ...], list[int]] = defaultdict(list)
    by_role: dict[str, list[int]] = defaultdict(list)
    for user, key in keys.items():
        members[key].append(counts.get(user, 0))
        if key:
            by_role[key[0]].append(counts.get(user, 0))
    everyone = _trimmed([counts.get(u, 0) for u in keys]) or [0]
    overall = (sum(everyone) + 0.5) / len(everyone)
    role_mean = {}
    for role, values in by_role.items():
        kept = _trimmed(values)
        role_mean[role] = (sum(kept) + SHRINK * overall) / (len(kept) + SHRINK)
    result: dict[tuple[str, ...], PeerStats] = {}
    for key, values in members.items():
        kept = _trimmed(values)
        prior = role_mean.get(key[0], overall) if key else overall
        mean = (sum(kept) + SHRINK * prior) / (len(kept) + SHRINK)
        raw_mean = sum(kept) / len(kept)
        var = sum((v - raw_mean) ** 2 for v in kept) / max(len(kept) - 1, 1)
        result[key] = PeerStats(mean=max(mean, MIN_MEAN), var=max(var, mean, MIN_MEAN))
    return result


def tail_p(count: int, peer: PeerStats) -> float:
    """P(X >= count) for a count with the peers' mean and variance."""
    if count <= 0:
        return 1.0
    if peer.var > peer.mean * 1.05:
        # Negative binomial with the peers' mean and variance (over-dispersed counts).
        r = peer.mean * peer.mean / (peer.var - peer.mean)
        p = r / (r + peer.mean)
        return float(stats.nbinom.sf(count - 1, r, p))
    return float(stats.poisson.sf(count - 1, peer.mean))


def combine(p_values: list[float]) -> float:
    """Fisher and Tippett combinations of independent-ish p-values; the smaller, doubled."""
    if not p_values:
        return 1.0
    clamped = [min(max(p, 1e-300), 1.0) for p in p_values]
    k = len(clamped)
    fisher = float(stats.chi2.sf(-2.0 * sum(math.log(p) for p in clamped), 2 * k))
    tippett = -math.expm1(k * math.log1p(-min(clamped))) if min(clamped) < 1.0 else 1.0
    return min(1.0, 2.0 * min(fisher, tippett))


def posterior_bound(p_value: float, *, prior: float = DEFAULT_PRIOR) -> float:
    """Upper bound on P(misuse | evidence) from a p-value (Sellke, Bayarri and Berger 2001)."""
    if p_value >= 1.0 / math.e:
        bayes_factor = 1.0
    else:
        p = max(p_value, 1e-300)
        bayes_factor = -math.e * p * math.log(p)
    odds = prior / (1.0 - prior) / bayes_factor
    return odds / (1.0 + odds)


def surprisal(p_value: float) -> float:
    """-log10 of a p-value (ranking key that does not saturate like the score)."""
    return -math.log10(max(p_value, 1e-300))


def severity(score: float, *, always_high: bool) -> str:
    """``high`` for canaries and scores >= 0.9, ``medium`` >= 0.5, else ``low``."""
    if always_high or score >= 0.9:
        return "high"
    return "medium" if score >= 0.5 else "low"
