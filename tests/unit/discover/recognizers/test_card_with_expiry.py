"""BANK_CARD written with its expiry date and security code: the card's span only, Luhn-valid only."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

from .helpers import found, luhn_complete


@pytest.fixture(scope="module")
def fin() -> Analyzer:
    return Analyzer(entities=["BANK_CARD", "CN_MOBILE", "CN_RESIDENT_ID", "US_SSN", "PHONE", "CN_LANDLINE", "IBAN"])


CARD = luhn_complete("622202123456789012", 19)
GROUPED = " ".join(CARD[i : i + 4] for i in range(0, 19, 4))  # 6222 0212 3456 7890 12x
VISA = luhn_complete("411111111111111", 16)
VISA_GROUPED = " ".join(VISA[i : i + 4] for i in range(0, 16, 4))
WRONG = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("template", "card"),
    [
        ("{} 12/27 CVV 123", GROUPED),
        ("卡号{} 有效期12/27", CARD),
        ("卡号{}有效期12/27", CARD),
        ("卡号 {} 有效期 12/27 CVV 123", GROUPED),
        ("{} 12/27 123", GROUPED),
        ("{} 12/2027 CVC2: 456", GROUPED),
        ("{} VALID THRU 12/27", VISA_GROUPED),
        ("Card: {} exp 12/27 cvv 123", VISA),
        ("{} 12/27 123", VISA),
        ("{} EXP 01/30 CVV 9876", VISA_GROUPED),
    ],
)
def test_card_found_with_exactly_its_span(fin: Analyzer, template: str, card: str) -> None:
    text = template.format(card)
    [finding] = fin.analyze(text)
    assert (finding.entity, text[finding.start : finding.end]) == ("BANK_CARD", card)
    assert finding.score >= 0.6  # reported; a card word raises it
    assert "Luhn" in finding.explanation


def test_a_security_code_or_expiry_word_is_card_context(fin: Analyzer) -> None:
    [finding] = fin.analyze(f"{GROUPED} 12/27 CVV 123")
    assert finding.score == 0.95
    assert finding.explanation.endswith("context cvv")


@pytest.mark.parametrize(
    "text",
    [
        f"{' '.join(WRONG[i : i + 4] for i in range(0, 19, 4))} 12/27 CVV 123",  # Luhn fails
        f"卡号{WRONG} 有效期12/27",
        "1000 2000 3000 4000 12/27 5000",  # a row of figures, not a card
        "100 200 300 400 500 600 700 800 900 12/27 123",
        f"订单 {CARD[:-3]} 12/27 CVV 123",  # too short for a card once the tail is cut
    ],
)
def test_no_card_without_a_valid_number(fin: Analyzer, text: str) -> None:
    assert "BANK_CARD" not in {e for e, _ in found(fin, text)}


def test_expiry_and_code_after_other_numbers_change_nothing(fin: Analyzer) -> None:
    # A phone number followed by a date-like token: found as before, nothing new.
    assert found(fin, "138 1234 5678 12/27") == [("CN_MOBILE", "138 1234 5678")]
    assert found(fin, "13812345678 CVV 123") == [("CN_MOBILE", "13812345678")]
