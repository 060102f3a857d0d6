"""Custom recognizers from YAML: pattern, validator, context, entity; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.errors import InputError

from .helpers import found, luhn_complete

RULES = """
recognizers:
  - name: staff_number
    entity: STAFF_ID
    patterns:
      - {name: staff_gh, regex: "GH\\\\d{6}", score: 0.4}
    context: [工号, staff]
    context_score: 0.9
    min_score: 0.5
  - name: member_card
    entity: MEMBER_CARD
    patterns:
      - {name: member_16, regex: "(?<!\\\\d)8\\\\d{15}(?!\\\\d)", score: 0.8}
    validator: luhn
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_custom_rules_find_with_context_and_validator(tmp_path: Path) -> None:
    analyzer = Analyzer(custom_rules=write(tmp_path, RULES))
    assert "STAFF_ID" in analyzer.entities and "MEMBER_CARD" in analyzer.entities
    assert found(analyzer, "工号GH123456") == [("STAFF_ID", "GH123456")]
    assert found(analyzer, "code GH123456") == []  # below min_score without context
    card = luhn_complete("8", 16)
    bad = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert found(analyzer, f"会员 {card} ") == [("MEMBER_CARD", card)]
    assert found(analyzer, f"会员 {bad} ") == []
    result = analyzer.analyze("工号GH123456")[0]
    assert result.recognizer == "custom:staff_number"
    assert "context 工号" in result.explanation


def test_custom_entities_can_be_selected(tmp_path: Path) -> None:
    analyzer = Analyzer(entities=["STAFF_ID"], custom_rules=write(tmp_path, RULES))
    assert analyzer.entities == ("STAFF_ID",)


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("recognizers: [{name: x, entity: lower, patterns: [{regex: a}]}]", "entity", "upper-case"),
        ("recognizers: [{name: x, entity: A_B, patterns: [{regex: '('}]}]", "regex", "compile"),
        ("recognizers: [{name: x, entity: A_B, patterns: [{regex: a}], validator: nope}]",
         "validator", "unknown validator"),
        ("recognizers: [{name: x, entity: A_B, patterns: [{regex: a, score: 3}]}]", "score",
         "between 0 and 1"),
        ("recognizers: [{name: x, entity: A_B, patterns: [{regex: a}], colour: red}]",
         "recognizers[0]", "unknown field"),
        ("nothing: here", "rules.yaml", "recognizers"),
        ("recognizers: [: bad", "rules.yaml:1", "YAML"),
    ],
)
def test_bad_rules_name_file_field_and_reason(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    with pytest.raises(InputError) as info:
        Analyzer(custom_rules=write(tmp_path, text))
    assert where in str(info.value)
    assert reason in str(info.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read custom rules"):
        Analyzer(custom_rules=tmp_path / "absent.yaml")
