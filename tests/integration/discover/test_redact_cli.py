"""``piguard redact`` on realistic exports through the CLI: a Chinese hospital register in
GB 18030, a JSONL log with nested objects, a Parquet file with nulls; what it prints never
holds a value from the file, and a failure leaves no file behind."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from piguard.cli.main import app

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
IDENTIFIERS = "CN_RESIDENT_ID,CN_MOBILE,CN_LANDLINE,BANK_CARD,EMAIL"


def resident_id(area: str, birth: str, seq: str) -> str:
    """An 18-digit resident ID with a correct GB 11643 check character."""
    body = f"{area}{birth}{seq}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


IDS = [resident_id("310112", f"19{40 + i:02d}0314", f"{i:03d}") for i in range(40)]
PHONES = [f"1391234{i:04d}" for i in range(40)]
NAMES = ["张建国", "王淑芬", "李秀英", "刘德华", "陈美玲"]
VALUES = (*IDS, *PHONES, *NAMES)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _hospital_export(path: Path) -> None:
    """As Excel on Chinese Windows saves "CSV": a title row, CRLF, GB 18030 with a BOM-less head."""
    lines = ["死亡患者登记表,,,,,", "住院号,姓名,身份证号,联系电话,死亡日期,备注"]
    for i in range(40):
        remark = f'"家属{NAMES[(i + 1) % 5]}代办, 联系电话{PHONES[(i + 7) % 40]}"' if i % 4 == 0 else "无"
        lines.append(f"ZY{i:05d},{NAMES[i % 5]},{IDS[i]},{PHONES[i]},2024-03-{1 + i % 28:02d},{remark}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))


def test_hospital_export_in_gb18030_is_redacted_in_place_of_format(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "死亡登记.csv"
    _hospital_export(src)
    out = tmp_path / "out" / "死亡登记.masked.csv"
    out.parent.mkdir()
    result = runner.invoke(app, ["redact", str(src), str(out), "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.output
    summary = " ".join(result.stderr.split())
    assert "redacted 40 rows/lines" in summary
    assert "whole columns: 身份证号 (CN_RESIDENT_ID), 联系电话 (CN_MOBILE)" in summary
    assert not any(v in result.output for v in VALUES)
    raw = out.read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8)
    lines = raw.decode("gb18030").split("\r\n")
    assert lines[:2] == ["死亡患者登记表,,,,,", "住院号,姓名,身份证号,联系电话,死亡日期,备注"]
    assert (
        lines[2]
        == f'ZY00000,张建国,{"*" * 14}{IDS[0][-4:]},*******0000,2024-03-01,"家属王淑芬代办, 联系电话*******0007"'
    )
    assert lines[3] == f"ZY00001,王淑芬,{'*' * 14}{IDS[1][-4:]},*******0001,2024-03-02,无"
    assert len(lines) == 43 and lines[-1] == ""
    assert not any(v in raw.decode("gb18030") for v in (*IDS, *PHONES))
    assert out.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_a_malformed_row_fails_with_file_line_and_reason_and_leaves_no_file(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "register.csv"
    _hospital_export(src)
    lines = src.read_bytes().split(b"\r\n")
    lines[30] = f"ZY00028,{NAMES[3]},{IDS[28]},{PHONES[28]},2024-03-29,无,多出一列".encode("gb18030")
    src.write_bytes(b"\r\n".join(lines))
    result = runner.invoke(app, ["redact", str(src), str(tmp_path / "out.csv"), "--entities", IDENTIFIERS])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {src}: malformed file at line 31: expected 6 columns, found 7"
    assert "Traceback" not in result.output and not any(v in result.output for v in VALUES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["register.csv"]


def test_jsonl_log_with_nested_objects_and_parquet_with_nulls(runner: CliRunner, tmp_path: Path) -> None:
    log = tmp_path / "app.jsonl"
    events = [
        {
            "ts": f"2024-03-01T10:{i:02d}:00",
            "user": {"name": NAMES[i % 5], "phone": PHONES[i], "ids": [IDS[i]]},
            "msg": f"回访完成，家属电话{PHONES[(i + 3) % 40]}" if i % 5 == 0 else "回访完成",
            "retry": None,
            "ok": True,
        }
        for i in range(40)
    ]
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    out = tmp_path / "app.out.jsonl"
    result = runner.invoke(app, ["redact", str(log), str(out), "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.output
    assert not any(v in result.output for v in VALUES)
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert got[0]["user"] == {"name": "张建国", "phone": "*******0000", "ids": [f"{'*' * 14}{IDS[0][-4:]}"]}
    assert got[0]["msg"] == "回访完成，家属电话*******0003" and got[1]["msg"] == "回访完成"
    assert (got[0]["retry"], got[0]["ok"], got[0]["ts"]) == (None, True, "2024-03-01T10:00:00")

    parquet = tmp_path / "deaths.parquet"
    table = pa.table(
        {
            "patient_id": pa.array(range(40), pa.int64()),
            "sfzh": pa.array([IDS[i] if i % 4 else None for i in range(40)]),
            "lxdh": pa.array([int(PHONES[i]) if i % 3 else None for i in range(40)], pa.int64()),
            "note": pa.array([None if i % 2 else "无" for i in range(40)]),
        }
    )
    pq.write_table(table, parquet, row_group_size=16)
    out_pq = tmp_path / "deaths.out.parquet"
    result = runner.invoke(app, ["redact", str(parquet), str(out_pq), "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.output
    assert not any(v in result.output for v in VALUES)
    redacted = pq.ParquetFile(out_pq)
    assert [redacted.metadata.row_group(i).num_rows for i in range(3)] == [16, 16, 8]
    rows = redacted.read().to_pylist()
    assert rows[0] == {"patient_id": 0, "sfzh": None, "lxdh": None, "note": "无"}
    assert rows[1] == {"patient_id": 1, "sfzh": f"{'*' * 14}{IDS[1][-4:]}", "lxdh": "*******0001", "note": None}
    assert redacted.schema_arrow.field("lxdh").type == pa.string()  # a masked number is text
    assert "note:" in result.output and "lxdh" in result.output  # and the summary says so


def test_a_directory_is_named_as_one(runner: CliRunner, tmp_path: Path) -> None:
    # Audit (low): "no such file" for a folder that exists misled the reader.
    result = runner.invoke(app, ["redact", str(tmp_path), str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "is a directory" in result.output and "no such file" not in result.output
    assert not (tmp_path / "o.csv").exists()
