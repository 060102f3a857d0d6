"""Opaque identifiers: ULIDs, never sequential."""

from __future__ import annotations

import secrets
import threading
import time

_RANDOM_BITS = 80
# A new millisecond starts in the lower half, so many increments fit before the 80 bits run out.
_FRESH_BITS = _RANDOM_BITS - 1
# Within one millisecond each id adds a random step of up to 2**40: ids keep their creation order
# (rows created together sort as created), yet the next id cannot be told from the last one, as
# it could with the library's monotonic mode (which adds exactly 1).
_STEP_BITS = 40

# Crockford's base32, two characters per 10 bits: a 26-character ULID is 13 table lookups
# (python-ulid's encoder costs three times as much, on every access event).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = tuple(first + second for first in _CROCKFORD for second in _CROCKFORD)
_SHIFTS = tuple(range(120, -10, -10))

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def new_id() -> str:
    """A new opaque, time-sortable, unguessable id (26-char ULID), increasing within this process."""
    global _last_ms, _last_random
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            random = secrets.randbits(_FRESH_BITS)
        else:
            ms = _last_ms  # the clock stood still or stepped back: stay after the last id
            random = _last_random + 1 + secrets.randbits(_STEP_BITS)
            if random >= 1 << _RANDOM_BITS:
                ms, random = ms + 1, secrets.randbits(_FRESH_BITS)
        _last_ms, _last_random = ms, random
    return encode((ms << _RANDOM_BITS) | random)


def encode(value: int) -> str:
    """The 26-character ULID text of a 128-bit value (Crockford base32, most significant first)."""
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in _SHIFTS])
