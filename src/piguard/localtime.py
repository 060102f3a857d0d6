"""Beijing time: the calendar dates people read and type (a certificate's date of death, a month).

Times are stored in UTC. China has one time zone (UTC+8) and no daylight saving, so the date of a
death, the month a statistic counts it in and "today" for a date an inspector types are taken in
Beijing time: at 07:00 there the UTC date is still yesterday's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["BEIJING", "beijing_date"]

BEIJING = timezone(timedelta(hours=8), "CST")


def beijing_date(moment: datetime) -> date:
    """The calendar date in Beijing of an aware datetime (a naive one is refused)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no Beijing date")  # a programming error, not input
    return moment.astimezone(BEIJING).date()
