"""Generalisation: dates to months, ages to bands."""

from __future__ import annotations

from datetime import date, datetime

from piguard.errors import InputError

_MAX_AGE = 150


def to_month(value: date | datetime | str) -> str:
    """The ``YYYY-MM`` month of a date, datetime or ISO 8601 / ``YYYY年M月D日`` date string."""
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    parsed = _parse_date(value.strip())
    return f"{parsed.year:04d}-{parsed.month:02d}"


def _parse_date(text: str) -> date:
    candidate = text
    if "年" in text:
        # 1931年5月7日 -> 1931-5-7
        candidate = text.replace("年", "-").replace("月", "-").replace("日", "").strip("-")
    candidate = candidate.replace("/", "-").replace(".", "-")
    try:
        return datetime.fromisoformat(candidate).date()
    except ValueError:
        pass
    parts = candidate.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        try:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            pass
    if len(parts) == 1 and len(candidate) == 8 and candidate.isdigit():
        try:
            return date(int(candidate[:4]), int(candidate[4:6]), int(candidate[6:]))
        except ValueError:
            pass
    raise InputError("not a recognisable date", where="date")


def age_band(age: int, *, width: int = 10, top: int = 90) -> str:
    """The band of an age: ``30-39`` for width 10, everything from ``top`` up as ``90+``."""
    if isinstance(age, bool) or not isinstance(age, int):
        raise InputError("age must be an integer", where="age")
    if age < 0 or age > _MAX_AGE:
        raise InputError(f"age must be between 0 and {_MAX_AGE}", where="age")
    if width < 1 or top < width:
        raise InputError("band width must be >= 1 and top >= width", where="width")
    if age >= top:
        return f"{top}+"
    low = (age // width) * width
    return f"{low}-{min(low + width - 1, top - 1)}"
