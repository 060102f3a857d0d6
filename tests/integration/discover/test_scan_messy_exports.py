"""``piguard scan`` on exports as hospitals hand them over: malformed rows, mixed encodings,
spreadsheet-mangled identifiers, merged headers. The scan runs (exit 0) and says what it passed over."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
AREAS = ("310112", "110105", "440301", "320102", "510107")


def resident_id(area: str, birth: str, seq: str) -> str:
    body = f"{area}{birth}{seq}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def luhn_card(prefix: str, length: int) -> str:
    body = prefix + "0" * (length - len(prefix) - 1)
    for check in "0123456789":
        digits = [int(d) for d in body + check]
        total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def excel_general(number: str) -> str:
    mantissa, _, exponent = f"{float(number):.5E}".partition("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent)}"


IDS = [resident_id(AREAS[i % 5], f"19{30 + i}0{1 + i % 9}1{i % 10}", f"{i:03d}") for i in range(60)]
NAMES = ["张建国", "李秀英", "王淑芬", "刘桂兰", "陈志强", "杨丽", "赵敏", "黄海", "周杰", "吴芳"]
CAUSES = ["肺癌", "脑梗死", "急性心肌梗死", "慢性阻塞性肺疾病", "肝硬化"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _hospital_export(path: Path) -> None:
    """Excel's CSV on Chinese Windows: GB 18030, CRLF, a title row, padded rows, a repeated
    header name, IDs typed as numbers (scientific notation) beside IDs ending in X, and the
    damage of years of hand edits: a row pasted from a UTF-8 system, a field too many, garbage."""
    rows = []
    for i, number in enumerate(IDS):
        shown = number if number.endswith("X") or i % 3 else excel_general(number)
        note = f"家属{NAMES[(i + 3) % 10]}代办" if i % 4 == 0 else ""
        if i == 7:
            note = '"家属陈志强代办，\r\n电话13912345678"'
        rows.append(f"{NAMES[i % 10]},{'男' if i % 2 else '女'},{shown},1381234{i:04d},{CAUSES[i % 5]},{note},,")
    lines = [
        "某某医院死亡患者登记表（导出时间2024-06-01）,,,,,,,".encode("gb18030"),
        "姓名,性别,身份证号,联系电话,死亡原因,备注,备注,".encode("gb18030"),
        *(row.encode("gb18030") for row in rows),
    ]
    # Physical lines: the quoted note of row 7 holds a line break, so row n is on line n + 2
    # up to it and n + 3 after it.
    lines[20] = rows[18].encode("utf-8")  # line 22: pasted from a UTF-8 system, still read
    lines[30] += ",多余".encode("gb18030")  # line 32: a field too many
    lines[40] = b'\xe6\x9d\x8e"\xff\xfe'  # line 42: garbage
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")


def test_hospital_export_with_malformed_rows_is_scanned_and_says_what_it_passed_over(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "死亡登记.csv"
    _hospital_export(path)
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["scan", str(path), "--format", "json", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    stderr = " ".join(result.stderr.split())
    assert f"skipped {path}: line 32 skipped: expected 8 columns, found 9" in stderr
    assert f"skipped {path}: line 42 skipped: not UTF-8 or GB 18030 text" in stderr
    assert "could not be read" not in stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["skipped"] == []
    assert report["skipped_rows"] == [
        {
            "source": str(path),
            "table": path.name,
            "rows": 2,
            "lines": [
                {"line": 32, "reason": "expected 8 columns, found 9"},
                {"line": 42, "reason": "not UTF-8 or GB 18030 text"},
            ],
        }
    ]
    assert (report["summary"]["rows_skipped"], report["summary"]["skipped_errors"]) == (2, 0)
    columns = {(c["column"], c["entity"]): c for c in report["columns"]}
    ids = columns[("身份证号", "CN_RESIDENT_ID")]
    assert (ids["kind"], ids["sampled"]) == ("values", 58)
    assert "look like numbers mangled by a spreadsheet (scientific notation)" in ids["evidence"]
    assert columns[("联系电话", "CN_MOBILE")]["matched"] == 58
    assert columns[("死亡原因", "MEDICAL")]["kind"] == "values"
    assert columns[("姓名", "PERSON")]["matched"] == 58
    assert ("备注", "CN_MOBILE") in columns  # found inside the multi-line note
    raw = out.read_text(encoding="utf-8")
    assert IDS[1] not in raw and "多余" not in raw


def test_html_and_table_reports_list_skipped_rows(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    _hospital_export(path)
    html = tmp_path / "r.html"
    result = runner.invoke(app, ["scan", str(path), "--format", "html", "--out", str(html), "--entities", "CN_MOBILE"])
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "<h2>Skipped rows</h2>" in page
    assert "line 42: not UTF-8 or GB 18030 text" in page
    table = runner.invoke(app, ["scan", str(path), "--no-progress", "--entities", "CN_MOBILE"])
    assert table.exit_code == 0
    assert "2 malformed rows passed over in 1 files." in table.stdout


def test_files_that_are_not_tables_are_still_skipped_as_errors(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (tmp_path / "latin.csv").write_bytes("nom,prénom\n".encode("latin-1") + "é,è\n".encode("latin-1") * 50)
    (tmp_path / "notes.csv").write_text(  # prose saved as .csv: its lines do not fit its first line
        "exported by hand, in 2019\nsee the sheet, page 2, for the rest, and the notes, below\n"
        "columns were renamed, merged, split, and, in places, lost\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scan", str(tmp_path), "--format", "json", "--no-progress", "--entities", "CN_MOBILE"])
    assert result.exit_code == 2
    skipped = {Path(s["source"]).name: (s["reason"], s["error"]) for s in json.loads(result.stdout)["skipped"]}
    assert skipped["photo.csv"][0].startswith("binary content")
    assert skipped["photo.csv"][1] is False  # binary: skipped by design
    assert skipped["latin.csv"] == ("not text: neither UTF-8 nor GB 18030", True)
    assert skipped["notes.csv"][0] == "malformed file at line 2: expected 2 columns, found 5; 2 of 2 rows malformed"
    assert skipped["notes.csv"][1] is True


def test_workbook_with_merged_group_headers_repeated_names_and_number_cells(runner: CliRunner, tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "登记.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "死亡登记"
    ws.append(["死亡患者登记表", *[None] * 6])
    ws.merge_cells("A1:G1")
    ws.append(["基本信息", None, None, "联系方式", None, "银行信息", None])  # merged group labels
    ws.merge_cells("A2:C2")
    ws.merge_cells("D2:E2")
    ws.merge_cells("F2:G2")
    ws.append(["姓名", "身份证号", "死亡日期", "电话", "电话", "银行卡号", "开户行"])
    for i in range(40):
        card = luhn_card(f"622848{i:04d}", 19)
        ws.append(
            [
                NAMES[i % 10],
                float(IDS[i]) if not IDS[i].endswith("X") else IDS[i],
                date(2024, 1 + i % 12, 1),
                13812340000 + i,
                "010-65123456",
                float(card),
                "农业银行",
            ]
        )
    wb.save(path)
    result = runner.invoke(app, ["scan", str(path), "--format", "json", "--no-progress"])
    assert result.exit_code == 0, result.output
    columns = {c["column"]: c for c in json.loads(result.stdout)["columns"] if c["kind"] == "values"}
    assert columns["电话"]["entity"] == "CN_MOBILE"
    assert columns["电话_2"]["entity"] == "CN_LANDLINE"  # not merged into one column
    assert columns["身份证号"]["entity"] == "CN_RESIDENT_ID"
    card = columns["银行卡号"]
    assert (card["entity"], card["sensitive"], card["matched"], card["sampled"]) == ("BANK_CARD", True, 40, 40)
    assert "mangled by a spreadsheet" in card["evidence"]
    assert card["confidence"] < 0.95


def test_a_log_with_one_line_in_another_encoding_is_scanned_whole(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = [f"{i} 呼叫患者家属电话1381234{i:04d}".encode() for i in range(3000)]
    lines[2500] = "2500 家属电话13912345678".encode("gbk")  # pasted from a GBK console
    lines[2600] = b"2600 \xff\xfe\xfd"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(app, ["scan", str(path), "--format", "json", "--no-progress", "--entities", "CN_MOBILE"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["findings"]) == 2999
    assert {f["line"] for f in report["findings"]} >= {2501}
    assert report["skipped_rows"][0]["lines"] == [{"line": 2601, "reason": "not UTF-8 or GB 18030 text"}]
    assert report["summary"]["lines_scanned"] == 3000
