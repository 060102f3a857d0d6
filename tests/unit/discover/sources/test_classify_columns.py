"""Column classification from weighted evidence: name, comment, validated values, data type."""

from __future__ import annotations

import pytest
from pi_testvalues import luhn_card, resident_id

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import classify_column, classify_table
from piguard.discover.column_names import name_evidence
from piguard.discover.sources import ColumnSample, TableSample

ELDERLY_IDS = [
    resident_id("110105", f"19{y:02d}0{m}1{d}", f"{s:03d}")
    for y, m, d, s in [
        (24, 2, 5, 11),
        (31, 5, 7, 22),
        (38, 9, 3, 35),
        (45, 1, 9, 47),
        (52, 7, 1, 58),
        (67, 3, 8, 61),
        (71, 6, 2, 73),
        (29, 4, 4, 84),
    ]
]
MOBILES = [f"13{d}1234{i:04d}" for d in (8, 9, 5) for i in range(7)]


def _one(column: ColumnSample, analyzer: Analyzer) -> tuple[str, str, float, int, int]:
    [c] = classify_column(column, analyzer=analyzer, source="s", table="t")
    return c.entity, c.kind, c.confidence, c.matched, c.sampled


@pytest.mark.parametrize(
    ("name", "entity"),
    [
        ("身份证号", "CN_RESIDENT_ID"),
        ("公民身份号码", "CN_RESIDENT_ID"),
        ("sfzh", "CN_RESIDENT_ID"),
        ("deceasedIdCard", "CN_RESIDENT_ID"),
        ("联系电话", "CN_MOBILE"),
        ("lxdh", "CN_MOBILE"),
        ("contact_phone", "CN_MOBILE"),
        ("固定电话", "CN_LANDLINE"),
        ("email", "EMAIL"),
        ("银行卡号", "BANK_CARD"),
        ("姓名", "PERSON"),
        ("patientName", "PERSON"),
        ("家庭住址", "ADDRESS"),
        ("csrq", "DATE_OF_BIRTH"),
        ("date_of_birth", "DATE_OF_BIRTH"),
        ("根本死因", "MEDICAL"),
        ("icd10", "MEDICAL"),
    ],
)
def test_name_evidence_chinese_english_and_pinyin(name: str, entity: str) -> None:
    evidence = name_evidence(name)
    assert max(evidence, key=lambda e: evidence[e][0]) == entity


def test_generic_name_words_are_weak_evidence() -> None:
    assert name_evidence("org_name")["PERSON"][0] < 0.5
    assert name_evidence("hospital_name")["PERSON"][0] < 0.5
    assert name_evidence("contact_name")["PERSON"][0] == 1.0
    assert name_evidence("amount") == {}
    assert name_evidence(None) == {}


def test_values_alone_identify_a_column(analyzer: Analyzer) -> None:
    entity, kind, conf, matched, sampled = _one(ColumnSample("c3", values=ELDERLY_IDS), analyzer)
    assert (entity, kind, matched, sampled) == ("CN_RESIDENT_ID", "values", 8, 8)
    assert conf > 0.95


def test_name_and_values_together_are_near_certain(analyzer: Analyzer) -> None:
    values = [*MOBILES, "n/a", "", "0"]
    entity, _, conf, matched, sampled = _one(ColumnSample("lxdh", values=values), analyzer)
    assert (entity, matched, sampled) == ("CN_MOBILE", 21, 24)
    assert conf > 0.99


def test_landline_values_beat_the_mobile_prior_of_the_name(analyzer: Analyzer) -> None:
    landlines = [f"021-6{i:03d}1234" for i in range(20)]
    entity, _, _, matched, _ = _one(ColumnSample("联系电话", values=landlines), analyzer)
    assert entity == "CN_LANDLINE"
    assert matched == 20


def test_name_contradicted_by_values_is_not_reported(analyzer: Analyzer) -> None:
    column = ColumnSample("phone", values=["N/A", "unknown", "none"] * 10)
    assert classify_column(column, analyzer=analyzer, source="s", table="t") == []


def test_wrong_check_digits_do_not_make_an_id_column(analyzer: Analyzer) -> None:
    broken = [i[:-1] + ("0" if i[-1] != "0" else "1") for i in ELDERLY_IDS] * 3
    assert classify_column(ColumnSample("c", values=broken), analyzer=analyzer, source="s", table="t") == []


def test_comment_is_evidence(analyzer: Analyzer) -> None:
    no_values = ColumnSample("c7", comment="家属联系电话")
    entity, _, conf, _, sampled = _one(no_values, analyzer)
    assert entity == "CN_MOBILE"
    assert sampled == 0
    assert 0.5 <= conf < 0.9


def test_order_numbers_and_amounts_are_not_pi(analyzer: Analyzer) -> None:
    orders = [f"2025030{i % 9}{i:010d}" for i in range(40)]
    assert classify_column(ColumnSample("order_no", values=orders), analyzer=analyzer, source="s", table="t") == []
    amounts = ColumnSample("phone_fee", dtype="float", values=["13812345678.0"] * 5)
    assert classify_column(amounts, analyzer=analyzer, source="s", table="t") == []


def test_bank_cards_by_luhn(analyzer: Analyzer) -> None:
    cards = [luhn_card(f"62220{i}", 19) for i in range(10)]
    entity, _, _, matched, _ = _one(ColumnSample("kh", values=cards), analyzer)
    assert (entity, matched) == ("BANK_CARD", 10)


def test_birth_dates_need_the_name(full_analyzer: Analyzer) -> None:
    dates = ["1931-05-07", "1948-12-01", "1920-01-30"]
    entity, _, conf, matched, _ = _one(ColumnSample("出生日期", dtype="date", values=dates), full_analyzer)
    assert (entity, matched) == ("DATE_OF_BIRTH", 3)
    assert conf > 0.9
    assert (
        classify_column(
            ColumnSample("death_date", dtype="date", values=dates), analyzer=full_analyzer, source="s", table="t"
        )
        == []
    )
    entity, _, _, matched, _ = _one(ColumnSample("csrq", values=dates), full_analyzer)
    assert (entity, matched) == ("DATE_OF_BIRTH", 3)


def test_free_text_column_reports_each_entity_inside(analyzer: Analyzer) -> None:
    notes = [f"家属电话{m}，已通知" for m in MOBILES[:5]] + ["无"] * 5
    notes += [f"身份证{ELDERLY_IDS[0]}核对无误"]
    found = classify_column(ColumnSample("备注", values=notes), analyzer=analyzer, source="s", table="t")
    assert [(c.entity, c.kind, c.matched, c.sampled) for c in found] == [
        ("CN_MOBILE", "free_text", 5, 11),
        ("CN_RESIDENT_ID", "free_text", 1, 11),
    ]
    assert found[1].sensitive
    assert found[1].category == "identity_document"


def test_entity_filter_is_respected() -> None:
    only_email = Analyzer(entities=["EMAIL"])
    column = ColumnSample("lxdh", values=MOBILES)
    assert classify_column(column, analyzer=only_email, source="s", table="t") == []


def test_name_column_found_by_name_and_values(full_analyzer: Analyzer) -> None:
    names = ["张三", "李四", "王五", "欧阳娜娜", "司马光", "赵敏"] * 3
    entity, _, conf, _, _ = _one(ColumnSample("xm", values=names), full_analyzer)
    assert entity == "PERSON"
    assert conf >= 0.5


def test_classify_table_keeps_column_order_and_reports_evidence(analyzer: Analyzer) -> None:
    table = TableSample(
        source="deaths.csv",
        table="deaths.csv",
        rows_sampled=21,
        rows_total=21,
        columns=[
            ColumnSample("sfzh", values=ELDERLY_IDS),
            ColumnSample("amount", values=["1.0"] * 8),
            ColumnSample("lxdh", values=MOBILES),
        ],
    )
    out = classify_table(table, analyzer=analyzer)
    assert [(c.column, c.entity) for c in out] == [("sfzh", "CN_RESIDENT_ID"), ("lxdh", "CN_MOBILE")]
    assert "name 'sfzh' suggests CN_RESIDENT_ID" in out[0].evidence
    assert "8/8 sampled values are CN_RESIDENT_ID" in out[0].evidence
    assert all(ELDERLY_IDS[0] not in c.evidence for c in out)


def test_other_pi_inside_a_classified_column_is_reported_too(analyzer: Analyzer) -> None:
    # Mostly bare mobile numbers, so the column is CN_MOBILE by its values; one note also holds a
    # resident ID, which must not be hidden behind the column's main entity.
    values = [*MOBILES[:9], f"ID:{ELDERLY_IDS[0]} TEL:{MOBILES[9]}"]
    found = classify_column(ColumnSample("lxdh", values=values), analyzer=analyzer, source="s", table="t")
    assert [(c.entity, c.kind) for c in found] == [("CN_MOBILE", "values"), ("CN_RESIDENT_ID", "free_text")]
    assert found[1].sensitive and found[1].matched == 1


@pytest.mark.parametrize("sep", ["/", ";", "，", " ", "、"])
def test_several_numbers_in_one_cell_are_found(analyzer: Analyzer, sep: str) -> None:
    # A contact column often holds two numbers in a cell (本人/家属), and a JSON list of IDs
    # becomes one ";"-joined value: neither is one whole value, and neither has a letter.
    phones = [f"{a}{sep}{b}" for a, b in zip(MOBILES[:12], MOBILES[9:], strict=False)]
    found = classify_column(ColumnSample("lxdh", values=phones), analyzer=analyzer, source="s", table="t")
    assert [(c.entity, c.kind, c.matched) for c in found] == [("CN_MOBILE", "free_text", 12)]
    ids = [f"{a}{sep}{b}" for a, b in zip(ELDERLY_IDS, reversed(ELDERLY_IDS), strict=True)]
    found = classify_column(ColumnSample("ids", values=ids), analyzer=analyzer, source="s", table="t")
    assert [(c.entity, c.sensitive, c.matched) for c in found] == [("CN_RESIDENT_ID", True, 8)]


def test_resident_ids_rounded_by_excel_are_still_reported(analyzer: Analyzer) -> None:
    rounded = [str(int(float(i))) for i in ELDERLY_IDS if not i.endswith("X")]
    column = ColumnSample("证件", dtype="float", values=rounded)
    [c] = classify_column(column, analyzer=analyzer, source="s", table="t")
    assert (c.entity, c.kind, c.matched) == ("CN_RESIDENT_ID", "values", len(rounded))
    assert "stored as numbers" in c.evidence
    amounts = ColumnSample("fee", dtype="float", values=["12.5", "300", "7"])
    assert classify_column(amounts, analyzer=analyzer, source="s", table="t") == []
