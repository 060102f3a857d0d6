"""Dates people read and type are Beijing dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from piguard.localtime import beijing_date


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 29, 15, 59, tzinfo=UTC), date(2026, 11, 29)),
        (datetime(2026, 11, 29, 16, 0, tzinfo=UTC), date(2026, 11, 30)),
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 11, 30, 0, 30, tzinfo=timezone(timedelta(hours=8))), date(2026, 11, 30)),
    ],
)
def test_the_beijing_date_of_an_instant(moment: datetime, expected: date) -> None:
    assert beijing_date(moment) == expected


def test_a_naive_time_has_no_beijing_date() -> None:
    with pytest.raises(ValueError, match="naive"):
        beijing_date(datetime(2026, 11, 29, 16, 0))
