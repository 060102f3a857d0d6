"""Deaths whose age, marital status, occupation and next of kin agree, without touching the events."""

from __future__ import annotations

import numpy as np
import pytest

from piguard.simulate import data, lifecourse
from piguard.simulate.city import City, Death, build_city


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=2)


def age_of(death: Death) -> float:
    return (death.death_time.date() - death.birth_date).days / 365.25


def floor_of(first: str, underlying: str) -> float:
    """The minimum age of the cause row whose Part I runs from ``first`` to ``underlying``."""
    return next(lifecourse.minimum_age(r) for r in data.CAUSES if (r[2][0][0], r[2][-1][0]) == (first, underlying))


def test_minimum_ages_follow_the_cause() -> None:
    assert floor_of("G30.9", "G30.9") >= 60  # Alzheimer's disease
    assert floor_of("A41.9", "J18.9") >= 60  # sepsis in a patient with Alzheimer's (Part II)
    assert floor_of("I63.9", "I10") >= 40  # a stroke after 20 years of hypertension, begun as an adult
    assert floor_of("C25.9", "C25.9") >= 30  # a cancer
    assert floor_of("S06.9", "V89.2") == 0  # a traffic accident can kill anyone
    assert floor_of("T71", "X70") >= 12  # suicide


def test_no_death_comes_before_its_disease_could_have_run_its_course(city: City) -> None:
    for death in city.deaths:
        chain = tuple(cause.code for cause in death.part1)
        row = next(r for r in data.CAUSES if tuple(line[0] for line in r[2]) == chain)
        # The birth date is a day, the age a fraction of a year: allow the day.
        assert age_of(death) >= lifecourse.minimum_age(row) - 1 / 365, death.subject_id


def test_fit_ages_keeps_premature_deaths_premature() -> None:
    life = np.random.default_rng(0)
    dementia = next(k for k, row in enumerate(data.CAUSES) if row[2][0][0] == "G30.9")
    accident = next(k for k, row in enumerate(data.CAUSES) if row[2][-1][0] == "V89.2")
    ages = np.array([5.0, 40.0, 90.0, 5.0])
    fitted = lifecourse.fit_ages(life, ages, np.array([dementia, dementia, dementia, accident]))
    assert 60 <= fitted[0] <= 75 and 60 <= fitted[1] <= 75
    assert fitted[2] == 90.0 and fitted[3] == 5.0  # already plausible: untouched


def test_family_and_work_fit_the_age(city: City) -> None:
    for death in city.deaths:
        age = age_of(death)
        kinds = [relative.relationship for relative in death.relatives]
        assert kinds.count("配偶") <= 1
        if "配偶" in kinds:
            assert death.marital_status == "已婚"
        if age < lifecourse.MARRIAGE_AGE[death.sex]:
            assert death.marital_status == "未婚"
        if age < lifecourse.CHILD_AGE:
            assert death.occupation in ("学龄前儿童", "学生")
            assert not set(kinds) & {"配偶", "儿子", "女儿", "孙子", "孙女", "儿媳", "女婿"}
        elif age < 40:
            assert not set(kinds) & {"儿子", "女儿", "孙子", "孙女", "儿媳", "女婿"}
        if 23 <= age < 60:
            assert death.occupation not in ("离退休人员", "学生")


@pytest.mark.parametrize(
    ("age", "marital", "drawn", "expected"),
    [
        (8.0, "未婚", ["配偶", "儿子"], ["母亲", "父亲"]),
        (35.0, "未婚", ["配偶", "孙女"], ["母亲", "父亲"]),
        (70.0, "丧偶", ["配偶", "配偶", "女婿"], ["儿子", "女儿", "女婿"]),
        (80.0, "已婚", ["配偶", "配偶"], ["配偶", "女儿"]),
        (48.0, "已婚", ["配偶", "孙子"], ["配偶", "女儿"]),
    ],
)
def test_next_of_kin(age: float, marital: str, drawn: list[str], expected: list[str]) -> None:
    assert lifecourse.next_of_kin(drawn, age=age, marital=marital) == expected


def test_a_childs_father_and_a_mans_children_carry_the_surname() -> None:
    assert lifecourse.shares_surname("父亲", decedent_age=9, decedent_male=False)
    assert not lifecourse.shares_surname("母亲", decedent_age=9, decedent_male=True)
    assert lifecourse.shares_surname("女儿", decedent_age=70, decedent_male=True)
    assert not lifecourse.shares_surname("女儿", decedent_age=70, decedent_male=False)


def test_a_relatives_kind_fits_their_sex_and_the_unmarried_have_no_children() -> None:
    drawn = ["儿子", "儿子", "孙女", "兄弟"]
    kinds = lifecourse.next_of_kin(drawn, age=80, marital="丧偶", male=[False, True, True, False])
    assert kinds == ["女儿", "儿子", "孙子", "姐妹"]
    single = lifecourse.next_of_kin(["配偶", "儿子", "女婿"], age=85, marital="未婚", male=[True, False, True])
    assert not set(single) & {"配偶", "儿子", "女儿", "儿媳", "女婿", "孙子", "孙女"}
    assert all(kind in ("侄子", "侄女", "兄弟", "姐妹") for kind in single)  # at 85, no parents either
    assert lifecourse.spouse_is_misnamed("配偶", relative_male=True, decedent_male=True)
    assert not lifecourse.spouse_is_misnamed("配偶", relative_male=False, decedent_male=True)


def test_widowhood_grows_with_age_and_more_for_women(city: City) -> None:
    def widowed(sex: str, low: int, high: int) -> float:
        group = [d for d in city.deaths if d.sex == sex and low <= age_of(d) < high]
        return sum(d.marital_status == "丧偶" for d in group) / len(group)

    assert widowed("F", 60, 75) < widowed("F", 85, 110)
    assert widowed("M", 85, 110) < widowed("F", 85, 110)
