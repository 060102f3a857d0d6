"""Placing workflow accesses inside the acting user's worked shifts (rosters and leave respected).

The event engine gives every event without an explicit session the session ``user * 100_000 +
day of the event``, and the login of a shift carries the session of the shift's start day. An
access placed here gets the session of the shift it falls in, so a night shift's reads after
midnight belong to the login of the evening before.
"""

from __future__ import annotations

import numpy as np

from piguard.simulate.world import World

DAY = 86400
SETTLE = 600  # an access comes at least this long after the shift starts (after the login)
_CACHE = "shift_tables"


def _table(w: World, day: int) -> tuple[np.ndarray, np.ndarray]:
    # Start minute and duration of each staff member's shift on ``day`` (cached per world).
    # Least recently used days are dropped (dict order is use order).
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = w.arrays.setdefault(_CACHE, {})
    found = cache.pop(day, None)
    if found is None:
        if len(cache) >= 64:
            del cache[next(iter(cache))]
        found = w.on_shift(day)
    cache[day] = found
    return found


def _shift(w: World, users: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # (start, end) seconds of each user's shift starting on each day; start -1 when off.
    start = np.full(len(users), -1, np.int64)
    end = np.full(len(users), -1, np.int64)
    for day in np.unique(days):
        if day < 0:
            continue  # no logins are generated before the period
        rows = np.flatnonzero(days == day)
        begin, length = _table(w, int(day))
        b, n = begin[users[rows]].astype(np.int64), length[users[rows]].astype(np.int64)
        on = b >= 0
        start[rows[on]] = int(day) * DAY + b[on] * 60
        end[rows[on]] = start[rows[on]] + n[on] * 60
    return start, end


def shift_day_at(w: World, users: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Start day of the shift each user works at time ``t`` (after its login), or -1 when off."""
    return current_shift(w, users, t)[0]


def current_shift(w: World, users: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start day and end time of the shift each user works at ``t`` (-1, -1 when off)."""
    out = np.full(len(users), -1, np.int64)
    until = np.full(len(users), -1, np.int64)
    for back in (1, 0):  # a night shift started the evening before
        days = t // DAY - back
        start, end = _shift(w, users, days)
        on = (start >= 0) & (t >= start + SETTLE) & (t < end)
        out[on] = days[on]
        until[on] = end[on]
    return out, until


def next_on_shift(
    rng: np.random.Generator, w: World, users: np.ndarray, t: np.ndarray, *, horizon: int = 21
) -> tuple[np.ndarray, np.ndarray]:
    """Earliest time at or after ``t`` each user is on shift, and that shift's session id.

    A time inside a shift is kept; otherwise the access moves into the first two hours of the
    user's next shift within ``horizon`` days. Rows with no shift in the horizon (or no user)
    keep ``t`` and the default session (-1).
    """
    when = t.astype(np.int64).copy()
    session = np.full(len(users), -1, np.int64)
    valid = users >= 0
    todo = np.flatnonzero(valid)
    for step in range(-1, horizon + 1):
        if not len(todo):
            break
        u, at = users[todo], t[todo]
        days = at // DAY + step
        start, end = _shift(w, u, days)
        ok = (start >= 0) & (end > at)
        found = todo[ok]
        s, e, tt = start[ok], end[ok], at[ok]
        earliest = s + SETTLE
        late = tt >= earliest
        moved = earliest + (rng.random(len(found)) * np.minimum(2 * 3600, e - earliest)).astype(np.int64)
        when[found] = np.where(late, tt, moved)
        session[found] = users[found].astype(np.int64) * 100_000 + days[ok]
        todo = todo[~ok]
    return when, session
