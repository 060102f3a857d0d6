"""Long lines without digits (a DNA sequence, a rule of dashes, base64-like runs) are read in
linear time: a region search never restarts inside a run of identifier characters.

Timing belongs in ``bench/pi_long_lines.py``; these tests check the property that makes the
scan linear, and that the regions found are those of the plain pattern.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.base import REGION, find_regions

# The region pattern without its start condition: the same leftmost matches, found in
# quadratic time on a long run without digits (the reference for the spans).
_C = r"[0-9A-Za-z_@.+\-()（）:/·•#%]"
_C_NO_DIGIT = r"[A-Za-z_.+\-()（）:/·•#%]"
_PLAIN = re.compile(rf"{_C_NO_DIGIT}*+[0-9@]{_C}*+(?:[ \-](?=[0-9(（+]|[A-Z](?![a-z])){_C}++)*")
_ALPHABET = "0123456789aAbxZT_@.+-()（）:/·•#% \n中，;el"
_MOBILE = Analyzer(entities=["CN_MOBILE"])


def test_a_region_never_starts_inside_a_run() -> None:
    # Every start inside the run fails at its first character (the lookbehind): a search
    # that read the run from each position would be quadratic in its length.
    for run in ("x" * 40, "ACGT" * 10, "-" * 40, "abc-def_" * 5, "a.b:c/d#e%f(g)h" * 3):
        text = run + "7"
        assert REGION.match(text, 0) is not None
        assert all(REGION.match(text, i) is None for i in range(1, len(run)))
        assert [m.span() for m in REGION.finditer(text)] == [(0, len(text))]


def test_a_region_starts_after_a_character_outside_runs() -> None:
    text = "备注 abc1 中x2，-3"
    assert [m.group() for m in REGION.finditer(text)] == ["abc1", "x2", "-3"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_regions_are_those_of_the_plain_pattern(text: str) -> None:
    assert [m.span() for m in REGION.finditer(text)] == [m.span() for m in _PLAIN.finditer(text)]


def test_long_lines_without_digits_hold_no_regions_and_numbers_after_them_are_found() -> None:
    for run in ("x" * 20_000, "ACGT" * 5_000, "-" * 20_000, "abc-def_" * 2_500):
        assert find_regions(run) == []
        assert _MOBILE.analyze(run) == []
        line = f"{run} 电话13812345678"
        assert [(f.entity, line[f.start : f.end]) for f in _MOBILE.analyze(line)] == [("CN_MOBILE", "13812345678")]
