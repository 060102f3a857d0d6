"""Opaque ids: ULIDs that keep creation order but never follow from one another."""

from __future__ import annotations

import itertools
import re

from ulid import ULID

from piguard.ids import encode, new_id

ULID_TEXT = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def test_ids_in_a_burst_keep_their_order_and_are_not_consecutive() -> None:
    ids = [new_id() for _ in range(5000)]  # thousands fall in the same millisecond
    assert all(ULID_TEXT.fullmatch(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    values = [int(ULID.from_str(i)) for i in ids]
    steps = [b - a for a, b in itertools.pairwise(values)]
    # The library's monotonic mode adds exactly 1 within a millisecond: the next id is guessable.
    assert min(steps) > 1
    assert len(set(steps)) > len(steps) // 2


def test_an_id_carries_the_time_it_was_made() -> None:
    import time

    before = int(time.time() * 1000)
    made = ULID.from_str(new_id())
    assert before - 1 <= made.milliseconds <= int(time.time() * 1000) + 1


def test_the_encoder_agrees_with_the_reference_implementation() -> None:
    import random

    values = [0, 1, 2**128 - 1, 2**127, (2**48 - 1) << 80] + [random.getrandbits(128) for _ in range(2000)]
    for value in values:
        assert encode(value) == str(ULID.from_bytes(value.to_bytes(16, "big")))
