"""A large table file's sample is uniform over its rows, whatever their lengths, and full-sized;
a column's analysed subsample is uniform over its values, whatever their order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import classify_column
from piguard.discover.scanner import scan_paths
from piguard.discover.sources import ColumnSample, sample_table_file
from piguard.interchange import tabular

ROWS = 20_000
SAMPLE = 1000


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real threshold is 8 MB; a small one keeps the files small and the test fast.
    monkeypatch.setattr(tabular, "BLOCK_SAMPLING_MIN_BYTES", 10_000)


def _mobile(i: int) -> str:
    return f"138{i:08d}"


def test_short_and_long_rows_are_sampled_alike(tmp_path: Path, small_threshold: None) -> None:
    # A byte offset falls in a long row 30 times as often as in a short one; the row after it
    # (short here) was taken: about 60% of a block sample were short rows.
    path = tmp_path / "mixed.csv"
    path.write_text(
        "id,kind,note\n"
        + "".join(f"{i},{'long' if i % 2 else 'short'},{'x' * 600 if i % 2 else ''}\n" for i in range(ROWS))
    )
    [table] = sample_table_file(path, source="mixed.csv", sample=SAMPLE, tolerant=True)
    kinds = {c.name: c.values for c in table.columns}["kind"]
    assert table.rows_sampled == SAMPLE
    assert len(set({c.name: c.values for c in table.columns}["id"])) == SAMPLE  # no row twice
    assert abs(kinds.count("short") / SAMPLE - 0.5) < 0.05


def test_jsonl_rows_of_two_lengths_sampled_alike(tmp_path: Path, small_threshold: None) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps({"i": i, "note": "x" * 600} if i % 2 else {"i": i}) + "\n" for i in range(ROWS)))
    [table] = sample_table_file(path, source="mixed.jsonl", sample=SAMPLE)
    notes = {c.name: c.values for c in table.columns}["note"]
    assert table.rows_sampled == SAMPLE
    assert abs(len(notes) / SAMPLE - 0.5) < 0.05


def test_phone_in_every_third_row_is_a_third_of_the_sample(tmp_path: Path, small_threshold: None) -> None:
    # The audit's file: a phone in every third row, in its own column (empty cells are not
    # values) and in a remarks column (unique remarks beside a repeated one).
    path = tmp_path / "register.csv"
    lines = []
    for i in range(ROWS):
        phone = _mobile(i) if i % 3 == 0 else ""
        note = f"家属电话{_mobile(i)}" if i % 3 == 0 else "无" + " " * (i % 7) * 40
        lines.append(f"{i},张三,{note},{phone}\n")
    path.write_text("id,name,note,phone\n" + "".join(lines))
    result = scan_paths([path], analyzer=Analyzer(entities=["CN_MOBILE"]))
    columns = {c.column: c for c in result.columns}
    phone, note = columns["phone"], columns["note"]
    assert phone.matched == phone.sampled  # every non-empty phone cell holds a phone
    assert abs(phone.sampled / SAMPLE - 1 / 3) < 0.05  # ... and about a third of the rows have one
    # Text analysis runs on at most 200 distinct values: the share is that of a random
    # subsample, not of the values that happened to repeat one analysed already.
    assert note.kind == "free_text"
    assert abs(note.matched / note.sampled - 1 / 3) < 0.05, (note.matched, note.sampled)


def test_blank_lines_do_not_shrink_the_sample(tmp_path: Path, small_threshold: None) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("id,phone\n" + "".join(f"{i},{_mobile(i)}\n\n" for i in range(5000)))
    [table] = sample_table_file(path, source="gaps.csv", sample=SAMPLE, tolerant=True)
    assert table.rows_sampled == SAMPLE
    assert len(set(table.columns[0].values)) == SAMPLE


def test_fewer_rows_than_asked_gives_every_row(tmp_path: Path, small_threshold: None) -> None:
    # Long rows: the file is over the threshold with fewer rows than the sample; the last row
    # has no newline after it.
    path = tmp_path / "wide.csv"
    path.write_text("id,note\n" + "\n".join(f"{i},{'y' * 200}" for i in range(300)))
    [table] = sample_table_file(path, source="wide.csv", sample=SAMPLE)
    assert sorted(int(v) for v in table.columns[0].values) == list(range(300))


def test_same_file_same_sample(tmp_path: Path, small_threshold: None) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,phone\n" + "".join(f"{i},{_mobile(i)}\n" for i in range(ROWS)))
    first = sample_table_file(path, source="big.csv", sample=100, tolerant=True)[0].columns[0].values
    again = sample_table_file(path, source="big.csv", sample=100, tolerant=True)[0].columns[0].values
    assert first == again
    assert len(set(first)) == 100


def test_analysed_share_does_not_depend_on_value_order(analyzer: Analyzer) -> None:
    # A small table is sampled whole, in file order: sorted remarks put every phone first.
    # The first 200 analysed values were all phones (and the remarks after them unexamined).
    values = [f"家属电话{_mobile(i)}" for i in range(300)] + ["无"] * 400 + ["已通知家属"] * 200
    [found] = classify_column(ColumnSample(name="bz", values=values), analyzer=analyzer, source="s", table="t")
    assert found.entity == "CN_MOBILE"
    assert found.kind == "free_text"
    assert abs(found.matched / found.sampled - 1 / 3) < 0.07, (found.matched, found.sampled)
