"""Number, array and list cells: whole numbers are read as their digits whatever their type, only
a float loses digits, array items are values, and identifiers inside remarks are free text."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pi_testvalues import luhn_card, resident_id
from sqlalchemy import types
from sqlalchemy.dialects import postgresql

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import ColumnClassification, classify_column, classify_table
from piguard.discover.sources import ColumnSample, sample_table_file
from piguard.discover.sources.base import merge_dtype, value_dtype, value_text, value_texts
from piguard.discover.sources.database import sql_dtype

IDS = [
    i
    for n in range(40)
    if not (i := resident_id("310112", f"19{40 + n}0{1 + n % 9}1{n % 10}", f"{n:03d}")).endswith("X")
]
MOBILES = [f"1381234{n:04d}" for n in range(30)]
CARD = luhn_card("622202123456789", 19)


def _classify(name: str, values: list[str], analyzer: Analyzer, dtype: str = "text") -> list[ColumnClassification]:
    return classify_column(ColumnSample(name, dtype=dtype, values=values), analyzer=analyzer, source="s", table="t")


def _entries(found: list[ColumnClassification]) -> list[tuple[str, str, int, int]]:
    return [(c.entity, c.kind, c.matched, c.sampled) for c in found]


def test_whole_numbers_read_as_their_digits_whatever_their_type() -> None:
    assert value_text(Decimal("13812345678")) == "13812345678"
    assert value_text(Decimal("13812345678.00")) == "13812345678"  # numeric(13,2)
    assert value_text(Decimal(IDS[0])) == IDS[0]  # exact: every digit of an 18-digit ID kept
    assert value_text(Decimal("123.45")) == "123.45"
    assert value_text(13812345678.0) == "13812345678"
    assert value_text(Decimal("NaN")) == "NaN"


def test_array_items_are_values_not_python_repr() -> None:
    assert value_texts(["13812345678", "13987654321"]) == ["13812345678", "13987654321"]
    assert value_texts([[13812345678, None], [Decimal("13987654321")]]) == ["13812345678", "13987654321"]
    assert value_texts([]) == []
    assert value_texts(None) == []
    assert value_texts("13812345678") == ["13812345678"]
    assert value_text(["13812345678", "13987654321"]) == "13812345678; 13987654321"
    assert value_text({"phone": "13812345678"}) == '{"phone": "13812345678"}'


def test_number_types() -> None:
    assert value_dtype(Decimal("1")) == "decimal"
    assert value_dtype(["a", "b"]) == "text"
    assert value_dtype([1, 2.5]) == "float"
    assert value_dtype([]) is None
    assert value_dtype(None) is None
    assert merge_dtype("integer", "decimal") == "decimal"
    assert merge_dtype("decimal", "float") == "float"
    assert merge_dtype("integer", "float") == "float"
    assert merge_dtype("integer", "text") == "text"


@pytest.mark.parametrize(
    ("sql_type", "dtype"),
    [
        (types.Numeric(11, 0), "integer"),
        (types.Numeric(18, 0), "integer"),
        (types.Numeric(12, 2), "decimal"),
        (types.Numeric(), "decimal"),
        (postgresql.DOUBLE_PRECISION(), "float"),
        (types.Float(), "float"),
        (types.BigInteger(), "integer"),
        (postgresql.ARRAY(types.Text()), "text"),
        (postgresql.ARRAY(types.BigInteger()), "integer"),
    ],
)
def test_sql_types(sql_type: types.TypeEngine[object], dtype: str) -> None:
    assert sql_dtype(sql_type) == dtype


@pytest.mark.parametrize("dtype", ["integer", "decimal", "float"])
def test_number_columns_of_mobiles_and_cards_are_reported(analyzer: Analyzer, dtype: str) -> None:
    assert _entries(_classify("lxdh", MOBILES, analyzer, dtype)) == [("CN_MOBILE", "values", 30, 30)]
    assert _entries(_classify("mobile", MOBILES, analyzer, dtype)) == [("CN_MOBILE", "values", 30, 30)]
    # Without a name the values alone say so.
    assert _entries(_classify("c3", MOBILES, analyzer, dtype)) == [("CN_MOBILE", "values", 30, 30)]
    [card] = _classify("card", [CARD] * 20, analyzer, dtype="integer")
    assert (card.entity, card.kind, card.matched) == ("BANK_CARD", "values", 20)


@pytest.mark.parametrize("dtype", ["decimal", "float"])
def test_amounts_and_measurements_stay_silent(analyzer: Analyzer, dtype: str) -> None:
    amounts = [f"{n}23.45" for n in range(1, 30)] + ["300"]
    assert _classify("fee", amounts, analyzer, dtype) == []
    assert _classify("mobile_fee", amounts, analyzer, dtype) == []
    assert _classify("weight", [], analyzer, dtype) == []


@pytest.mark.parametrize("dtype", ["integer", "decimal"])
def test_exact_number_columns_of_ids_are_validated_not_called_mangled(analyzer: Analyzer, dtype: str) -> None:
    [c] = _classify("sfzh", IDS, analyzer, dtype)
    assert (c.entity, c.matched, c.sampled) == ("CN_RESIDENT_ID", len(IDS), len(IDS))
    assert "spreadsheet" not in c.evidence
    # Wrong check digits in an exact column are invalid IDs, not digits a spreadsheet lost.
    wrong = [i[:-1] + str((int(i[-1]) + 1) % 10) for i in IDS]
    for found in (_classify("身份证号", wrong, analyzer, dtype), _classify("sfzh", wrong[:5], analyzer, dtype)):
        assert all("spreadsheet" not in c.evidence for c in found)


def test_ids_in_a_float_column_lost_their_last_digits(analyzer: Analyzer) -> None:
    rounded = [text for i in IDS if (text := value_text(float(i))) is not None]
    [c] = _classify("sfzh", rounded, analyzer, "float")
    assert (c.entity, c.matched) == ("CN_RESIDENT_ID", len(IDS))
    assert "stored as numbers by a spreadsheet" in c.evidence
    # Zeros for the last digits say so in an exact column too (filled from a spreadsheet).
    [z] = _classify("sfzh", [i[:15] + "000" for i in IDS], analyzer, "integer")
    assert "stored as numbers by a spreadsheet" in z.evidence


def test_float_mobiles_in_jsonl_and_parquet_are_reported(analyzer: Analyzer, tmp_path: Path) -> None:
    rows = [{"phone": float(m), "weight": 60.5 + n} for n, m in enumerate(MOBILES)]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    parquet = tmp_path / "p.parquet"
    pq.write_table(pa.table({"phone": [r["phone"] for r in rows], "weight": [r["weight"] for r in rows]}), parquet)
    for path in (jsonl, parquet):
        [table] = sample_table_file(path, source=path.name, sample=100)
        found = classify_table(table, analyzer=analyzer)
        assert [(c.column, *e) for c, e in zip(found, _entries(found), strict=True)] == [
            ("phone", "CN_MOBILE", "values", 30, 30)
        ], path.name
        assert found[0].examples[0] == MOBILES[0]
        assert "type float" in found[0].evidence


def test_a_cell_listing_several_numbers_in_a_phone_column_counts_as_matched(analyzer: Analyzer) -> None:
    values = [*MOBILES[:9], f"{MOBILES[10]};{MOBILES[11]}"]
    [c] = _classify("lxdh", values, analyzer)
    assert (c.entity, c.kind, c.matched, c.sampled) == ("CN_MOBILE", "values", 10, 10)
    assert "9/10 sampled values are CN_MOBILE; 1/10 sampled values list several CN_MOBILE" in c.evidence
    # A column made of such cells is free text, redacted finding by finding.
    pairs = [f"{a} / {b}" for a, b in zip(MOBILES[:10], MOBILES[10:20], strict=True)]
    assert _entries(_classify("lxdh", pairs, analyzer)) == [("CN_MOBILE", "free_text", 10, 10)]
    # A cell with other text beside its numbers does not list them (in a column no name claims).
    assert _entries(_classify("c5", [*MOBILES[:9], f"{MOBILES[10]};{MOBILES[11]};空号"], analyzer)) == [
        ("CN_MOBILE", "values", 9, 10)
    ]


def test_identifiers_inside_remarks_make_a_free_text_column(analyzer: Analyzer) -> None:
    remarks = [f"家属电话{m}" if n % 2 else "无" for n, m in enumerate(MOBILES)]
    assert _entries(_classify("bz", remarks, analyzer)) == [("CN_MOBILE", "free_text", 15, 30)]
    # A column named for the entity holds it with a label beside it all the same.
    assert _entries(_classify("联系电话", [f"电话{m}" for m in MOBILES], analyzer)) == [("CN_MOBILE", "values", 30, 30)]
    # An identifier with nothing but punctuation, brackets or quotes around it is the value.
    emails = [f"<user{n}@example.com>" for n in range(20)]
    assert _entries(_classify("c4", emails, analyzer)) == [("EMAIL", "values", 20, 20)]
    plates = [f"京A{n:05d}。" for n in range(20)]
    assert _entries(_classify("c6", plates, Analyzer(entities=["CN_PLATE"]))) == [("CN_PLATE", "values", 20, 20)]
