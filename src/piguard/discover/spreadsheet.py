"""Identifiers a spreadsheet damaged by storing them as floating-point numbers.

``3.10112E+17`` and ``310112195603211000`` were resident IDs once: they cannot be validated any
more, but a column named for IDs still holds them. ``classify`` reports such columns from their
name, with the evidence these functions give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.generic.identifiers import card_issuer_prefix_ok
from piguard.discover.recognizers.validators import cn_area_code_ok, cn_mobile_prefix_ok

__all__ = [
    "KEPT_PREFIX",
    "SPREADSHEET_DAMAGED",
    "W_DAMAGED",
    "SpreadsheetNumber",
    "damage_note",
    "kept_prefix_ok",
    "spreadsheet_number",
]

# Integers a spreadsheet stored as floating-point numbers and wrote back damaged: in scientific
# notation (Excel's "General" format shows 6 significant digits: 3.10112E+17) or with the
# digits after the 15th replaced (Excel keeps 15 significant digits: 310112195603211000).
_SCIENTIFIC = re.compile(r"([1-9])(?:\.(\d+))?[eE]\+?(\d{1,2})")
_SPREADSHEET_DIGITS = 15
#: Identifiers a spreadsheet damages when they were typed as numbers, by length in digits.
SPREADSHEET_DAMAGED: dict[str, tuple[int, ...]] = {
    "CN_RESIDENT_ID": (15, 18),
    "BANK_CARD": tuple(range(13, 20)),
    "CN_MOBILE": (11,),
}
# Log-odds that damaged values add to a column's name when their kept digits start like the
# entity (an area code, a card issuer, a mobile prefix): they cannot be validated, so they
# weigh much less than valid values (W_VALUES) and a name is required.
W_DAMAGED = 1.2
KEPT_PREFIX = {
    "CN_RESIDENT_ID": "a valid area code",
    "BANK_CARD": "a card issuer prefix",
    "CN_MOBILE": "an allocated mobile prefix",
}


@dataclass(frozen=True, slots=True)
class SpreadsheetNumber:
    """An integer damaged by a spreadsheet: its length in digits and the leading digits kept."""

    digits: int
    kept: str
    scientific: bool


def spreadsheet_number(value: str, *, numeric: bool) -> SpreadsheetNumber | None:
    """``value`` read as an integer of nine digits or more that a spreadsheet damaged, or None.

    ``3.10112E+17`` (and Python's ``6.228480012345678e+18`` of a float cell) is scientific
    notation; a digit string longer than 15 digits lost the digits after the 15th, which are
    zeros in text (``310112195603211000``) and anything in a ``numeric`` (float) column.
    """
    m = _SCIENTIFIC.fullmatch(value)
    if m is not None:
        kept = m.group(1) + (m.group(2) or "")
        digits = int(m.group(3)) + 1
        if digits < max(9, len(kept)):
            return None  # a small or fractional number, not a damaged identifier
        return SpreadsheetNumber(digits, kept[:_SPREADSHEET_DIGITS], scientific=True)
    lost = value[_SPREADSHEET_DIGITS:]
    if lost and value.isdigit() and (numeric or lost.strip("0") == ""):
        return SpreadsheetNumber(len(value), value[:_SPREADSHEET_DIGITS], scientific=False)
    return None


def kept_prefix_ok(entity: str, kept: str) -> bool:
    """Whether the digits a spreadsheet kept start as ``entity`` starts."""
    if entity == "CN_RESIDENT_ID":
        # The 7th digit (the birth century, 1 or 2) never rounds the area code up.
        return cn_area_code_ok(kept[:6])
    if entity == "CN_MOBILE":
        return len(kept) >= 3 and cn_mobile_prefix_ok(kept[:3])
    return len(kept) >= 2 and card_issuer_prefix_ok(kept)


def damage_note(values: list[str], analyzer: Analyzer, *, numeric: bool) -> str:
    """``; N values look like numbers mangled by a spreadsheet ...`` when some are, else ``""``."""
    damaged = [
        n
        for v in values
        if (n := spreadsheet_number(v, numeric=numeric)) is not None
        and (n.scientific or not analyzer.validate_value(v))
    ]
    if not damaged:
        return ""
    how = sorted({"scientific notation" if n.scientific else "digits after the 15th lost" for n in damaged})
    return (
        f"; {len(damaged)}/{len(values)} sampled values look like numbers mangled by a spreadsheet "
        f"({', '.join(how)}) and cannot be validated"
    )
