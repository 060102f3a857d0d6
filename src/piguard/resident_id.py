"""GB 11643 resident ID numbers (居民身份号码): the check character and the birth date they carry.

Pure and shared: ``records`` checks a death report's ``id_number`` with it, ``discover``'s
validators build on it. The area prefix is deliberately not checked here: IDs issued in
1984-85 carry district codes abolished since (python-stdnum #442), and a report's number need
not name a *current* GB/T 2260 code; the scanner checks areas against its own any-time table.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["birth_date_in", "check_character", "parse_yyyymmdd"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character ("0"-"9" or "X") of an ID's first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_yyyymmdd(text: str) -> dt.date | None:
    """``text``'s first eight characters as a calendar date (YYYYMMDD), or None if they are not one.

    Callers check that they are digits: this only reads them.
    """
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def birth_date_in(number: str) -> dt.date | None:
    """The birth date an 18-character or 15-digit ID carries (15-digit: read as 19YY), or None.

    None when the number has neither length or its date digits are not a calendar date; the
    check character is not looked at.
    """
    if len(number) == 18:
        return parse_yyyymmdd(number[6:14])
    if len(number) == 15:
        # Legacy IDs (issued 1984-1999) write the year in two digits.
        return parse_yyyymmdd("19" + number[6:12])
    return None
