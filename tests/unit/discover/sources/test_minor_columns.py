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
        # Statistics, limits and the age of things (audit M5).
        *[
            (name, None)
            for name in [
                "avg_age",
                "mean_age",
                "median_age",
                "age_avg",
                "平均年龄",
                "平均年龄(岁)",
                "年龄中位数",
                "vehicle_age",
                "building_age",
                "tree_age",
                "device_age",
                "appAge",
                "cookie_age",
                "cache_age",
                "ttl_age",
                "data_age_hours",
                "account_age_days",
                "pg_age",
                "recommended_age",
                "最小年龄",
                "最大年龄",
                "年龄下限",
                "年龄要求",
                "入学年龄",
                "min_age",
                "max_age",
            ]
        ],
        # A person's age, in other words.
        ("患儿年龄", "年龄"),
        ("死亡年龄", "年龄"),
        ("age_at_death", "age"),
        ("deceasedAge", "age"),
        ("年龄(岁)", "年龄"),
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
    # Every age is masked (masking only children's would single them out), to one width (a mask
    # as long as the age would tell 8 from 87); dates keep their shape.
    assert rows == [["年龄", "出生日期", "备注"], ["***", "****-**-**", "无"], ["***", "****-**-**", "******，溺水"]]
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
    assert [json.loads(line)["age"] for line in lines] == ["***", "***", "***"]


def test_an_age_mask_does_not_tell_the_number_of_digits(tmp_path: Path) -> None:
    # Audit M1: "*" for 8 and "**" for 87 told children from adults.
    source = tmp_path / "m.csv"
    source.write_text("id,nl\n1,8\n2,87\n3,0\n4,45\n", encoding="utf-8")
    redact_file(source, tmp_path / "o.csv", analyzer=Analyzer(entities=["MINOR_UNDER_14"]), redactor=Redactor("mask"))
    assert (tmp_path / "o.csv").read_text(encoding="utf-8") == "id,nl\n1,***\n2,***\n3,***\n4,***\n"
    text = tmp_path / "t.txt"
    text.write_text("患者，男，8岁\n患者，女，11岁\n", encoding="utf-8")
    redact_file(text, tmp_path / "t_out.txt", analyzer=Analyzer(entities=["MINOR_UNDER_14"]), redactor=Redactor("mask"))
    assert (tmp_path / "t_out.txt").read_text(encoding="utf-8") == "患者，男，***\n患者，女，***\n"


CHILD_HEADER = "id,患儿姓名,患儿年龄,家长电话\n1,张小明,7,13812345678\n2,李小红,5,13912345678\n"


def test_a_child_word_in_a_header_is_a_column_name(tmp_path: Path, full_analyzer: Analyzer) -> None:
    # Audit H2: 患儿 in a header cell made the header a data row, masked the names and left the
    # ages in clear.
    source = tmp_path / "pk.csv"
    source.write_text(CHILD_HEADER, encoding="utf-8")
    result = scan_paths([source], analyzer=full_analyzer, reference_date=REFERENCE)
    got = {(c.column, c.entity) for c in result.columns if c.kind == "values"}
    assert {("患儿姓名", "PERSON"), ("患儿年龄", "MINOR_UNDER_14"), ("家长电话", "CN_MOBILE")} <= got
    assert not any(c.column.startswith("column_") for c in result.columns)
    stats = redact_file(source, tmp_path / "o.csv", analyzer=full_analyzer, redactor=Redactor("mask"))
    rows = list(csv.reader((tmp_path / "o.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["id", "患儿姓名", "患儿年龄", "家长电话"]
    assert [row[2] for row in rows[1:]] == ["***", "***"]
    assert "张小明" not in (tmp_path / "o.csv").read_text(encoding="utf-8")
    assert not any("header" in note for note in stats.notes)


def test_a_child_word_in_a_json_key_is_a_key(tmp_path: Path, full_analyzer: Analyzer) -> None:
    source = tmp_path / "pk.jsonl"
    rows = [{"患儿姓名": "张小明", "患儿年龄": 7, "家长电话": "13812345678"}, {"患儿姓名": "李小红", "患儿年龄": 5}]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = scan_paths([source], analyzer=full_analyzer, reference_date=REFERENCE)
    assert [c for c in result.columns if c.kind == "key"] == []
    assert ("患儿年龄", "MINOR_UNDER_14") in {(c.column, c.entity) for c in result.columns}
    stats = redact_file(source, tmp_path / "o.jsonl", analyzer=full_analyzer, redactor=Redactor("mask"))
    out = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [list(r) for r in out] == [["患儿姓名", "患儿年龄", "家长电话"], ["患儿姓名", "患儿年龄"]]
    assert [r["患儿年龄"] for r in out] == ["***", "***"]
    assert not any("keys" in note for note in stats.notes)


def test_a_key_that_is_a_childs_data_is_still_masked(tmp_path: Path, full_analyzer: Analyzer) -> None:
    # Only a word naming a child is a name: an age or a phone number in a key is data.
    source = tmp_path / "k.jsonl"
    source.write_text(json.dumps({"13812345678": "张三"}) + "\n", encoding="utf-8")
    redact_file(source, tmp_path / "o.jsonl", analyzer=full_analyzer, redactor=Redactor("mask"))
    assert "13812345678" not in (tmp_path / "o.jsonl").read_text(encoding="utf-8")


def test_redaction_masks_a_people_age_column_without_a_child_in_the_sample(tmp_path: Path) -> None:
    # Audit M6: five children aged 7 past the sampled rows stayed in clear; masking only the
    # values that read as a child's would tell who the children are, so the whole column goes.
    source = tmp_path / "big.csv"
    rows = [["病案号", "年龄", "出生日期", "死亡日期"]]
    rows += [[f"B{i:05d}", "82", "1942-03-07", "2024-06-01"] for i in range(3000)]
    rows += [[f"C{i}", "7", "2017-02-01", "2024-06-01"] for i in range(5)]
    _write_csv(source, rows)
    target = tmp_path / "o.csv"
    only_minors = Analyzer(entities=["MINOR_UNDER_14"])
    stats = redact_file(
        source, target, analyzer=only_minors, redactor=Redactor("mask"), sample=100, reference_date=dt.date(2024, 8, 1)
    )
    out = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert {row[1] for row in out[1:]} == {"***"}
    assert not any(row[2].startswith("2017") for row in out[1:])
    assert [row[3] for row in out[1:]] == ["2024-06-01"] * 3005  # a death date is no birth date
    assert {(c.column, c.matched) for c in stats.columns if c.entity == "MINOR_UNDER_14"} == {
        ("年龄", 0),
        ("出生日期", 0),
    }
    # The scan reports only what its sample shows: no child there, no entry.
    result = scan_paths([source], analyzer=only_minors, sample=100, reference_date=dt.date(2024, 8, 1))
    assert [c for c in result.columns if c.entity == "MINOR_UNDER_14"] == []


def test_redaction_leaves_columns_that_are_not_ages_of_people(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    _write_csv(source, [["id", "score", "age_group"], ["1", "7", "0-14"], ["2", "9", "15-64"]])
    redact_file(source, tmp_path / "o.csv", analyzer=Analyzer(entities=["MINOR_UNDER_14"]), redactor=Redactor("mask"))
    assert (tmp_path / "o.csv").read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
