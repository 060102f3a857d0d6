"""Analyzer: entity selection, overlap resolution, explanations, validate_value, categories."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer, resolve_overlaps
from piguard.discover.categories import ENTITY_CATEGORY, category_of, is_sensitive
from piguard.discover.findings import Finding
from piguard.discover.recognizers.registry import ALL_ENTITIES
from piguard.errors import InputError

from .helpers import found, luhn_complete, resident_id

CANONICAL = [
    "CN_RESIDENT_ID",
    "CN_MOBILE",
    "CN_LANDLINE",
    "BANK_CARD",
    "CN_USCC",
    "CN_PLATE",
    "CN_PASSPORT",
    "CN_TRAVEL_PERMIT",
    "EMAIL",
    "IP_ADDRESS",
    "URL",
    "PHONE",
    "IBAN",
    "US_SSN",
    "PERSON",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "MEDICAL",
    "MINOR_UNDER_14",
]
_IDENTIFIERS = Analyzer(entities=[e for e in CANONICAL if e not in ("PERSON", "ADDRESS")])


def test_every_canonical_entity_is_served_and_categorised() -> None:
    assert set(ALL_ENTITIES) == set(CANONICAL)
    assert set(ENTITY_CATEGORY) == set(CANONICAL)


def test_categories_follow_pipl() -> None:
    assert category_of("CN_RESIDENT_ID") == "identity_document"
    assert is_sensitive("CN_RESIDENT_ID") and is_sensitive("BANK_CARD")
    assert is_sensitive("MEDICAL") and is_sensitive("CN_PLATE")
    assert category_of("MINOR_UNDER_14") == "minors" and is_sensitive("MINOR_UNDER_14")
    assert not is_sensitive("CN_MOBILE") and not is_sensitive("EMAIL")
    assert category_of("CN_MOBILE") == "contact"
    assert category_of("SOMETHING_NEW") == "personal_basic"


def test_unknown_entity_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="unknown entity NOPE"):
        Analyzer(entities=["EMAIL", "NOPE"])


def test_entities_lower_case_accepted_and_ordered() -> None:
    assert Analyzer(entities=["email", "cn_mobile"]).entities == ("CN_MOBILE", "EMAIL")


def test_only_requested_entities_reported() -> None:
    text = f"身份证{resident_id('110105', '19491231')} 手机13812345678"
    assert [f.entity for f in Analyzer(entities=["CN_MOBILE"]).analyze(text)] == ["CN_MOBILE"]


def test_findings_sorted_non_overlapping_with_explanations() -> None:
    analyzer = Analyzer(entities=[e for e in CANONICAL if e not in ("PERSON", "ADDRESS")])
    card = luhn_complete("622848", 19)
    number = resident_id("370102", "19610203")
    text = f"卡号{card}，身份证号{number}，手机+86 139 1234 5678，邮箱a@b.cn"
    result = analyzer.analyze(text)
    assert [f.entity for f in result] == ["BANK_CARD", "CN_RESIDENT_ID", "CN_MOBILE", "EMAIL"]
    for a, b in itertools.pairwise(result):
        assert a.end <= b.start
    for f in result:
        assert f.explanation and f.recognizer and 0 < f.score <= 1
        assert text[f.start : f.end] not in f.explanation


def test_resident_id_beats_bank_card_on_same_digits() -> None:
    number = resident_id("110105", "19491231")
    result = Analyzer(entities=["CN_RESIDENT_ID", "BANK_CARD"]).analyze(f"证件号{number}")
    assert [f.entity for f in result] == ["CN_RESIDENT_ID"]


def test_resolve_overlaps_prefers_score_then_length() -> None:
    a = Finding("A", 0, 10, 0.9, "x", "r")
    b = Finding("B", 5, 15, 0.8, "x", "r")
    c = Finding("C", 20, 30, 0.5, "x", "r")
    d = Finding("D", 20, 25, 0.5, "x", "r")
    assert resolve_overlaps([b, d, a, c]) == [a, c]


def test_validate_value_for_columns() -> None:
    analyzer = Analyzer()
    assert analyzer.validate_value("13812345678")[0][0] == "CN_MOBILE"
    assert analyzer.validate_value(resident_id("110105", "19491231"))[0][0] == "CN_RESIDENT_ID"
    assert analyzer.validate_value("someone@example.com") == [("EMAIL", 0.95)]
    assert analyzer.validate_value("") == []
    assert analyzer.validate_value("hello world") == []
    assert "MEDICAL" in dict(analyzer.validate_value("I21.9"))


def test_empty_text() -> None:
    assert Analyzer(entities=["EMAIL"]).analyze("") == []


def test_min_score_filters(tmp_path: Path) -> None:
    del tmp_path
    strict = Analyzer(entities=["CN_MOBILE"], min_score=0.9)
    assert strict.analyze("13812345678") == []
    assert [f.entity for f in strict.analyze("手机13812345678")] == ["CN_MOBILE"]


def test_resolve_overlaps_zero_length_neighbours_and_ties() -> None:
    a = Finding("A", 0, 5, 0.7, "x", "r")
    b = Finding("B", 5, 9, 0.7, "x", "r")  # touching, not overlapping
    c = Finding("C", 3, 6, 0.9, "x", "r")  # overlaps both, higher score
    assert resolve_overlaps([a, b]) == [a, b]
    assert resolve_overlaps([a, b, c]) == [c]
    long = Finding("L", 0, 10, 0.7, "x", "r")
    assert resolve_overlaps([a, long]) == [long]


def test_many_findings_in_one_long_text() -> None:
    analyzer = Analyzer(entities=["EMAIL"])
    text = "；".join(f"邮箱u{i}@example.com" for i in range(3000))
    result = analyzer.analyze(text)
    assert len(result) == 3000
    assert all(a.end <= b.start for a, b in itertools.pairwise(result))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A capitalised word between two numbers ends the first one's region: each is found.
        (
            "ID 11010519491231002X Phone 13812345678",
            [("CN_RESIDENT_ID", "11010519491231002X"), ("CN_MOBILE", "13812345678")],
        ),
        ("card 4111 1111 1111 1111 Tel 555 0142", [("BANK_CARD", "4111 1111 1111 1111"), ("PHONE", "555 0142")]),
        # An upper-case bank code inside an IBAN does not.
        ("IBAN GB82 WEST 1234 5698 7654 32", [("IBAN", "GB82 WEST 1234 5698 7654 32")]),
        # Whole numbers joined by a space or slash are split; grouped digits are not.
        ("Tel:13812345678/13912345678", [("CN_MOBILE", "13812345678"), ("CN_MOBILE", "13912345678")]),
        ("11010519491231002X 13812345678", [("CN_RESIDENT_ID", "11010519491231002X"), ("CN_MOBILE", "13812345678")]),
        (
            "ID:11010519491231002X TEL:13812345678",
            [("CN_RESIDENT_ID", "11010519491231002X"), ("CN_MOBILE", "13812345678")],
        ),
        ("+86 138 1234 5678", [("CN_MOBILE", "+86 138 1234 5678")]),
    ],
)
def test_joined_numbers_are_found_one_by_one(text: str, expected: list[tuple[str, str]]) -> None:
    found = Analyzer().analyze(text)
    assert [(f.entity, text[f.start : f.end]) for f in found] == expected


def test_split_joined_keeps_grouped_numbers_whole() -> None:
    from piguard.discover.recognizers.base import split_joined

    assert split_joined("6222 0212 3456 7890 003", 19) == [(0, "6222 0212 3456 7890 003")]
    assert split_joined("0393 1144137 5551234567", 21) == [(0, "0393 1144137"), (13, "5551234567")]


_ID = resident_id("310104", "19270815")
_CARD = luhn_complete("621700", 19)
_GROUPED_CARD = " ".join(_CARD[i : i + 4] for i in range(0, 19, 4))
# One of each identifier shape that may meet another across a single space (a pasted row,
# a log line); the region regex continues across a space before a digit or a capital.
_NEIGHBOURS = [
    ("CN_RESIDENT_ID", _ID),
    ("CN_RESIDENT_ID", f"{_ID[:6]} {_ID[6:14]} {_ID[14:]}"),
    ("CN_MOBILE", "13812345678"),
    ("CN_MOBILE", "138 1234 5678"),
    ("CN_MOBILE", "+86 139 8765 4321"),
    ("CN_LANDLINE", "021-64381234"),
    ("CN_LANDLINE", "(021) 6438 1234"),
    ("BANK_CARD", _CARD),
    ("BANK_CARD", _GROUPED_CARD),
    ("CN_USCC", "91310000MA1FL8KQ3E"),
    ("CN_PLATE", "沪B12345"),
    ("CN_PASSPORT", "E12345678"),
    ("IP_ADDRESS", "10.2.3.4"),
]


@pytest.mark.parametrize(
    ("left", "right"),
    [pair for pair in itertools.permutations(_NEIGHBOURS, 2) if pair[0][0] != pair[1][0]],
    ids=lambda pair: pair[0],
)
def test_identifiers_one_space_apart_are_each_found(left: tuple[str, str], right: tuple[str, str]) -> None:
    text = f"信息：{left[1]} {right[1]}"
    assert found(_IDENTIFIERS, text) == [left, right]


def test_same_shape_identifiers_one_space_apart_are_each_found() -> None:
    text = "联系电话：138 1234 5678 139 8765 4321"
    assert found(_IDENTIFIERS, text) == [("CN_MOBILE", "138 1234 5678"), ("CN_MOBILE", "139 8765 4321")]
    text = f"卡号 {_GROUPED_CARD} {_CARD}"
    assert found(_IDENTIFIERS, text) == [("BANK_CARD", _GROUPED_CARD), ("BANK_CARD", _CARD)]


def test_plate_next_to_an_icd_code() -> None:
    text = "车牌：沪B12345 ICD:I10"
    assert found(_IDENTIFIERS, text) == [("CN_PLATE", "沪B12345"), ("MEDICAL", "I10")]


def test_long_runs_of_spaced_numbers_stay_silent_and_fast() -> None:
    text = " ".join(str(n) for n in range(100000, 160000))
    assert found(_IDENTIFIERS, text) == []
