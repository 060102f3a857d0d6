"""CN_RESIDENT_ID: checksum incl. X, any-time GB/T 2260 area, plausible birth date, 15-digit form."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.validators import cn_resident_id, mod11_2_check

from .helpers import found, resident_id


@pytest.fixture(scope="module")
def ids() -> Analyzer:
    return Analyzer(entities=["CN_RESIDENT_ID"])


def test_mod11_2_matches_published_example() -> None:
    # GB 11643-1999 Appendix example number.
    assert mod11_2_check("11010519491231002") == "X"
    assert cn_resident_id("11010519491231002X") is not None
    assert cn_resident_id("11010519491231002x") is not None


@pytest.mark.parametrize("born", ["19230415", "19351101", "19480229", "19520707", "19691231",
                                  "19770101"])
@pytest.mark.parametrize("area", ["320102", "440301", "130182", "420111", "110103"])
def test_elderly_ids_valid_with_codes_of_any_time(area: str, born: str) -> None:
    number = resident_id(area, born)
    assert cn_resident_id(number) is not None


def test_accepts_ids_stdnum_rejects_for_birth_before_code_existed() -> None:
    # 南京市玄武区 320102 in an ID of someone born in 1931: real IDs issued in 1985 carry it;
    # python-stdnum's cn.ric checks the code against the birth date and rejects (its #442).
    number = resident_id("320102", "19310508")
    assert not ric.is_valid(number)
    assert cn_resident_id(number) is not None


def test_retired_code_still_valid() -> None:
    # 北京市崇文区 (110103) was merged away in 2010; IDs issued before keep it for life.
    assert cn_resident_id(resident_id("110103", "19280917")) is not None


@pytest.mark.parametrize(
    "number",
    [
        resident_id("110105", "19491231")[:-1] + "0",  # wrong check digit (true one is not 0)
        resident_id("990101", "19500101"),  # no such area
        resident_id("110105", "19500230"),  # 30 February
        resident_id("110105", "18600101"),  # born before 1880
        resident_id("110105", "20990101"),  # born in the future
    ],
)
def test_invalid_ids_rejected(number: str) -> None:
    if number.endswith("0") and mod11_2_check(number[:17]) == "0":
        pytest.skip("constructed check digit happens to be right")
    assert cn_resident_id(number) is None


def test_found_touching_chinese_characters(ids: Analyzer) -> None:
    number = resident_id("310112", "19560321")
    text = f"身份证号{number}，已核实"
    result = ids.analyze(text)
    assert [(f.entity, text[f.start : f.end]) for f in result] == [("CN_RESIDENT_ID", number)]
    assert "checksum GB 11643" in result[0].explanation
    assert "context 身份证" in result[0].explanation
    assert number not in result[0].explanation


def test_wrong_check_digit_is_silent(ids: Analyzer) -> None:
    good = resident_id("310112", "19560321")
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    assert found(ids, f"身份证号{bad}，") == []


def test_glued_to_more_digits_is_silent(ids: Analyzer) -> None:
    good = resident_id("310112", "19560321")
    assert found(ids, f"编号9{good}") == []


def test_legacy_15_digit_needs_context(ids: Analyzer) -> None:
    legacy = "310112560321123"  # area 310112, born 1956-03-21, sequence 123
    assert cn_resident_id(legacy) is not None
    assert found(ids, f"原身份证号码：{legacy}") == [("CN_RESIDENT_ID", legacy)]
    assert found(ids, f"流水 {legacy} 已处理") == []


def test_validate_value_whole_value_only(ids: Analyzer) -> None:
    number = resident_id("510121", "19440808")
    assert ids.validate_value(number)[0][0] == "CN_RESIDENT_ID"
    assert ids.validate_value(f" {number} ")[0][0] == "CN_RESIDENT_ID"
    assert ids.validate_value(number + "1") == []
    assert ids.validate_value("x" + number) == []


def test_written_in_its_three_parts(ids: Analyzer) -> None:
    good = resident_id("310112", "19560321")
    for sep in (" ", "-"):
        grouped = sep.join((good[:6], good[6:14], good[14:]))
        assert found(ids, f"身份证号码：{grouped}") == [("CN_RESIDENT_ID", grouped)]
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    assert found(ids, f"身份证号码：{bad[:6]} {bad[6:14]} {bad[14:]}") == []  # the check digit still counts
