"""Column names that are data: JSON/map keys holding PI, a CSV without a header row, title rows.

A scan must analyse them and report them without printing them; a redaction must redact them
(without merging two keys into one)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pi_testvalues import resident_id

from piguard.discover.analyzer import Analyzer
from piguard.discover.names import HEADERLESS_NOTE, KEY
from piguard.discover.redact import Redactor, distinct_keys, redact_file
from piguard.discover.report import render_html, to_json
from piguard.discover.scanner import scan_paths

PHONES = ["13812345678", "13912345678", "13712345678"]
IDS = [resident_id("110103", f"19{25 + i:02d}0312", f"{i:03d}") for i in range(3)]


def _report_text(tmp_path: Path, analyzer: Analyzer) -> tuple[dict[str, object], str]:
    result = scan_paths([tmp_path], analyzer=analyzer)
    report = to_json(result)
    return report, json.dumps(report, ensure_ascii=False) + render_html(result)


def test_json_keys_holding_pi_are_reported_masked(tmp_path: Path, analyzer: Analyzer) -> None:
    rows = [{"id": 1, "contacts": {PHONES[0]: "a", PHONES[1]: "b"}}, {"id": 2, "contacts": {PHONES[2]: "c"}}]
    (tmp_path / "map.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report, text = _report_text(tmp_path, analyzer)
    columns = report["columns"]
    assert isinstance(columns, list)
    keys = [c for c in columns if c["kind"] == "key"]
    assert [(c["column"], c["entity"], c["matched"], c["sampled"]) for c in keys] == [
        (f"contacts.{KEY}", "CN_MOBILE", 3, 3)
    ]
    assert not any(phone in text for phone in PHONES)


def test_nested_object_under_a_pi_key_is_one_masked_column(tmp_path: Path, full_analyzer: Analyzer) -> None:
    rows = [{PHONES[0]: {"name": "张建国"}, "x": 1}, {PHONES[1]: {"name": "王淑芬"}, "x": 2}]
    (tmp_path / "keys.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    report, text = _report_text(tmp_path, full_analyzer)
    columns = report["columns"]
    assert isinstance(columns, list)
    found = {(c["column"], c["entity"], c["kind"]) for c in columns}
    assert (KEY, "CN_MOBILE", "key") in found
    assert (f"{KEY}.name", "PERSON", "values") in found
    assert not any(phone in text for phone in PHONES)


def test_redact_masks_json_keys_and_keeps_clashing_keys_apart(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "map.jsonl"
    src.write_text(json.dumps({"id": 1, "contacts": {PHONES[0]: "a", PHONES[1]: "b"}}) + "\n", encoding="utf-8")
    stats = redact_file(src, tmp_path / "out.jsonl", analyzer=analyzer, redactor=Redactor("mask"))
    out = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    # Both numbers mask to *******5678: the second is numbered, not merged into the first.
    assert out == {"id": 1, "contacts": {"*******5678": "a", "*******5678 #2": "b"}}
    assert stats.values_changed == 2
    assert any("numbered" in note for note in stats.notes)
    assert not any(phone in " ".join([*stats.notes, *(c.column for c in stats.columns)]) for phone in PHONES)


def test_redact_summary_names_whole_columns_under_pi_keys_masked(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "keys.jsonl"
    src.write_text("".join(json.dumps({p: {"id": i}}) + "\n" for p, i in zip(PHONES, IDS, strict=True)), "utf-8")
    stats = redact_file(src, tmp_path / "out.jsonl", analyzer=analyzer, redactor=Redactor("remove"))
    assert [(c.column, c.entity) for c in stats.columns if c.kind == "values"] == [(f"{KEY}.id", "CN_RESIDENT_ID")]
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines == [{"[CN_MOBILE]": {"id": None}}] * 3


def test_redact_masks_parquet_map_keys(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "map.parquet"
    contacts = pa.array([[(PHONES[0], "a"), ("note", "b")]], type=pa.map_(pa.string(), pa.string()))
    pq.write_table(pa.table({"id": [1], "contacts": contacts}), src)
    redact_file(src, tmp_path / "out.parquet", analyzer=analyzer, redactor=Redactor("mask"))
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == [
        {"id": 1, "contacts": [("*******5678", "a"), ("note", "b")]}
    ]


def test_distinct_keys_numbers_only_the_clashing_redacted_keys() -> None:
    keys, clashes = distinct_keys([("a", "[X]"), ("[X]", "[X]"), ("b", "[X]"), ("c", "c")])
    assert keys == ["[X] #2", "[X]", "[X] #3", "c"]
    assert clashes == 2


def test_csv_without_header_is_read_from_its_first_row(tmp_path: Path, analyzer: Analyzer) -> None:
    rows = [f"{IDS[i]},{PHONES[i]}" for i in range(3)]
    (tmp_path / "nohdr.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    report, text = _report_text(tmp_path, analyzer)
    columns = report["columns"]
    assert isinstance(columns, list)
    assert [(c["column"], c["entity"], c["matched"], c["sampled"]) for c in columns] == [
        ("column_1", "CN_RESIDENT_ID", 3, 3),
        ("column_2", "CN_MOBILE", 3, 3),
    ]
    assert report["notes"] == [{"source": str(tmp_path / "nohdr.csv"), "table": "nohdr.csv", "note": HEADERLESS_NOTE}]
    assert IDS[0] not in text and PHONES[0] not in text


def test_a_header_without_pi_stays_the_header(tmp_path: Path, analyzer: Analyzer) -> None:
    (tmp_path / "ok.csv").write_text(f"身份证号,联系电话\n{IDS[0]},{PHONES[0]}\n", encoding="utf-8")
    report, _ = _report_text(tmp_path, analyzer)
    columns = report["columns"]
    assert isinstance(columns, list)
    assert [c["column"] for c in columns] == ["身份证号", "联系电话"]
    assert report["notes"] == []


def test_title_row_above_the_header_is_scanned_without_its_value(tmp_path: Path, analyzer: Analyzer) -> None:
    title = f"患者记录（身份证{IDS[0]}，电话{PHONES[0]}）,,\n"
    (tmp_path / "t.csv").write_text(title + "日期,科室,费用\n2024-01-01,内科,100\n", encoding="utf-8")
    report, text = _report_text(tmp_path, analyzer)
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [(f["line"], f["entity"]) for f in findings] == [(1, "CN_RESIDENT_ID"), (1, "CN_MOBILE")]
    assert all(str(f["explanation"]).startswith("title row above the header") for f in findings)
    assert IDS[0] not in text and PHONES[0] not in text
