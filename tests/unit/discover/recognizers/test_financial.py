"""BANK_CARD (Luhn + issuer + context), IBAN, US_SSN and CN_USCC."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc as std_uscc

from piguard.discover.analyzer import Analyzer

from .helpers import found, luhn_complete


@pytest.fixture(scope="module")
def fin() -> Analyzer:
    return Analyzer(entities=["BANK_CARD", "IBAN", "US_SSN", "CN_USCC"])


def test_unionpay_card_with_context(fin: Analyzer) -> None:
    card = luhn_complete("622202", 19)
    result = fin.analyze(f"银行卡号{card}，开户行")
    assert [(f.entity, f.score) for f in result] == [("BANK_CARD", 0.95)]
    assert "Luhn" in result[0].explanation and "context" in result[0].explanation


def test_grouped_visa(fin: Analyzer) -> None:
    card = luhn_complete("4111", 16)
    grouped = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    assert found(fin, f"card {grouped} exp 12/29") == [("BANK_CARD", grouped)]


def test_luhn_failing_order_number_silent(fin: Analyzer) -> None:
    card = luhn_complete("622202", 19)
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert found(fin, f"订单号{wrong}已发货") == []
    assert found(fin, f"卡号{wrong}") == []


def test_luhn_passing_number_without_issuer_prefix_silent(fin: Analyzer) -> None:
    waybill = luhn_complete("1000", 16)
    assert found(fin, f"运单号 {waybill}") == []


@pytest.mark.parametrize("prefix", ["5018", "5893", "6304", "6759", "5612"])
def test_maestro_12_digits_with_a_card_word(fin: Analyzer, prefix: str) -> None:
    card = luhn_complete(prefix, 12)
    assert found(fin, f"my debit card {card} was declined") == [("BANK_CARD", card)]
    assert found(fin, f"refund to cc {card} please") == [("BANK_CARD", card)]
    grouped = f"{card[:4]} {card[4:8]} {card[8:]}"
    assert found(fin, f"Maestro {grouped}") == [("BANK_CARD", grouped)]


def test_maestro_12_digits_hard_negatives(fin: Analyzer) -> None:
    card = luhn_complete("6759", 12)
    assert found(fin, f"order {card} shipped") == []  # no card word: an order number
    assert found(fin, f"account {card}") == []  # a bank account number of the same length
    assert found(fin, f"access code {card}") == []  # "cc" only as a word
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert found(fin, f"card {wrong}") == []  # Luhn fails
    visa12 = luhn_complete("4111", 12)
    assert found(fin, f"card {visa12}") == []  # no other scheme issues 12 digits


def test_lower_case_iban_with_a_bank_word(fin: Analyzer) -> None:
    assert found(fin, "my iban is de89370400440532013000") == [("IBAN", "de89370400440532013000")]
    assert found(fin, "bank account gb82west12345698765432") == [("IBAN", "gb82west12345698765432")]
    assert found(fin, "token de89370400440532013000 in the log") == []  # no bank word
    assert found(fin, "iban de89370400440532013001") == []  # mod-97 fails


def test_iban(fin: Analyzer) -> None:
    assert found(fin, "IBAN GB82 WEST 1234 5698 7654 32 please") == [
        ("IBAN", "GB82 WEST 1234 5698 7654 32")
    ]
    assert found(fin, "IBAN DE89370400440532013000") == [("IBAN", "DE89370400440532013000")]
    assert found(fin, "IBAN DE89370400440532013001") == []  # mod-97 fails


def test_us_ssn(fin: Analyzer) -> None:
    assert found(fin, "SSN: 536-22-8711") == [("US_SSN", "536-22-8711")]
    for bad in ("000-22-8711", "666-22-8711", "912-22-8711", "536-00-8711", "536-22-0000"):
        assert found(fin, f"SSN: {bad}") == []
    assert found(fin, "ref 536228711") == []  # nine bare digits need context
    assert found(fin, "social security number 536228711") == [("US_SSN", "536228711")]


def test_uscc() -> None:
    base = "91310000MA1K3A2B"
    body = base + "C"
    code = body + std_uscc.calc_check_digit(body)
    fin = Analyzer(entities=["CN_USCC"])
    assert found(fin, f"统一社会信用代码：{code}。") == [("CN_USCC", code)]
    wrong = body + ("0" if code[-1] != "0" else "1")
    assert found(fin, f"统一社会信用代码：{wrong}。") == []
