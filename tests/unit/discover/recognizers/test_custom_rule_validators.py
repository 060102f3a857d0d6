"""Custom rules with a validator: it checks the group ``value`` (else the whole match); the
documented example works, and a rule whose validator can never pass warns at load time."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.custom import parse_custom_rules

from .helpers import found

DOCS = Path(__file__).resolve().parents[4] / "docs" / "discovery-recognizers.md"


def _docs_example() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Custom recognizers") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


def test_the_documented_example_finds_a_valid_number_only(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(_docs_example(), encoding="utf-8")
    analyzer = Analyzer(custom_rules=rules, entities=["MEMBER_CARD"])
    assert analyzer.warnings == []
    assert found(analyzer, "会员卡号HY4111111111111111，已核对。") == [("MEMBER_CARD", "HY4111111111111111")]
    assert found(analyzer, "会员卡号HY4111111111111112，已核对。") == []


def test_a_validator_that_can_never_pass_warns() -> None:
    doc = yaml.safe_load(
        "recognizers: [{name: staff_number, entity: STAFF_ID, validator: luhn,"
        ' patterns: [{name: staff_gh, regex: "GH\\\\d{6}", score: 0.4}]}]'
    )
    warnings: list[str] = []
    parse_custom_rules(doc, source="rules.yaml", warnings=warnings)
    assert warnings == [
        "rules.yaml: recognizers[0]: pattern staff_gh can never match: validator luhn needs at least 13 "
        "characters and it matches at most 8"
    ]


def test_the_value_group_width_is_what_is_checked() -> None:
    doc = yaml.safe_load(
        "recognizers: [{name: m, entity: M_ID, validator: luhn,"
        ' patterns: [{name: p, regex: "MEMBERNO(?P<value>\\\\d{6})", score: 0.4}]}]'
    )
    warnings: list[str] = []
    parse_custom_rules(doc, source="r.yaml", warnings=warnings)
    assert warnings and "its group 'value' matches at most 6" in warnings[0]
