"""Scoring: per-detector tail p-values against peers, combined per user, mapped to [0, 1].

For each detector a user's count (distinct records, or events) is compared with the same
count among their peers (same role and organisation; same role when that group is small),
leaving the user out. The peers' mean and variance are taken after trimming their top
decile, so a few insiders cannot raise their own baseline, and the tail probability uses a
negative binomial when peers are over-dispersed (Poisson otherwise). Counts are absolute,
not ratios: covering accesses that imitate normal work add to the denominator of a ratio but
cannot lower these counts, which is what makes the ranking hold up against camouflage.

The per-detector p-values are combined twice, by Zaykin's truncated product of the p-values
at most 0.05 (several rare signals, undiluted by detectors that saw nothing) and by Tippett's
minimum (one strong signal), and the smaller is doubled (Bonferroni over the two). The score
is the Sellke-Bayarri-Berger bound on the posterior probability of misuse,
``1 / (1 + (1 - prior) / prior * B)`` with ``B = -e p ln p``: a calibrated upper bound that
needs only the prior base rate of insiders (default 1 %), not labels.
"""

from __future__ import annotations

import bisect
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
# p-values up to this enter the truncated product (Zaykin et al.'s usual choice).
TPM_TAU = 0.05


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


def _drop(n: int) -> int:
    """How many of ``n`` peers' top values are trimmed (the top decile, at least one).

    A group has at least ``MIN_GROUP`` members, so a user has at least ``MIN_GROUP - 1`` peers.
    """
    return int(n * TRIM) + 1 if n >= MIN_GROUP - 1 else 0


def _trimmed(values: list[int]) -> list[int]:
    values = sorted(values)
    return values[: len(values) - _drop(len(values))] or values


class PeerBaseline:
    """Each user's peers' trimmed mean and variance of a count, leaving the user out.

    A user's own count never enters their baseline (else one insider in a small group raises
    the rate they are compared with). The peers' mean is shrunk towards the role's mean
    (``SHRINK`` pseudo-members), and the role's mean carries half a pseudo-count, so a
    detector that never fires among hundreds of peers gets a small but non-zero rate instead
    of an arbitrary floor. Users absent from ``counts`` count 0.
    """

    def __init__(self, counts: Mapping[str, int], keys: Mapping[str, tuple[str, ...]]) -> None:
        self._counts = counts
        self._keys = keys
        members: dict[tuple[str, ...], list[int]] = defaultdict(list)
        by_role: dict[str, list[int]] = defaultdict(list)
        for user, key in keys.items():
            members[key].append(counts.get(user, 0))
            if key:
                by_role[key[0]].append(counts.get(user, 0))
        everyone = _trimmed([counts.get(u, 0) for u in keys]) or [0]
        self._overall = (sum(everyone) + 0.5) / len(everyone)
        self._role_mean = {}
        for role, values in by_role.items():
            kept = _trimmed(values)
            self._role_mean[role] = (sum(kept) + SHRINK * self._overall) / (len(kept) + SHRINK)
        # Sorted values with prefix sums of values and squares, per group.
        self._sorted: dict[tuple[str, ...], tuple[list[int], list[float], list[float]]] = {}
        for key, values in members.items():
            ordered = sorted(values)
            sums, squares = [0.0], [0.0]
            for v in ordered:
                sums.append(sums[-1] + v)
                squares.append(squares[-1] + v * v)
            self._sorted[key] = (ordered, sums, squares)

    def for_user(self, user: str) -> PeerStats:
        """The baseline ``user`` is compared with: their group without them."""
        key = self._keys.get(user, ())
        prior = self._role_mean.get(key[0], self._overall) if key else self._overall
        ordered, sums, squares = self._sorted.get(key, ([], [0.0], [0.0]))
        own = self._counts.get(user, 0)
        if user in self._keys and ordered:
            i = bisect.bisect_left(ordered, own)  # one occurrence of the user's value, removed
            n = len(ordered) - 1
            m = n - _drop(n) if n - _drop(n) > 0 else n
            if i < m:
                total = sums[m + 1] - own
                total_sq = squares[m + 1] - own * own
            else:
                total, total_sq = sums[m], squares[m]
        else:
            n = len(ordered)
            m = n - _drop(n) if n - _drop(n) > 0 else n
            total, total_sq = sums[m], squares[m]
        if m <= 0:
            return PeerStats(mean=max(prior, MIN_MEAN), var=max(prior, MIN_MEAN))
        mean = (total + SHRINK * prior) / (m + SHRINK)
        raw_mean = total / m
        var = max(total_sq - m * raw_mean * raw_mean, 0.0) / max(m - 1, 1)
        return PeerStats(mean=max(mean, MIN_MEAN), var=max(var, mean, MIN_MEAN))


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


def truncated_product(p_values: list[float], *, tau: float = TPM_TAU) -> float:
    """Zaykin et al.'s truncated product: P(W <= w) for W the product of the p-values <= ``tau``.

    Unlike Fisher's product of all p-values, detectors that saw nothing (p = 1) do not dilute
    the few that did, and unlike the minimum alone, two or three rare signals together count
    for more than one. Exact under independence (Zaykin, Zhivotovsky, Westfall and Weir 2002).
    """
    small = [min(max(p, 1e-300), 1.0) for p in p_values if p <= tau]
    if not small:
        return 1.0
    n = len(p_values)
    log_w = sum(math.log(p) for p in small)
    log_tau = math.log(tau)
    terms: list[float] = []
    for k in range(1, n + 1):
        base = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + (n - k) * math.log1p(-tau)
        if log_w <= k * log_tau:
            x = k * log_tau - log_w
            series = [s * math.log(x) - math.lgamma(s + 1) if x > 0 else (0.0 if s == 0 else -math.inf)
                      for s in range(k)]
            terms.append(base + log_w + _logsumexp(series))
        else:
            terms.append(base + k * log_tau)
    return min(1.0, math.exp(_logsumexp(terms)))


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))


def combine(p_values: list[float]) -> float:
    """Truncated-product and Tippett (minimum) combinations of the detectors' p-values; the smaller, doubled."""
    if not p_values:
        return 1.0
    clamped = [min(max(p, 1e-300), 1.0) for p in p_values]
    k = len(clamped)
    product = truncated_product(clamped)
    tippett = -math.expm1(k * math.log1p(-min(clamped))) if min(clamped) < 1.0 else 1.0
    return min(1.0, 2.0 * min(product, tippett))


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
