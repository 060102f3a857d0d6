"""Rosters: which shift a staff member works on a given day, as one rule used everywhere.

A roster is a pattern, an offset that staggers colleagues, and leave blocks. ``shift_on``
is the single definition; the vectorised event engine looks shifts up in a table built from
it (``shift_table``) so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

PATTERNS = ("office", "day5", "night", "ems24", "dispatch12")
# (start minute after local midnight, duration in minutes) for each pattern and phase.
_OFFICE = (8 * 60 + 30, 9 * 60)
_DAY = (8 * 60, 9 * 60)
_NIGHT = (20 * 60, 12 * 60)
_EMS = (8 * 60, 24 * 60)
_DISPATCH_DAY = (8 * 60, 12 * 60)
_DISPATCH_NIGHT = (20 * 60, 12 * 60)


@dataclass(frozen=True, slots=True)
class Roster:
    """A staff member's working pattern: ``pattern`` in PATTERNS, stagger ``offset``, leave days."""

    pattern: str
    offset: int
    leave: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Shift:
    """One worked shift."""

    start: datetime
    end: datetime


def shift_on(roster: Roster, *, day: int, start: date) -> tuple[int, int] | None:
    """(start minute, duration minutes) of the shift starting on simulation day ``day``, or None."""
    if day in roster.leave:
        return None
    weekday = (start + timedelta(days=day)).weekday()
    phase = day + roster.offset
    if roster.pattern == "office":
        return _OFFICE if weekday < 5 else None
    if roster.pattern == "day5":
        return _DAY if phase % 7 < 5 else None
    if roster.pattern == "night":
        return _NIGHT if phase % 4 == 0 else None
    if roster.pattern == "ems24":
        return _EMS if phase % 3 == 0 else None
    if roster.pattern == "dispatch12":
        if phase % 4 == 0:
            return _DISPATCH_DAY
        if phase % 4 == 1:
            return _DISPATCH_NIGHT
        return None
    raise ValueError(f"unknown roster pattern {roster.pattern!r}")


def shifts(roster: Roster, *, start: datetime, days: int) -> list[Shift]:
    """Every shift of ``roster`` starting within ``days`` days from ``start`` (local midnight)."""
    out: list[Shift] = []
    for day in range(days):
        found = shift_on(roster, day=day, start=start.date())
        if found is not None:
            begin = start + timedelta(days=day, minutes=found[0])
            out.append(Shift(begin, begin + timedelta(minutes=found[1])))
    return out


def shift_table(
    patterns: np.ndarray, offsets: np.ndarray, *, day: int, start: date
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``shift_on`` without leave: start minute and duration (-1 where off) per staff."""
    begin = np.full(len(patterns), -1, dtype=np.int32)
    length = np.full(len(patterns), -1, dtype=np.int32)
    for p_index, pattern in enumerate(PATTERNS):
        for offset in np.unique(offsets[patterns == p_index]):
            found = shift_on(Roster(pattern, int(offset)), day=day, start=start)
            if found is not None:
                mask = (patterns == p_index) & (offsets == offset)
                begin[mask] = found[0]
                length[mask] = found[1]
    return begin, length
