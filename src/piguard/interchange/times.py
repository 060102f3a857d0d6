"""RFC 3339 times with an explicit offset: the one rule every FORMATS.md reader applies.

Pydantic alone is too lenient for a contract: it reads integers (and strings of digits) as
Unix times, guessing seconds or milliseconds from the magnitude. Other systems' ids and
counts are not times, so a time must be RFC 3339 text or an aware ``datetime`` (Parquet
timestamp columns, library callers); the offset itself is checked by the field's type.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from piguard.interchange.tabular import WHITESPACE

# Date, 'T' (or a space, which RFC 3339 allows), time with optional seconds and fraction, offset.
# The loader's SQL fast path uses the same pattern, so both paths accept the same text: hours
# 00-23 and minutes and seconds 00-59 (DuckDB would read `24:00` as the next day and an offset
# of `+08:60` as +09:00, Python refuses both). An offset of hours only (`+08`, as PostgreSQL
# prints it) is accepted and read as `+08:00`.
RFC3339_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"
)
_RFC3339 = re.compile(RFC3339_PATTERN)
# RFC 3339 allows a leap second (`23:59:60Z`), which no datetime type here can hold.
_LEAP_SECOND = re.compile(RFC3339_PATTERN.replace(r"(:[0-5][0-9](\.[0-9]+)?)?", r":60(\.[0-9]+)?"))
LEAP_MESSAGE = "is a leap second (:60), which cannot be represented; write it as :59.999999"
_HOURS_ONLY = re.compile(r"[+-][0-9]{2}")
MESSAGE = "must be an RFC 3339 time with an explicit UTC offset (e.g. 2025-03-01T08:15:00+08:00)"


def rfc3339(value: Any) -> Any:
    """Pass an aware-or-naive ``datetime`` or RFC 3339 text on; refuse numbers, dates and other forms."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(text := value.strip(WHITESPACE)):
        return text + ":00" if _HOURS_ONLY.fullmatch(text[-3:]) else text
    if isinstance(value, str) and _LEAP_SECOND.fullmatch(value.strip(WHITESPACE)):
        raise ValueError(LEAP_MESSAGE)
    raise ValueError(MESSAGE)


def optional_rfc3339(value: Any) -> Any:
    """As :func:`rfc3339`, with ``None`` and a blank cell (spaces only, too) meaning absent."""
    if value is None or (isinstance(value, str) and not value.strip(WHITESPACE)):
        return None
    return rfc3339(value)


def in_utc_range(value: Any) -> Any:
    """Refuse a time that has no UTC equivalent in years 1-9999 (``0001-01-01T00:00+08:00``).

    Everything downstream works in UTC; the loader's SQL fast path refuses the same times.
    """
    if isinstance(value, datetime) and value.utcoffset() is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is outside the years 1-9999 once converted to UTC") from None
    return value


Time = Annotated[AwareDatetime, BeforeValidator(rfc3339), AfterValidator(in_utc_range)]
OptTime = Annotated[AwareDatetime | None, BeforeValidator(optional_rfc3339), AfterValidator(in_utc_range)]
