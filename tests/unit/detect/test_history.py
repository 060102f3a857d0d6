"""The volume baseline (``history.parquet``): a run replaces only the days it covers, in full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from piguard.detect import Options, run_detection
from piguard.detect.prepare import partial_day
from tests.unit.detect.world import T0, World, hospital_world

USER = "h1-doc1"


def _world() -> World:
    w = hospital_world(days=8, staff_per_org=4)
    # Two more records a day for one user, read morning and afternoon (UTC), so that a day cut
    # at noon has fewer distinct records than the whole day.
    for day in range(8):
        for hour, k in ((6, 0), (15, 1)):
            subject = w.subjects[(day * 7 + k * 3) % len(w.subjects)].subject_id
            w.event(USER, T0 + timedelta(days=day, hours=hour), subject=subject)
    return w


def _counts(history: Path) -> dict[str, int]:
    rows = pq.read_table(history).to_pylist()
    return {r["day"]: r["n_subjects"] for r in rows if r["user_id"] == USER}


def test_a_run_over_an_earlier_shorter_file_keeps_the_later_days(tmp_path: Path) -> None:
    w = _world()
    history = tmp_path / "history.parquet"
    run_detection(w.events, w.context(), options=Options(history=history))
    full = _counts(history)
    assert len(full) == 8
    first_three = [e for e in w.events if e.time < T0 + timedelta(days=3)]
    run_detection(first_three, w.context(), options=Options(history=history))
    assert _counts(history) == full  # the days 4-8 are not deleted by a run over days 1-3


def test_a_run_replaces_the_days_it_covers(tmp_path: Path) -> None:
    w = _world()
    history = tmp_path / "history.parquet"
    run_detection(w.events, w.context(), options=Options(history=history))
    full = _counts(history)
    day3 = (T0 + timedelta(days=3)).date().isoformat()
    # A corrected export of day 3 without the user's afternoon read: that day is recomputed.
    corrected = [
        e for e in w.events if e.time.date().isoformat() == day3 and not (e.user_id == USER and e.time.hour == 15)
    ]
    run_detection(corrected, w.context(), options=Options(history=history))
    after = _counts(history)
    assert after[day3] == full[day3] - 1
    assert {d: n for d, n in after.items() if d != day3} == {d: n for d, n in full.items() if d != day3}


def test_since_in_the_middle_of_a_day_does_not_shrink_the_stored_day(tmp_path: Path) -> None:
    w = _world()
    history = tmp_path / "history.parquet"
    run_detection(w.events, w.context(), options=Options(history=history))
    full = _counts(history)
    since = T0 + timedelta(days=5, hours=12)  # noon UTC: day 6 is only half covered by this run
    run_detection(w.events, w.context(), options=Options(history=history), since=since)
    assert _counts(history) == full
    # Without a stored day, the half day is what there is.
    fresh = tmp_path / "fresh.parquet"
    run_detection(w.events, w.context(), options=Options(history=fresh), since=since)
    half = _counts(fresh)
    day6 = since.date().isoformat()
    assert set(half) == {day6, "2025-03-09", "2025-03-10"} and half[day6] < full[day6]


def test_partial_day_is_the_utc_day_since_cuts() -> None:
    assert partial_day(None) is None
    assert partial_day(datetime(2025, 3, 5, tzinfo=UTC)) is None  # a whole day
    assert partial_day(datetime(2025, 3, 5, 12, tzinfo=UTC)) == datetime(2025, 3, 5).date()
    from datetime import timezone

    # Midnight in Shanghai is 16:00 UTC the day before: that UTC day is cut.
    assert partial_day(datetime(2025, 3, 5, tzinfo=timezone(timedelta(hours=8)))) == datetime(2025, 3, 4).date()
