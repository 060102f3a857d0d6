"""A death report's ``id_number``: GB 11643 check character and the birth date it carries.

The area prefix is not judged: the IDs of the elderly carry district codes abolished since
(python-stdnum #442), so a checksum and a plausible birth date are the whole check.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

import pytest
from stdnum.cn import ric

from piguard import resident_id
from piguard.discover.recognizers import validators
from piguard.errors import InputError
from piguard.records.schemas import check_report_field, identity_rule

DEATH = datetime(2025, 3, 5, 2, 30, tzinfo=UTC)


def make_id(area: str, born: str, seq: str = "123") -> str:
    """An 18-character ID with the right check character."""
    body = area + born + seq
    return body + resident_id.check_character(body)


def wrong_check(number: str) -> str:
    """``number`` with another check character."""
    return number[:17] + ("1" if number[17] != "1" else "2")


def refusal(value: str) -> str:
    """The reason ``value`` is refused as an ``id_number`` (it names the field, never the value)."""
    with pytest.raises(InputError) as refused:
        check_report_field("id_number", value)
    assert refused.value.where == "id_number"
    assert value not in str(refused.value)
    return refused.value.reason


def test_the_published_example_has_check_character_x() -> None:
    # GB 11643-1999's example number.
    assert resident_id.check_character("11010519491231002") == "X"
    assert check_report_field("id_number", "11010519491231002x") == "11010519491231002X"
    assert (refusal("110105194912310021")) == "id_number: check character does not match"


@pytest.mark.parametrize("born", ["19230415", "19280917", "19351101", "19480229", "19520707", "19691231", "19770101"])
@pytest.mark.parametrize("area", ["310112", "310104", "110103", "320102", "440301"])
def test_ids_of_people_born_1920s_to_1970s(area: str, born: str) -> None:
    number = make_id(area, born)
    assert check_report_field("id_number", f" {number.lower()} ") == number
    assert (refusal(wrong_check(number))) == "id_number: check character does not match"


def test_an_abolished_area_code_is_not_a_reason_to_refuse() -> None:
    # 320102 in the ID of someone born in 1931: issued in 1985 with the code then in force;
    # python-stdnum checks the code against the birth year and refuses it (its issue #442).
    number = make_id("320102", "19310508")
    assert not ric.is_valid(number)
    assert check_report_field("id_number", number) == number
    assert check_report_field("id_number", make_id("110103", "19280917")) is not None  # 崇文区, merged 2010


def test_x_check_characters_are_checked_too() -> None:
    numbers = [make_id("310112", f"19{year}0307", "002") for year in range(20, 80)]
    with_x = [n for n in numbers if n.endswith("X")]
    assert with_x, "some of these have X as check character"
    for number in with_x:
        assert check_report_field("id_number", number.lower()) == number
        assert (refusal(number[:17] + "0")) == "id_number: check character does not match"
    for number in numbers:
        if not number.endswith("X"):
            assert (refusal(number[:17] + "X")) == "id_number: check character does not match"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (make_id("310112", "19500230"), "the birth date in the number is not a calendar date"),
        (make_id("310112", "19451307"), "the birth date in the number is not a calendar date"),
        (make_id("310112", "18491231"), "the birth date in the number is before 1850"),
        (make_id("310112", "20990101"), "the birth date in the number is in the future"),
        ("31011219450307002", "must be a resident ID number"),
        ("3101121945030700X1", "must be a resident ID number"),
    ],
)
def test_a_birth_date_that_cannot_be_is_refused(number: str, reason: str) -> None:
    assert reason in (refusal(number))


def test_a_birth_in_1850_is_accepted() -> None:
    number = make_id("310112", "18500101")
    assert check_report_field("id_number", number) == number


def test_the_legacy_15_digit_form_has_no_check_character_but_a_real_date() -> None:
    assert check_report_field("id_number", "310112560321123") == "310112560321123"
    assert resident_id.birth_date_in("310112560321123") == date(1956, 3, 21)
    assert "not a calendar date" in (refusal("310112560231123"))


@pytest.mark.parametrize("field", ["id_number", "birth_date"])
def test_the_number_and_the_birth_date_must_agree(field: Literal["id_number", "birth_date"]) -> None:
    number = make_id("310112", "19450307")
    agree = identity_rule(field, id_number=number, birth_date=date(1945, 3, 7), death_time=DEATH)
    assert agree is None
    other = identity_rule(field, id_number=number, birth_date=date(1945, 3, 8), death_time=DEATH)
    assert other is not None and "does not agree" in other
    alone = identity_rule(field, id_number=number, birth_date=None, death_time=DEATH)
    assert alone is None


def test_a_birth_after_the_death_is_refused_in_either_field() -> None:
    later = DEATH + timedelta(days=3)
    number = make_id("310112", later.strftime("%Y%m%d"))
    reason = identity_rule("id_number", id_number=number, birth_date=None, death_time=DEATH)
    assert reason == "the birth date in the number lies after the date of death"
    reason = identity_rule("birth_date", id_number=None, birth_date=later.date(), death_time=DEATH)
    assert reason == "lies after the date of death"
    # A day's slack: the death is in UTC, the birth date local.
    same_day = make_id("310112", (DEATH + timedelta(days=1)).strftime("%Y%m%d"))
    assert identity_rule("id_number", id_number=same_day, birth_date=None, death_time=DEATH) is None


def test_a_15_digit_number_takes_its_century_from_the_birth_date() -> None:
    legacy = "310112990101123"  # born 1899-01-01 or 1999-01-01: the number does not say
    old_death = datetime(1998, 6, 1, tzinfo=UTC)
    assert identity_rule("id_number", id_number=legacy, birth_date=date(1899, 1, 1), death_time=old_death) is None
    assert identity_rule("birth_date", id_number=legacy, birth_date=date(1899, 1, 1), death_time=old_death) is None
    assert identity_rule("id_number", id_number=legacy, birth_date=None, death_time=old_death) is not None
    assert identity_rule("birth_date", id_number=legacy, birth_date=date(1899, 1, 2), death_time=DEATH) is not None


def test_discover_uses_the_same_check_and_keeps_its_own_bounds() -> None:
    for born in ("19230415", "19480229", "19691231"):
        body = "310112" + born + "021"
        assert validators.mod11_2_check(body) == resident_id.check_character(body)
    assert validators.plausible_birth_date("18800101") and not validators.plausible_birth_date("18791231")
    assert not validators.plausible_birth_date("19500230") and not validators.plausible_birth_date("1950x101")
    assert validators.cn_resident_id(make_id("110103", "19280917")) is not None
    assert validators.cn_resident_id(wrong_check(make_id("110103", "19280917"))) is None


@pytest.mark.parametrize(("seq", "sex"), [("123", "male"), ("124", "female"), ("009", "male"), ("000", "female")])
def test_the_sex_digit_must_agree_with_sex(seq: str, sex: str) -> None:
    # GB 11643: the sequence code's last digit is odd for men, even for women.
    number = make_id("310112", "19450307", seq)
    other = "female" if sex == "male" else "male"
    assert identity_rule("sex", id_number=number, birth_date=None, death_time=DEATH, sex=sex) is None
    assert identity_rule("id_number", id_number=number, birth_date=None, death_time=DEATH, sex=sex) is None
    reason = identity_rule("sex", id_number=number, birth_date=None, death_time=DEATH, sex=other)
    assert reason == "does not agree with the sex digit in id_number"
    reason = identity_rule("id_number", id_number=number, birth_date=None, death_time=DEATH, sex=other)
    assert reason == "the sex digit in the number does not agree with sex"
    # "unknown" (a body not yet identified) and a missing number are no disagreement.
    assert identity_rule("sex", id_number=number, birth_date=None, death_time=DEATH, sex="unknown") is None
    assert identity_rule("sex", id_number=None, birth_date=None, death_time=DEATH, sex=other) is None


def test_the_legacy_15_digit_number_carries_sex_in_its_last_digit() -> None:
    legacy = "310112560321123"  # last digit 3: a man
    assert identity_rule("sex", id_number=legacy, birth_date=None, death_time=DEATH, sex="male") is None
    assert identity_rule("sex", id_number=legacy, birth_date=None, death_time=DEATH, sex="female") is not None
