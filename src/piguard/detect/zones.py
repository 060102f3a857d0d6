"""The zone times are shown to people in: the events' own offset, or ``--timezone``.

Features compare UTC instants and the JSON report keeps its times as FORMATS.md gives them;
only what a person reads (the notice's dates, the HTML timeline, the table's dates) is shown
in local time, so that an access at 04:48+08:00 on 1 January is not shown as 31 December.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from piguard.errors import InputError

_OFFSET = re.compile(r"(?:UTC)?([+-])([01][0-9]|2[0-3]):?([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class Display:
    """The zone times are shown to people in, and where it came from (said in every report)."""

    tz: tzinfo
    label: str


def zone_label(tz: tzinfo) -> str:
    """``UTC+08:00``, ``UTC`` or a zone name (``Asia/Shanghai``)."""
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    offset = tz.utcoffset(None)
    if offset is None or offset == timedelta(0):
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_zone(text: str) -> tzinfo:
    """``+08:00``, ``-0500``, ``UTC``/``Z`` or an IANA name (``Asia/Shanghai``) as a zone."""
    value = text.strip()
    if value.upper() in ("Z", "UTC"):
        return UTC
    match = _OFFSET.fullmatch(value)
    if match is not None:
        minutes = int(match[2]) * 60 + int(match[3])
        return timezone(timedelta(minutes=-minutes if match[1] == "-" else minutes))
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("not a UTC offset (+08:00) or a time zone name (Asia/Shanghai)", where="--timezone") from None


def display_zone(con: duckdb.DuckDBPyConnection, chosen: tzinfo | None) -> Display:
    """``chosen`` (``--timezone``), else the offset the events carried (the most common one)."""
    if chosen is not None:
        return Display(chosen, f"{zone_label(chosen)} (--timezone)")
    rows = con.execute(
        "SELECT utc_offset, count(*) AS n FROM events WHERE utc_offset IS NOT NULL "
        "GROUP BY utc_offset ORDER BY n DESC, utc_offset LIMIT 2"
    ).fetchall()
    if not rows:
        return Display(UTC, "UTC (no event carried an offset to show times in)")
    tz = timezone(timedelta(minutes=int(rows[0][0])))
    if len(rows) > 1:
        return Display(tz, f"{zone_label(tz)} (the events' most common offset; they carry several)")
    return Display(tz, f"{zone_label(tz)} (the events' own offset)")
