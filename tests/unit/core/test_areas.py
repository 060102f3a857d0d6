"""GB/T 2260 area codes: real codes of any year since 1980 are known, anything else is not."""

from __future__ import annotations

import pytest

from piguard.areas import area_codes, is_area_code


@pytest.mark.parametrize(
    "code",
    [
        "310112",  # Minhang, Shanghai
        "310000",  # Shanghai municipality
        "110103",  # Chongwen, Beijing: merged into Dongcheng in 2010, still a code of record
        "440301",  # Shenzhen's municipal district
    ],
)
def test_codes_of_record_are_known(code: str) -> None:
    assert is_area_code(code)


@pytest.mark.parametrize("code", ["310199", "999999", "000000", "31011", "3101120", "31O112", ""])
def test_anything_else_is_not(code: str) -> None:
    assert not is_area_code(code)


def test_the_table_is_the_shipped_one_and_nonempty() -> None:
    codes = area_codes()
    assert len(codes) > 5000
    assert all(len(code) == 6 and code.isdigit() for code in codes)
