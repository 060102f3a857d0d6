"""Age and birth-date columns that hold minors under 14 (MINOR_UNDER_14): scan and redaction."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import ColumnClassification, classify_table
from piguard.discover.minors import age_name, birth_date, under_age
from piguard.discover.redact import Redactor, redact_file
from piguard.discover.scanner import scan_paths
from piguard.discover.sources.base import ColumnSample, TableSample

REFERENCE = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def minors() -> Analyzer:
    return Analyzer(entities=["MINOR_UNDER_14", "DATE_OF_BIRTH", "CN_MOBILE"])


def classify(analyzer: Analyzer, *columns: ColumnSample, reference: dt.date = REFERENCE) -> list[ColumnClassification]:
    table = TableSample("deaths.csv", "deaths.csv", list(columns), 10, 10)
    return classify_table(table, analyzer=analyzer, reference_date=reference)


def entries(found: list[ColumnClassification]) -> list[tuple[str, str, str, int, int]]:
    return [(c.column, c.entity, c.kind, c.matched, c.sampled) for c in found]


def test_an_age_column_with_children(minors: Analyzer) -> None:
    ages = ColumnSample("年龄", "integer", values=["82", "67", "8", "91", "0", "75", "13", "14", "45", "88"])
    [entry] = classify(minors, ages)
    assert entries([entry]) == [("年龄", "MINOR_UNDER_14", "values", 3, 10)]
    assert entry.category == "minors" and entry.sensitive and entry.confidence > 0.99
    assert "3/10 sampled ages are under 14" in entry.evidence
    assert set(entry.examples) == {"8", "0", "13"}


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("patient_age", ["82", "8岁", "67"]),
        ("deceasedAge", ["45", "7 years", "61"]),
        ("实足年龄", ["3个月", "71", "58"]),
        ("月龄", ["6", "9", "30"]),  # in months: all infants or toddlers
        ("age_in_days", ["20", "300", "4000"]),
    ],
)
def test_age_columns_in_other_names_and_units(minors: Analyzer, name: str, values: list[str]) -> None:
    [entry] = classify(minors, ColumnSample(name, "text", values=values))
    assert entry.entity == "MINOR_UNDER_14" and entry.matched >= 1


@pytest.mark.parametrize(
    "column",
    [
        ColumnSample("age", "integer", values=["82", "67", "45", "91"]),  # adults only
        ColumnSample("score", "integer", values=["3", "8", "5"]),  # small numbers, no age name
        ColumnSample("age_group", "text", values=["0-14", "15-64", "65+"]),
        ColumnSample("年龄段", "text", values=["儿童", "成年"]),
        ColumnSample("min_age", "integer", values=["6", "6", "12"]),  # a rule, not a person's age
        ColumnSample("page", "integer", values=["3", "8", "5"]),
        ColumnSample("age", "text", values=["unknown", "n/a", "8"]),  # not ages
    ],
)
def test_columns_that_are_not_minors(minors: Analyzer, column: ColumnSample) -> None:
    assert [c for c in classify(minors, column) if c.entity == "MINOR_UNDER_14"] == []


def test_a_birth_date_column_is_aged_on_the_reference_date(minors: Analyzer) -> None:
    births = ColumnSample(
        "出生日期", "text", values=["1950-03-07", "2015-06-01", "1938年5月7日", "20200101", "1962/11/3"]
    )
    found = classify(minors, births)
    # The main entity first (redaction masks the column as dates), the minors entry after it.
    assert entries(found) == [
        ("出生日期", "DATE_OF_BIRTH", "values", 5, 5),
        ("出生日期", "MINOR_UNDER_14", "values", 2, 5),
    ]
    assert "reference date 2026-11-29" in found[1].evidence
    # The same people fourteen years on are adults.
    assert [c.entity for c in classify(minors, births, reference=dt.date(2034, 6, 1))] == ["DATE_OF_BIRTH"]


def test_a_date_typed_dob_column(minors: Analyzer) -> None:
    dob = ColumnSample("dob", "date", values=["2019-02-11", "1940-01-01"])
    assert [c.entity for c in classify(minors, dob)] == ["DATE_OF_BIRTH", "MINOR_UNDER_14"]


def test_dates_not_named_as_birth_dates_are_not_aged(minors: Analyzer) -> None:
    visits = ColumnSample("visit_date", "date", values=["2020-02-11", "2024-01-01"])
    assert classify(minors, visits) == []


def test_the_fourteenth_birthday_ends_it() -> None:
    born = dt.date(2012, 11, 29)
    assert under_age(born, dt.date(2026, 11, 28))
    assert not under_age(born, dt.date(2026, 11, 29))
    assert not under_age(dt.date(2027, 1, 1), REFERENCE)  # a date after the reference is no birth
    leap = dt.date(2012, 2, 29)
    assert under_age(leap, dt.date(2026, 2, 28)) and not under_age(leap, dt.date(2026, 3, 1))


@pytest.mark.parametrize(
    ("cell", "date"),
    [
        ("2015-06-01", dt.date(2015, 6, 1)),
        ("2015/6/1", dt.date(2015, 6, 1)),
        ("2015年6月1日", dt.date(2015, 6, 1)),
        ("20150601", dt.date(2015, 6, 1)),
        ("2015-06", dt.date(2015, 6, 1)),
        ("2015-06-01T00:00:00+08:00", dt.date(2015, 6, 1)),
        ("2015-02-30", None),
        ("13812345678", None),
    ],
)
def test_birth_date_cells(cell: str, date: dt.date | None) -> None:
    assert birth_date(cell) == date


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("年龄", "年龄"),
        ("patient_age", "age"),
        ("AGE", "age"),
        ("nl", "nl"),
        ("stage", None),
        ("usage", None),
        ("age_group", None),
        ("年龄段", None),
        ("message", None),
    ],
)
def test_age_names(name: str, word: str | None) -> None:
    named = age_name(name)
    assert (named[0] if named else None) == word


def test_only_when_requested() -> None:
    ages = ColumnSample("年龄", "integer", values=["8", "82"])
    assert classify(Analyzer(entities=["CN_MOBILE"]), ages) == []


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_scan_reports_the_column_and_children_in_remarks(tmp_path: Path, minors: Analyzer) -> None:
    _write_csv(
        tmp_path / "deaths.csv",
        [
            ["xh", "nl", "lxdh", "bz"],
            ["1", "82", "13812345678", "无"],
            ["2", "6", "13912345678", "患儿家属已到场"],
            ["3", "71", "13712345678", "无"],
        ],
    )
    result = scan_paths([tmp_path], analyzer=minors, reference_date=REFERENCE)
    got = {(c.column, c.entity, c.kind) for c in result.columns}
    assert ("nl", "MINOR_UNDER_14", "values") in got
    assert ("bz", "MINOR_UNDER_14", "free_text") in got


def test_redaction_masks_an_age_column_whole_and_a_birth_date_column_as_dates(tmp_path: Path, minors: Analyzer) -> None:
    source = tmp_path / "deaths.csv"
    _write_csv(
        source,
        [["年龄", "出生日期", "备注"], ["82", "1944-03-07", "无"], ["6", "2020-05-01", "8岁男童，溺水"]],
    )
    target = tmp_path / "out.csv"
    stats = redact_file(source, target, analyzer=minors, redactor=Redactor("mask"), reference_date=REFERENCE)
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    # Every age is masked (masking only children's would single them out), dates keep their shape.
    assert rows == [["年龄", "出生日期", "备注"], ["**", "****-**-**", "无"], ["*", "****-**-**", "****，溺水"]]
    assert {(c.column, c.entity) for c in stats.columns if c.kind == "values"} >= {
        ("年龄", "MINOR_UNDER_14"),
        ("出生日期", "DATE_OF_BIRTH"),
        ("出生日期", "MINOR_UNDER_14"),
    }


def test_redaction_of_jsonl_ages(tmp_path: Path, minors: Analyzer) -> None:
    source = tmp_path / "patients.jsonl"
    source.write_text(
        "\n".join(json.dumps({"id": i, "age": age}) for i, age in enumerate([70, 7, 55])) + "\n", encoding="utf-8"
    )
    redact_file(source, tmp_path / "out.jsonl", analyzer=minors, redactor=Redactor("mask"), reference_date=REFERENCE)
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["age"] for line in lines] == ["**", "*", "**"]
