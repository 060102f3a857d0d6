"""GB/T 2260 administrative area codes (行政区划代码): every code valid at any time since 1980.

Pure and shared, like ``resident_id``: ``records`` checks organisation and report districts
against it, ``discover``'s resident-ID validator the area prefix. The table ships with the
package (``discover/recognizers/data/gbt2260.txt``, built by ``build_data.py`` there); nothing
is downloaded. It holds abolished codes too, so a district is checked for being a real code,
not for being current.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["area_codes", "is_area_code"]


@cache
def area_codes() -> frozenset[str]:
    """Every GB/T 2260 code (province, prefecture and county level) valid at any time since 1980."""
    text = resources.files("piguard.discover.recognizers.data").joinpath("gbt2260.txt")
    return frozenset(line[:6] for line in text.read_text(encoding="utf-8").splitlines() if line)


def is_area_code(code: str) -> bool:
    """Whether ``code`` is a six-digit GB/T 2260 area code (of any year since 1980)."""
    return len(code) == 6 and code in area_codes()
