"""Compound-surname names after a cue word and a colon: the whole name is the span, not the
surname alone (LAC reads 建国 as the verb "found a nation" and tags 欧阳 alone)."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

from .helpers import found


@pytest.fixture(scope="module")
def person() -> Analyzer:
    return Analyzer(entities=["PERSON"])


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("联系人：欧阳建国，电话见下", "欧阳建国"),
        ("姓名：欧阳建国，性别：男", "欧阳建国"),
        ("家属：欧阳建国，签字", "欧阳建国"),
        ("联系人：诸葛建国，电话见下", "诸葛建国"),
        ("姓名：欧阳明，性别：男", "欧阳明"),
    ],
)
def test_compound_surname_name_after_a_cue_is_whole(person: Analyzer, text: str, name: str) -> None:
    assert found(person, text) == [("PERSON", name)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("联系人：欧阳先生来电", "欧阳"),  # a title after the surname: the surname alone
        ("联系人：欧阳", "欧阳"),
        ("欧阳修的文章", "欧阳修"),  # no cue: as before
    ],
)
def test_compound_surname_is_not_extended_over_a_title_or_a_function_word(
    person: Analyzer, text: str, name: str
) -> None:
    assert found(person, text) == [("PERSON", name)]
