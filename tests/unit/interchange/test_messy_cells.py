"""Cells other systems write: padding, long text, odd booleans, out-of-range times and counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from piguard.errors import InterchangeError
from piguard.interchange import OrgRow, SubjectRow, read_rows
from piguard.interchange.events import AccessEvent, read_events
from piguard.interchange.tabular import csv_header, split_list

GOOD = {
    "event_id": "a1",
    "time": "2025-03-01T08:00:00+08:00",
    "user_id": "u1",
    "role": "nurse",
    "org_id": "h1",
    "action": "read",
}


def test_list_items_are_trimmed_of_unicode_white_space_as_text_fields_are() -> None:
    assert split_list("\ta;;\u3000b\u3000; \xa0;c\r\n") == ["a", "b", "c"]
    # U+001F is no white space to pydantic (nor to the SQL fast path), so it stays in both.
    assert split_list("\x1fa") == ["\x1fa"]
    assert AccessEvent.model_validate({**GOOD, "user_id": "\x1fu1\u3000"}).user_id == "\x1fu1"
    assert split_list(["a", None, " "]) == ["a"]


@pytest.mark.parametrize("value", [{"a": 1}, [["a"]], ["a", {"b": 1}], [1, 2], ["a", True]])
def test_a_list_cell_of_anything_but_strings_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError, match="fields"):
        AccessEvent.model_validate({**GOOD, "fields": value})


@pytest.mark.parametrize(
    "time",
    [
        "2025-03-01T24:00:00+08:00",
        "2025-03-01T08:60:00+08:00",
        "2025-03-01T08:00:60+08:00",
        "2025-03-01T08:00:00+24:00",
        "2025-03-01T08:00:00+08:60",
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:00:00-08:00",
    ],
)
def test_times_outside_the_clock_or_the_calendar_are_refused(time: str) -> None:
    with pytest.raises(ValidationError, match="time"):
        AccessEvent.model_validate({**GOOD, "time": time})


def test_blank_optional_text_is_absent_and_a_blank_outcome_is_the_default() -> None:
    event = AccessEvent.model_validate({**GOOD, "subject_id": "", "terminal_id": " \t", "outcome": None})
    assert (event.subject_id, event.terminal_id, event.outcome) == (None, None, "allowed")
    assert AccessEvent.model_validate({**GOOD, "outcome": " "}).outcome == "allowed"
    assert AccessEvent.model_validate({**GOOD, "outcome": " denied "}).outcome == "denied"
    with pytest.raises(ValidationError, match="outcome"):
        AccessEvent.model_validate({**GOOD, "outcome": "Denied"})


def test_a_count_beyond_64_bits_is_refused_not_wrapped() -> None:
    assert AccessEvent.model_validate({**GOOD, "result_count": 2**63 - 1}).result_count == 2**63 - 1
    with pytest.raises(ValidationError, match="result_count"):
        AccessEvent.model_validate({**GOOD, "result_count": 2**63})


def test_a_csv_cell_longer_than_the_csv_modules_default_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    ids = ";".join(f"s{i:07d}" for i in range(20_000))  # 180 KB, above csv's 128 KiB default
    path.write_text(
        ",".join([*GOOD, "query", "result_subject_ids"])
        + "\n"
        + ",".join([*GOOD.values(), "x" * 1_000_000, ids])
        + "\n",
        encoding="utf-8",
    )
    (event,) = read_events(path)
    assert len(event.query or "") == 1_000_000 and len(event.result_subject_ids) == 20_000


def test_a_csv_row_with_the_wrong_cell_count_can_be_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4,5\n\n6,7\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="expected 2 columns, found 3") as info:
        list(read_rows(path))
    assert info.value.where == f"{path}:3"
    bad: list[InterchangeError] = []
    rows = list(read_rows(path, on_bad_line=bad.append))
    assert [r.data for r in rows] == [{"a": "1", "b": "2"}, {"a": "6", "b": "7"}]
    assert [r.where for r in rows] == [f"{path}:2", f"{path}:5"]
    assert [e.where for e in bad] == [f"{path}:3"]


def test_a_csv_header_is_read_as_the_reader_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\ufeffa, b ,c\n1,2,3\n", encoding="utf-8")
    assert csv_header(path) == ["a", "b", "c"]
    path.write_text("a,b,a\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="duplicate column names") as info:
        csv_header(path)
    assert info.value.where == f"{path}:1"


@pytest.mark.parametrize(
    ("value", "canary"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("Yes ", True),
        (1, True),
        (True, True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("", False),
        (None, False),
        (0, False),
        (False, False),
    ],
)
def test_is_canary_reads_the_usual_words(value: Any, canary: bool) -> None:
    row = SubjectRow.model_validate({"subject_id": "s1", "district": "310104", "is_canary": value})
    assert row.is_canary is canary


@pytest.mark.parametrize("value", ["maybe", "2", "on", 2, 1.5])
def test_is_canary_refuses_anything_else(value: Any) -> None:
    with pytest.raises(ValidationError, match="is_canary"):
        SubjectRow.model_validate({"subject_id": "s1", "district": "310104", "is_canary": value})


def test_context_text_is_trimmed_and_blank_is_absent() -> None:
    org = OrgRow.model_validate({"org_id": " h1 ", "org_type": " hospital\t", "district": "310104", "name": "H"})
    assert (org.org_id, org.org_type) == ("h1", "hospital")
    subject = SubjectRow.model_validate(
        {"subject_id": "s1", "district": "310104", "compound": " \u3000", "death_time": " "}
    )
    assert (subject.compound, subject.death_time) == (None, None)


def test_a_jsonl_event_with_a_null_outcome_reads(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({**GOOD, "outcome": None, "subject_id": ""}) + "\n", encoding="utf-8")
    (event,) = read_events(path)
    assert (event.outcome, event.subject_id) == ("allowed", None)


@pytest.mark.parametrize("name", ["events.csv", "events.csv.gz", "events.jsonl"])
def test_a_byte_that_is_not_utf8_is_named_by_its_line(tmp_path: Path, name: str) -> None:
    import gzip

    good = ",".join(GOOD.values()) if ".csv" in name else json.dumps(GOOD)
    lines = [",".join(GOOD)] if ".csv" in name else []
    lines += [good] * 3000 + [good.replace("u1", "张三")] + [good] * 10
    data = "\n".join(lines).encode("gb18030")  # a GB 18030 export where UTF-8 is due
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(InterchangeError, match="not UTF-8 text") as info:
        list(read_rows(path))
    assert info.value.where == f"{path}:{len(lines) - 10}"
    if ".csv" in name:  # the header alone decodes: the fast path's header check does not stop there
        assert csv_header(path) == list(GOOD)
