"""A disease's name (白血病: 白 is a surname) is not a person's name."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import classify_table
from piguard.discover.sources.base import ColumnSample, TableSample


@pytest.mark.parametrize("value", ["白血病", "宫颈癌", "艾滋病", "毛囊炎", "尤文瘤", "牛皮癣", "黄疸"])
def test_disease_names_are_not_validated_as_names(full_analyzer: Analyzer, value: str) -> None:
    assert "PERSON" not in dict(full_analyzer.validate_value(value))


@pytest.mark.parametrize("value", ["王建国", "刘洋", "江炎", "张炎", "白洁"])
def test_names_stay_names(full_analyzer: Analyzer, value: str) -> None:
    assert "PERSON" in dict(full_analyzer.validate_value(value))


def test_a_cause_of_death_column_is_medical_only(full_analyzer: Analyzer) -> None:
    column = ColumnSample(name="死因", values=["白血病", "肺癌", "心肌梗死", "肺炎"])
    table = TableSample(source="deaths.csv", table="deaths.csv", columns=[column], rows_sampled=4, rows_total=4)
    entities = {c.entity for c in classify_table(table, analyzer=full_analyzer)}
    assert entities == {"MEDICAL"}
