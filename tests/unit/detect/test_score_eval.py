"""Scoring and evaluation arithmetic: tail p-values, combination, calibration bound, AUC."""

from __future__ import annotations

import math

from piguard.detect.evaluate import _budget, roc_auc
from piguard.detect.score import PeerBaseline, PeerStats, combine, peer_keys, posterior_bound, tail_p


def test_tail_p_uses_poisson_or_negative_binomial() -> None:
    assert tail_p(0, PeerStats(1.0, 1.0)) == 1.0
    assert math.isclose(tail_p(1, PeerStats(1.0, 1.0)), 1 - math.exp(-1.0))
    # Over-dispersed peers make the same count less surprising.
    assert tail_p(6, PeerStats(1.0, 6.0)) > tail_p(6, PeerStats(1.0, 1.0)) * 10


def test_combination_rewards_one_strong_or_several_moderate_signals() -> None:
    strong = combine([1e-8] + [1.0] * 12)
    moderate = combine([0.01] * 6 + [1.0] * 7)
    weak = combine([0.2] * 3 + [1.0] * 10)
    assert strong < 1e-6 and moderate < 0.01 and weak > 0.5
    assert combine([]) == 1.0


def test_posterior_bound_is_monotone_and_respects_the_prior() -> None:
    assert posterior_bound(0.5) == posterior_bound(1.0)
    assert posterior_bound(1e-3) < posterior_bound(1e-6) < posterior_bound(1e-12) <= 1.0
    assert posterior_bound(1e-6, prior=0.001) < posterior_bound(1e-6, prior=0.01)


def test_peer_rates_resist_a_few_extreme_peers() -> None:
    groups = {f"u{i}": ("nurse", "h1") for i in range(20)}
    counts = {"u0": 50, "u1": 40}  # two insiders among 20 nurses who otherwise never trigger
    baseline = PeerBaseline(counts, peer_keys(groups))
    stats = baseline.for_user("u1")
    assert stats.mean < 3.0
    assert tail_p(40, stats) < 1e-6


def test_a_users_own_count_is_left_out_of_their_baseline() -> None:
    # Nine peers never trigger; the tenth did once. Comparing them with a group that contains
    # their own count would dilute exactly the rare event that matters.
    groups = {f"u{i}": ("physician", "h1") for i in range(10)}
    keys = peer_keys(groups)
    alone = PeerBaseline({"u0": 1}, keys).for_user("u0")
    with_peer = PeerBaseline({"u0": 1, "u1": 1, "u2": 1}, keys).for_user("u0")
    assert alone.mean < with_peer.mean
    assert alone.mean == PeerBaseline({}, keys).for_user("u0").mean
    # A user outside every group is compared with everyone.
    assert PeerBaseline({"x": 3}, keys).for_user("x").mean > 0


def test_auc_and_budget() -> None:
    assert roc_auc({"a": 3.0, "b": 2.0, "c": 1.0}, {"a"}) == 1.0
    assert roc_auc({"a": 1.0, "b": 1.0, "c": 1.0}, {"a"}) == 0.5
    assert roc_auc({"a": 0.0, "b": 2.0, "c": 1.0}, {"a"}) == 0.0
    assert _budget(50_000, 7, 10) == 60
    assert _budget(221, 60, 10) == 12


def test_truncated_product_is_calibrated_and_not_diluted_by_silent_detectors() -> None:
    import random

    from piguard.detect.score import truncated_product

    rng = random.Random(7)
    null = [truncated_product([rng.random() for _ in range(14)]) for _ in range(4000)]
    for alpha in (0.01, 0.05, 0.2):
        assert abs(sum(p <= alpha for p in null) / len(null) - alpha) < 0.02 + alpha * 0.2
    three = [1e-3] * 3 + [1.0] * 11
    one = [1e-3] + [1.0] * 13
    assert truncated_product(three) < 1e-3 < 0.05 < truncated_product(one)
    assert truncated_product([0.5] * 14) == 1.0
    # Fisher's product of all 14 would leave three rare signals at p ~ 0.05; here they stand out.
    assert combine(three) < combine(one) / 20
