"""CLI: keys and header rows holding PI are never printed; output places are named; by_source
keys are unambiguous."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from piguard.cli.main import app

PHONES = ["13812345678", "13912345678"]


def test_redact_summary_never_shows_a_key(tmp_path: Path) -> None:
    src = tmp_path / "keys.jsonl"
    src.write_text("".join(json.dumps({p: {"name": "张建国"}}, ensure_ascii=False) + "\n" for p in PHONES), "utf-8")
    result = CliRunner().invoke(app, ["redact", str(src), str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    assert "<key>.name (PERSON)" in result.stderr
    assert not any(p in result.output for p in PHONES)
    assert not any(p in (tmp_path / "out.jsonl").read_text(encoding="utf-8") for p in PHONES)


def test_scan_out_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing\n", encoding="utf-8")
    out = tmp_path / "a.txt" / "r.html"  # a file where a folder should be
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "a.txt"), "--format", "html", "--out", str(out)])
    assert result.exit_code == 1
    assert f"cannot write report {out}" in result.stderr


def test_redact_refuses_a_missing_output_folder(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(f"电话{PHONES[0]}\n", encoding="utf-8")
    missing = tmp_path / "no" / "such"
    result = CliRunner().invoke(app, ["redact", str(src), str(missing / "x.txt"), "--entities", "CN_MOBILE"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {missing}: no such folder"
    assert not (tmp_path / "no").exists()


def test_by_source_is_keyed_by_source_alone(tmp_path: Path) -> None:
    folder = tmp_path / "with space"
    folder.mkdir()
    (folder / "t.csv").write_text(f"phone\n{PHONES[0]}\n{PHONES[1]}\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["scan", str(folder), "--format", "json", "--entities", "CN_MOBILE", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    source = str(folder / "t.csv")
    assert summary["by_source"] == {source: 1}
    assert summary["by_table"] == [{"source": source, "table": "t.csv", "columns": 1}]
