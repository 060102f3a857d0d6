"""A life that fits its death: age, marital status, occupation and next of kin agree with each other.

The city draws a death's cause, age, marital status and occupation independently, which made
children die of Alzheimer's disease, married minors and widowed people listing a spouse. This
module puts them in agreement after the draw, with a random stream of its own: the access
events depend on the cause, place and institution of a death, never on these fields, so the
event stream (and every detection result on it) stays exactly as it was; only report content
changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from piguard.simulate import data

_YEARS = re.compile(r"([0-9]+)年")
# Conditions that do not occur (or are not certified) below an age, whatever their duration.
_FLOORS = (("G30", 60.0), ("M81", 50.0), ("C", 30.0), ("X70", 12.0))
# A chronic condition of N years began in adulthood.
_ADULT_ONSET = 20.0
_PREMATURE_UNTIL = 75.0

MARRIAGE_AGE = {"M": 22, "F": 20}  # the Civil Code's minimum marriage ages
WORKING = ("工人", "专业技术人员", "商业服务业人员", "农民", "无业人员", "办事人员")
# Next of kin by the decedent's stage of life; the first relative is the one the family names.
_YOUNG_KIN = ("母亲", "父亲", "姐妹", "兄弟", "祖母", "祖父")
_DESCENDANTS = ("儿子", "女儿", "儿媳", "女婿", "孙子", "孙女")
_GRANDCHILDREN = ("孙子", "孙女")
# Kin who carry the surname of a male decedent (his children), or of a child (father's line).
SAME_SURNAME_OF_MAN = ("儿子", "女儿", "孙子", "孙女")
SAME_SURNAME_OF_CHILD = ("父亲", "祖父", "兄弟", "姐妹")
CHILD_AGE = 18
_WIDOWHOOD_FROM = 60.0
_WIDOWED_AT_MOST = 0.85
_OLD_SINGLE_KIN = ("侄子", "侄女", "兄弟", "姐妹")
# (man, woman) kinds; a relative whose drawn name is of the other sex takes the counterpart.
_PAIRS = (
    ("儿子", "女儿"),
    ("侄子", "侄女"),
    ("女婿", "儿媳"),
    ("孙子", "孙女"),
    ("兄弟", "姐妹"),
    ("父亲", "母亲"),
    ("祖父", "祖母"),
)
_MALE_KINDS = frozenset(man for man, _ in _PAIRS)
_COUNTERPART = {**dict(_PAIRS), **{woman: man for man, woman in _PAIRS}}


def minimum_age(cause: tuple[float, str, tuple[data.CauseLine, ...], tuple[data.CauseLine, ...]]) -> float:
    """The youngest age at which a death with this cause row is plausible."""
    _, manner, part1, part2 = cause
    lines = part1 + part2
    floor = max((age for code, _, _ in lines for prefix, age in _FLOORS if code.startswith(prefix)), default=0.0)
    if manner != "natural":
        return floor
    years = [int(m) for _, _, interval in lines for m in _YEARS.findall(interval)]
    return max(floor, _ADULT_ONSET + max(years) if years else 0.0)


def fit_ages(life: np.random.Generator, ages: np.ndarray, causes: np.ndarray) -> np.ndarray:
    """Ages with every death younger than its cause allows redrawn between that age and 75.

    A premature death stays premature (the city's share of deaths before old age barely moves),
    but no longer comes before the disease could have run its course.
    """
    floors = np.array([minimum_age(row) for row in data.CAUSES])[causes]
    too_young = ages < floors
    fitted = ages.copy()
    low = floors[too_young]
    fitted[too_young] = life.uniform(low, np.maximum(low + 1.0, _PREMATURE_UNTIL))
    return fitted


def marital_status(life: np.random.Generator, drawn: str, *, age: float, sex: str) -> str:
    """``drawn`` if the age allows it: below the marriage age never married, young people rarely
    widowed; from 60 on widowhood grows with age, twice as fast for women (who outlive husbands)."""
    if age < MARRIAGE_AGE[sex]:
        return "未婚"
    if age < 30 and drawn != "已婚":
        return "未婚" if life.random() < 0.9 else "离婚"
    if age < 50 and drawn == "丧偶":
        return "已婚"
    if age >= _WIDOWHOOD_FROM and drawn in ("已婚", "丧偶"):
        share = min(_WIDOWED_AT_MOST, (age - _WIDOWHOOD_FROM) / 40.0) * (1.0 if sex == "F" else 0.5)
        return "丧偶" if life.random() < share else "已婚"
    return drawn


def occupation(drawn: str, *, age: float, index: int) -> str:
    """``drawn`` if the age allows it: pre-school children, pupils, and no pensioners of working age."""
    if age < 6:
        return "学龄前儿童"
    if age < CHILD_AGE:
        return "学生"
    if age < 60 and drawn in ("离退休人员", "学生") and (age >= 23 or drawn != "学生"):
        return WORKING[index % len(WORKING)]
    if age >= 60 and drawn == "学生":
        return "离退休人员"
    return drawn


def next_of_kin(drawn: Sequence[str], *, age: float, marital: str, male: Sequence[bool] | None = None) -> list[str]:
    """The drawn relationships made possible: one spouse at most and only if married, children only
    of adults who married, grandchildren only of the old; a child's kin are parents, siblings,
    grandparents. With ``male`` (each relative's sex, as their name was drawn), a son is a man and a
    daughter a woman: a kind of the other sex becomes its counterpart (儿子 -> 女儿)."""
    kin: list[str] = []
    for position, kind in enumerate(drawn):
        if age < CHILD_AGE:
            kind = _YOUNG_KIN[position % len(_YOUNG_KIN)]
        elif kind == "配偶" and (marital != "已婚" or "配偶" in kin):
            kind = _DESCENDANTS[position % 2] if age >= 40 and marital != "未婚" else _other_kin(age, position)
        elif kind in _DESCENDANTS and (age < 40 or marital == "未婚"):
            kind = _other_kin(age, position)
        elif kind in _GRANDCHILDREN and age < 55:
            kind = _DESCENDANTS[position % 2]
        if male is not None and kind in _COUNTERPART and (kind in _MALE_KINDS) != bool(male[position]):
            kind = _COUNTERPART[kind]
        kin.append(kind)
    return kin


def _other_kin(age: float, position: int) -> str:
    # Without spouse or children: parents and siblings; from 60 on, siblings and their children.
    return (_YOUNG_KIN if age < _WIDOWHOOD_FROM else _OLD_SINGLE_KIN)[position % 4]


def spouse_is_misnamed(kind: str, *, relative_male: bool, decedent_male: bool) -> bool:
    """Whether a spouse's drawn name is of the decedent's own sex (the caller names them anew)."""
    return kind == "配偶" and relative_male == decedent_male


def shares_surname(kind: str, *, decedent_age: float, decedent_male: bool) -> bool:
    """Whether a relative of this kind carries the decedent's surname (children take their father's)."""
    if decedent_age < CHILD_AGE:
        return kind in SAME_SURNAME_OF_CHILD
    return decedent_male and kind in SAME_SURNAME_OF_MAN
