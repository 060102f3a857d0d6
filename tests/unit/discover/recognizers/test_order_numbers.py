"""Order and waybill numbers are not bank cards: scheme lengths, labels, and the Luhn chance rate."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.scanner import scan_paths

from .helpers import found, luhn_complete


@pytest.fixture(scope="module")
def cards() -> Analyzer:
    return Analyzer(entities=["BANK_CARD"])


@pytest.mark.parametrize(
    "text",
    [
        "订单号4111111111111111已发货",
        "运单号：6228480402564890018",
        "快递单号 6228480402564890018",
        "order no. 4012888888881881 shipped",
        "tracking 4012888888881881",
    ],
)
def test_order_labels_are_negative_context(cards: Analyzer, text: str) -> None:
    assert found(cards, text) == []


def test_a_card_word_outweighs_an_order_label(cards: Analyzer) -> None:
    assert found(cards, "订单支付，银行卡号4111111111111111") == [("BANK_CARD", "4111111111111111")]


@pytest.mark.parametrize(
    ("prefix", "length"),
    [("4", 17), ("4", 18), ("51", 17), ("55", 19), ("2221", 18), ("2720", 17), ("34", 16), ("37", 17)],
)
def test_scheme_lengths(cards: Analyzer, prefix: str, length: int) -> None:
    number = luhn_complete(prefix, length)
    assert found(cards, f"卡号{number}") == []


@pytest.mark.parametrize(("prefix", "length"), [("4", 13), ("4", 16), ("4", 19), ("51", 16), ("2221", 16), ("62", 19)])
def test_valid_scheme_lengths_still_found(cards: Analyzer, prefix: str, length: int) -> None:
    number = luhn_complete(prefix, length)
    assert found(cards, f"卡号{number}") == [("BANK_CARD", number)]


@pytest.mark.parametrize("column", ["order_no", "code", "运单号"])
def test_random_order_numbers_are_not_a_card_column(tmp_path: Path, cards: Analyzer, column: str) -> None:
    rng = random.Random(7)
    numbers = [str(rng.randrange(10**15, 10**18)) for _ in range(500)]
    (tmp_path / "orders.csv").write_text(column + "\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    result = scan_paths([tmp_path], analyzer=cards)
    assert result.columns == []


def test_a_card_column_without_a_name_is_still_found(tmp_path: Path, cards: Analyzer) -> None:
    numbers = [luhn_complete(f"62284800{i:04d}", 19) for i in range(50)]
    (tmp_path / "c.csv").write_text("code\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    result = scan_paths([tmp_path], analyzer=cards)
    assert [(c.column, c.entity, c.kind) for c in result.columns] == [("code", "BANK_CARD", "values")]
