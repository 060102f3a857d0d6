"""RFC 3339 times with an explicit offset: the one rule every FORMATS.md reader applies.

Pydantic alone is too lenient for a contract: it reads integers (and strings of digits) as
Unix times, guessing seconds or milliseconds from the magnitude. Other systems' ids and
counts are not times, so a time must be RFC 3339 text or an aware ``datetime`` (Parquet
timestamp columns, library callers); the offset itself is checked by the field's type.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

# Date, 'T' (or a space, which RFC 3339 allows), time with optional seconds and fraction, offset.
# The loader's SQL fast path uses the same pattern, so both paths accept the same text.
# An offset of hours only (`+08`, as PostgreSQL prints it) is accepted and read as `+08:00`.
RFC3339_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
)
_RFC3339 = re.compile(RFC3339_PATTERN)
_HOURS_ONLY = re.compile(r"[+-][0-9]{2}")
MESSAGE = "must be an RFC 3339 time with an explicit UTC offset (e.g. 2025-03-01T08:15:00+08:00)"


def rfc3339(value: Any) -> Any:
    """Pass an aware-or-naive ``datetime`` or RFC 3339 text on; refuse numbers, dates and other forms."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(text := value.strip()):
        return text + ":00" if _HOURS_ONLY.fullmatch(text[-3:]) else text
    raise ValueError(MESSAGE)


def optional_rfc3339(value: Any) -> Any:
    """As :func:`rfc3339`, with ``None`` and a blank CSV cell meaning absent."""
    if value is None or value == "":
        return None
    return rfc3339(value)


Time = Annotated[AwareDatetime, BeforeValidator(rfc3339)]
OptTime = Annotated[AwareDatetime | None, BeforeValidator(optional_rfc3339)]
