"""Malformed rows passed over appear in every report format, with their lines and reasons."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pi_testvalues import resident_id
from rich.console import Console

from piguard.discover.analyzer import Analyzer
from piguard.discover.report import render_html, render_table, to_json
from piguard.discover.scanner import ScanResult, scan_paths
from piguard.discover.sources import Skipped

IDS = [resident_id("310112", f"19{30 + i}0314", "021") for i in range(30)]


def _scan(tmp_path: Path, analyzer: Analyzer, seen: list[Skipped] | None = None) -> ScanResult:
    rows = [f"{i},1381234{n:04d}" for n, i in enumerate(IDS)]
    rows[4] = rows[4] + ",多余"
    rows += [f"{IDS[0]},13800000000,x,y"] * 12
    lines = ["sfzh,lxdh", *rows]
    (tmp_path / "deaths.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_bytes(f"电话1381234{0:04d}\n".encode() * 3 + b"\xff\xfe\n")
    return scan_paths([tmp_path], analyzer=analyzer, on_skip=None if seen is None else seen.append)


def test_json_lists_skipped_rows_per_file_and_keeps_the_other_keys(tmp_path: Path, analyzer: Analyzer) -> None:
    report = to_json(_scan(tmp_path, analyzer))
    assert list(report) == [
        "version",
        "generated_at",
        "findings",
        "columns",
        "skipped",
        "skipped_rows",
        "notes",
        "summary",
    ]
    assert report["skipped"] == []
    csv_rows, text_rows = report["skipped_rows"]
    assert (csv_rows["source"], csv_rows["table"], csv_rows["rows"]) == (str(tmp_path / "deaths.csv"), "deaths.csv", 13)
    assert csv_rows["lines"][0] == {"line": 6, "reason": "expected 2 columns, found 3"}
    assert len(csv_rows["lines"]) == 10  # the first ten named, all counted
    assert text_rows == {
        "source": str(tmp_path / "notes.txt"),
        "table": "notes.txt",
        "rows": 1,
        "lines": [{"line": 4, "reason": "not UTF-8 or GB 18030 text"}],
    }
    summary = report["summary"]
    assert (summary["files_scanned"], summary["skipped"], summary["skipped_errors"]) == (2, 0, 0)
    assert summary["rows_skipped"] == 14
    columns = {c["column"]: c for c in report["columns"]}
    assert (columns["sfzh"]["entity"], columns["sfzh"]["sampled"]) == ("CN_RESIDENT_ID", 29)
    assert len(report["findings"]) == 3


def test_the_hook_hears_each_named_row_and_the_rest_counted(tmp_path: Path, analyzer: Analyzer) -> None:
    seen: list[Skipped] = []
    result = _scan(tmp_path, analyzer, seen)
    assert not result.errors
    reasons = [s.reason for s in seen if s.source.endswith("deaths.csv")]
    assert reasons[0] == "line 6 skipped: expected 2 columns, found 3"
    assert reasons[-1] == "3 more malformed rows skipped"
    assert len(reasons) == 11
    assert not any(s.error for s in seen)


def test_table_and_html_show_skipped_rows_without_values(tmp_path: Path, analyzer: Analyzer) -> None:
    result = _scan(tmp_path, analyzer)
    buffer = io.StringIO()
    render_table(result, Console(file=buffer, width=400))  # no folding of long temporary paths
    out = buffer.getvalue()
    assert "Skipped rows" in out
    assert "line 6: expected 2 columns, found 3" in out
    assert "… 10 more" in out  # three named in the terminal
    assert out.rstrip().endswith("skipped 0 (0 unreadable or malformed); 14 malformed rows passed over in 2 files.")
    html = render_html(result)
    assert "<h2>Skipped rows</h2>" in html
    assert "line 6: expected 2 columns, found 3" in html
    assert "malformed rows passed over</th><td>14<" in html
    for text in (out, html, json.dumps(to_json(result), ensure_ascii=False)):
        assert IDS[4] not in text and "多余" not in text


def test_nothing_skipped_adds_nothing(tmp_path: Path, analyzer: Analyzer) -> None:
    (tmp_path / "ok.csv").write_text("sfzh\n" + "\n".join(IDS) + "\n", encoding="utf-8")
    result = scan_paths([tmp_path / "ok.csv"], analyzer=analyzer)
    report = to_json(result)
    assert report["skipped_rows"] == []
    assert report["summary"]["rows_skipped"] == 0
    buffer = io.StringIO()
    render_table(result, Console(file=buffer, width=200))
    assert "Skipped rows" not in buffer.getvalue()
    assert buffer.getvalue().rstrip().endswith("skipped 0 (0 unreadable or malformed).")
