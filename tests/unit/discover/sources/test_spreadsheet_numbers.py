"""Identifiers a spreadsheet stored as numbers: 3.10112E+17, 6.22848E+18, 310112195603211000."""

from __future__ import annotations

import pytest
from pi_testvalues import luhn_card, resident_id

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import ColumnClassification, classify_column
from piguard.discover.sources import ColumnSample
from piguard.discover.sources.base import value_text
from piguard.discover.spreadsheet import spreadsheet_number

AREAS = ("310112", "110105", "440301", "320102", "510107")
IDS = [resident_id(AREAS[i % 5], f"19{30 + i}0{1 + i % 9}1{i % 10}", f"{i:03d}") for i in range(40)]
NUMERIC_IDS = [i for i in IDS if not i.endswith("X")]
CARDS = [luhn_card(f"622848{i:04d}", 19) for i in range(30)]
MOBILES = [f"1{p}1234{i:04d}" for p in ("38", "39", "58") for i in range(10)]


def excel_general(number: str) -> str:
    """How Excel's "General" format writes a long integer to CSV: 6 significant digits."""
    mantissa, _, exponent = f"{float(number):.5E}".partition("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent)}"


def _classify(name: str, values: list[str], analyzer: Analyzer, dtype: str = "text") -> list[ColumnClassification]:
    return classify_column(ColumnSample(name, dtype=dtype, values=values), analyzer=analyzer, source="s", table="t")


@pytest.mark.parametrize(
    ("value", "numeric", "expected"),
    [
        ("3.10112E+17", False, (18, "310112", True)),
        ("6.22848e+18", False, (19, "622848", True)),
        ("1.38123E+10", False, (11, "138123", True)),
        ("6.228480012345679e+18", True, (19, "622848001234567", True)),  # Python's repr of a float cell
        ("310112195603211000", False, (18, "310112195603211", False)),  # the "0" number format
        ("310112195603211264", True, (18, "310112195603211", False)),  # a float cell read as digits
    ],
)
def test_damaged_numbers_are_recognised(value: str, numeric: bool, expected: tuple[int, str, bool]) -> None:
    number = spreadsheet_number(value, numeric=numeric)
    assert number is not None
    assert (number.digits, number.kept, number.scientific) == expected


@pytest.mark.parametrize(
    "value",
    ["1.5E+3", "2.5E+7", "1.23456789012E+5", "310112195603211264", "3101121956032112", "12.5", "abc", "E+17"],
)
def test_other_values_are_not_damaged_numbers(value: str) -> None:
    # Small or fractional numbers, and digit strings whose tail is not zeros in a text column.
    assert spreadsheet_number(value, numeric=False) is None


def test_value_text_writes_big_float_cells_as_a_spreadsheet_shows_them() -> None:
    assert value_text(13812345678.0) == "13812345678"
    assert value_text(float("310112195603211234")) == "310112195603211000"
    assert value_text(float("6228480012345678901")) == "6228480012345680000"
    assert value_text(4111111111111111.0) == "4111111111111111"  # below 2**53 a float is exact
    assert value_text(1e25) == "1e+25"


@pytest.mark.parametrize("name", ["身份证号", "sfzh", "公民身份号码"])
def test_resident_ids_in_scientific_notation_are_reported_from_the_name(analyzer: Analyzer, name: str) -> None:
    [c] = _classify(name, [excel_general(i) for i in NUMERIC_IDS], analyzer)
    assert (c.entity, c.kind, c.sensitive, c.matched, c.sampled) == (
        "CN_RESIDENT_ID",
        "values",
        True,
        len(NUMERIC_IDS),
        len(NUMERIC_IDS),
    )
    assert 0.8 <= c.confidence < 0.95  # lower than validated IDs give (0.99+)
    assert "mangled by a spreadsheet (scientific notation)" in c.evidence
    assert "cannot be validated" in c.evidence
    assert f"{len(NUMERIC_IDS)} start with a valid area code" in c.evidence


def test_ids_ending_in_x_stay_text_beside_the_mangled_ones(analyzer: Analyzer) -> None:
    values = [i if i.endswith("X") else excel_general(i) for i in IDS]
    kept = [i for i in IDS if i.endswith("X")]
    assert kept  # the sample holds both kinds
    [c] = _classify("身份证号", values, analyzer)
    assert (c.entity, c.matched, c.sampled) == ("CN_RESIDENT_ID", len(IDS), len(IDS))
    assert f"{len(kept)}/{len(IDS)} sampled values are CN_RESIDENT_ID" in c.evidence


def test_cards_and_mobiles_in_scientific_notation(analyzer: Analyzer) -> None:
    [card] = _classify("银行卡号", [excel_general(c) for c in CARDS], analyzer)
    assert (card.entity, card.category, card.matched) == ("BANK_CARD", "financial_account", len(CARDS))
    assert "start with a card issuer prefix" in card.evidence
    [phone] = _classify("联系电话", [excel_general(m) for m in MOBILES], analyzer)
    assert (phone.entity, phone.matched) == ("CN_MOBILE", len(MOBILES))
    assert 0.5 <= phone.confidence < 0.95
    assert "start with an allocated mobile prefix" in phone.evidence


def test_cards_in_float_cells_of_a_workbook(analyzer: Analyzer) -> None:
    values = [text for c in CARDS if (text := value_text(float(c))) is not None]
    [c] = _classify("卡号", values, analyzer, dtype="float")
    assert (c.entity, c.kind) == ("BANK_CARD", "values")
    assert "digits after the 15th lost" in c.evidence


def test_resident_ids_with_zeros_for_their_last_digits_in_a_csv(analyzer: Analyzer) -> None:
    # The same IDs written with Excel's "0" number format: area and birth date are intact.
    [c] = _classify("证件号码", [i[:15] + "000" for i in NUMERIC_IDS], analyzer)
    assert (c.entity, c.matched) == ("CN_RESIDENT_ID", len(NUMERIC_IDS))
    assert "stored as numbers by a spreadsheet" in c.evidence


def test_without_a_name_mangled_numbers_are_not_reported(analyzer: Analyzer) -> None:
    assert _classify("col5", [excel_general(i) for i in NUMERIC_IDS], analyzer) == []
    assert _classify("amount", [excel_general(c) for c in CARDS], analyzer, dtype="float") == []


def test_mangled_numbers_of_the_wrong_size_do_not_make_an_identifier(analyzer: Analyzer) -> None:
    # A mobile column's name over numbers of 18 digits, an ID column over small ones.
    assert _classify("联系电话", [excel_general(i) for i in NUMERIC_IDS], analyzer) == []
    assert _classify("身份证号", [f"{1 + i % 9}.5E+3" for i in range(30)], analyzer) == []


def test_exact_long_integers_are_not_called_mangled(analyzer: Analyzer) -> None:
    # An int64 column (Parquet, a database) keeps every digit: the IDs validate as they are.
    [c] = _classify("sfzh", NUMERIC_IDS, analyzer, dtype="integer")
    assert (c.entity, c.matched) == ("CN_RESIDENT_ID", len(NUMERIC_IDS))
    assert "spreadsheet" not in c.evidence


def test_a_few_mangled_values_in_a_valid_column_are_mentioned(analyzer: Analyzer) -> None:
    values = [excel_general(i) if n % 4 == 0 and not i.endswith("X") else i for n, i in enumerate(IDS)]
    mangled = sum("E+" in v for v in values)
    [c] = _classify("身份证号", values, analyzer)
    assert (c.entity, c.matched) == ("CN_RESIDENT_ID", len(IDS) - mangled)
    assert c.confidence > 0.99
    assert f"{mangled}/{len(IDS)} sampled values look like numbers mangled by a spreadsheet" in c.evidence
