"""Scan reports: FORMATS.md section 7 JSON, terminal tables, HTML with charts, no values unless asked."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pi_testvalues import resident_id
from rich.console import Console

from piguard.discover.analyzer import Analyzer
from piguard.discover.report import bar_chart, render_html, render_table, to_json
from piguard.discover.scanner import ScanResult, scan_paths

ID = resident_id("310112", "19310507", "004")
PHONE = "13812345678"
FINDING_KEYS = ["source", "line", "start", "end", "entity", "category", "sensitive", "score", "explanation"]
COLUMN_KEYS = ["source", "table", "column", "entity", "category", "sensitive", "confidence", "matched", "sampled"]


def _scan(tmp_path: Path, analyzer: Analyzer, *, keep_values: bool = False) -> ScanResult:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text(f"第一行没有\n死者身份证号{ID}，家属电话{PHONE}。\n", encoding="utf-8")
    (tmp_path / "in" / "deaths.csv").write_text(f"sfzh,lxdh\n{ID},{PHONE}\n", encoding="utf-8")
    (tmp_path / "in" / "z.bin").write_bytes(b"\x00\x01\x02")
    return scan_paths([tmp_path / "in"], analyzer=analyzer, keep_values=keep_values)


def test_json_follows_formats_section_7(tmp_path: Path, analyzer: Analyzer) -> None:
    report = to_json(_scan(tmp_path, analyzer))
    first, second = report["findings"]
    assert list(first)[: len(FINDING_KEYS)] == FINDING_KEYS
    assert (first["line"], first["start"], first["end"], first["entity"]) == (2, 6, 24, "CN_RESIDENT_ID")
    assert first["category"] == "identity_document"
    assert first["sensitive"] is True
    assert (second["start"], second["end"], second["entity"]) == (29, 40, "CN_MOBILE")
    assert second["sensitive"] is False
    columns = {c["column"]: c for c in report["columns"]}
    assert list(columns["lxdh"])[: len(COLUMN_KEYS)] == COLUMN_KEYS
    assert columns["lxdh"]["table"] == "deaths.csv"
    assert columns["lxdh"]["matched"] == 1
    assert report["skipped"] == [
        {"source": str(tmp_path / "in" / "z.bin"), "reason": "binary content (NUL bytes)", "error": False}
    ]
    assert report["summary"]["files_scanned"] == 2
    assert report["summary"]["skipped"] == 1
    assert report["summary"]["by_category"] == {"identity_document": 2, "contact": 2}


def test_no_values_unless_asked(tmp_path: Path, analyzer: Analyzer) -> None:
    result = _scan(tmp_path, analyzer)
    dumped = json.dumps(to_json(result), ensure_ascii=False)
    html = render_html(result)
    buffer = io.StringIO()
    render_table(result, Console(file=buffer, width=200))
    for text in (dumped, html, buffer.getvalue()):
        assert ID not in text
        assert PHONE not in text


def test_values_when_asked(tmp_path: Path, analyzer: Analyzer) -> None:
    result = _scan(tmp_path, analyzer, keep_values=True)
    report = to_json(result, show_values=True)
    assert [f["value"] for f in report["findings"]] == [ID, PHONE]
    assert {c["column"]: c["examples"] for c in report["columns"]}["lxdh"] == [PHONE]
    assert PHONE in render_html(result, show_values=True)


def test_html_has_charts_by_category_and_source_and_escapes(tmp_path: Path, analyzer: Analyzer) -> None:
    result = _scan(tmp_path, analyzer)
    html = render_html(result)
    assert html.count("<svg") == 3
    assert "Findings by category" in html
    assert "Findings by source" in html
    assert "identity_document" in html
    chart = bar_chart({"<script>alert(1)</script>": 3, "b": 1}, title="t")
    assert "<script>" not in chart
    assert "&lt;script&gt;" in chart
    assert bar_chart({}, title="nothing") == ""


def test_table_summary_counts_skipped(tmp_path: Path, analyzer: Analyzer) -> None:
    buffer = io.StringIO()
    render_table(_scan(tmp_path, analyzer), Console(file=buffer, width=200))
    out = buffer.getvalue()
    assert "PI columns" in out
    assert "PI in text" in out
    assert "Skipped" in out
    assert "skipped 1 (0 unreadable or malformed)" in out
