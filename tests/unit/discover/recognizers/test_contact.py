"""CN_MOBILE, CN_LANDLINE, PHONE and EMAIL, including CJK neighbours."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

from .helpers import found


@pytest.fixture(scope="module")
def contact() -> Analyzer:
    return Analyzer(entities=["CN_MOBILE", "CN_LANDLINE", "PHONE", "EMAIL"])


@pytest.mark.parametrize(
    "number",
    ["13812345678", "+8613812345678", "+86 138 1234 5678", "86-13812345678", "138 1234 5678",
     "138-1234-5678", "008619912345678", "16612345678", "17712345678"],
)
def test_mobile_forms(contact: Analyzer, number: str) -> None:
    assert found(contact, f"家属电话{number}，请联系") == [("CN_MOBILE", number)]


@pytest.mark.parametrize("number", ["12012345678", "14012345678", "15412345678", "10012345678"])
def test_unallocated_mobile_prefix_silent(contact: Analyzer, number: str) -> None:
    assert found(contact, f"号码{number}") == []


def test_mobile_touching_cjk_without_spaces(contact: Analyzer) -> None:
    assert found(contact, "联系人张三13912345678转告") == [("CN_MOBILE", "13912345678")]


@pytest.mark.parametrize("number", ["010-62345678", "(0755)26712345", "021 61234567",
                                    "0571-87654321", "（020）83812345"])
def test_landline_forms(contact: Analyzer, number: str) -> None:
    assert found(contact, f"办公电话：{number}。") == [("CN_LANDLINE", number)]


def test_landline_with_bad_area_code_silent(contact: Analyzer) -> None:
    assert found(contact, "电话 099-12345678") == []


@pytest.mark.parametrize("number", ["+44 20 7946 0958", "+1 650-253-0000", "+49 30 901820"])
def test_foreign_phone(contact: Analyzer, number: str) -> None:
    assert found(contact, f"Call {number} today") == [("PHONE", number)]


def test_chinese_mobile_not_reported_as_foreign_phone(contact: Analyzer) -> None:
    assert [e for e, _ in found(contact, "tel +86 138 1234 5678")] == ["CN_MOBILE"]


def test_timestamps_and_dates_not_phones(contact: Analyzer) -> None:
    assert found(contact, "2024-05-06 12:30:45 登录 1700000000 20240506") == []


def test_email_not_extended_into_chinese(contact: Analyzer) -> None:
    text = "请发邮件至zhang.san@example.com联系我们"
    assert found(contact, text) == [("EMAIL", "zhang.san@example.com")]


def test_email_plain_and_bad(contact: Analyzer) -> None:
    assert found(contact, "mail a.b+tag@sub.example.co.uk now") == [
        ("EMAIL", "a.b+tag@sub.example.co.uk")
    ]
    assert found(contact, "not an email: user@localhost or @example.com") == []


def test_phone_validate_value(contact: Analyzer) -> None:
    assert contact.validate_value("+44 20 7946 0958") == [("PHONE", 0.7)]
    assert contact.validate_value("(650) 253-0000") == [("PHONE", 0.7)]
    assert contact.validate_value("1644226175") == []  # epoch seconds, not a UK number
    assert contact.validate_value("13812345678") == [("CN_MOBILE", 0.85)]
    assert contact.validate_value("2024-01-01") == []


def test_full_width_digits_found_with_original_offsets(contact: Analyzer) -> None:
    text = "电话：１３８１２３４５６７８，邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    result = contact.analyze(text)
    assert [(f.entity, text[f.start : f.end]) for f in result] == [
        ("CN_MOBILE", "１３８１２３４５６７８"),
        ("EMAIL", "ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
    ]
    assert contact.validate_value("１３８１２３４５６７８")[0][0] == "CN_MOBILE"


@pytest.mark.parametrize(
    ("text", "number"),
    [("Phone: 0490 75 40 81", "0490 75 40 81"), ("please call me on 9472 7916", "9472 7916"),
     ("Mobile: (37) 788-063", "(37) 788-063")],
)
def test_grouped_number_labelled_as_phone(contact: Analyzer, text: str, number: str) -> None:
    # Unassigned ranges (phonenumbers says invalid), but written and labelled as a phone.
    assert ("PHONE", number) in found(contact, text)


@pytest.mark.parametrize("text", ["Order 0490 75 40 81 shipped", "Phone: 2024-05-06", "Phone: 12,345.67"])
def test_grouped_numbers_without_a_phone_label_stay_silent(contact: Analyzer, text: str) -> None:
    assert [e for e, _ in found(contact, text) if e == "PHONE"] == []
