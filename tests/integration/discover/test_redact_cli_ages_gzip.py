"""The outside audit's redaction and scan fixes through the CLI: an adult's age masked like a
child's, a JSONL object with a repeated key refused, a link out of the tree not followed, and
rotated (gzip-compressed) logs scanned and redacted."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app

PHONE = "13812345678"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_redact_masks_every_age_in_text(runner: CliRunner, tmp_path: Path) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    notes = "死者李淑珍，女，87岁，因心衰死亡。患儿刘洋，男，6岁。\n"
    src.write_text(notes + "Decedent Mary Smith, aged 87, died at home.\n", encoding="utf-8")
    result = runner.invoke(app, ["redact", str(src), str(out)])
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "87" not in text and "6岁" not in text
    assert text.count("***") >= 3
    assert "87" not in result.stderr


def test_redact_refuses_a_repeated_json_key(runner: CliRunner, tmp_path: Path) -> None:
    src, out = tmp_path / "people.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id":1}\n{"name":"王淑芬","age":80,"name":"李秀英"}\n', encoding="utf-8")
    result = runner.invoke(app, ["redact", str(src), str(out), "--entities", "CN_MOBILE"])
    assert result.exit_code == 2
    assert f"{src}: malformed file at line 2: key 'name' appears more than once" in result.stderr
    assert "王淑芬" not in result.stderr and not out.exists()


def test_scan_lists_a_link_out_of_the_tree_and_reads_compressed_logs(runner: CliRunner, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{PHONE}\n", encoding="utf-8")
    tree = tmp_path / "logs"
    tree.mkdir()
    os.symlink(secret, tree / "shadow.txt")
    with gzip.open(tree / "app.log.1.gz", "wt", encoding="utf-8") as handle:
        handle.write("INFO start\nERROR 用户13912345678登录失败\n")
    result = runner.invoke(app, ["scan", str(tree), "--format", "json", "--no-progress", "--entities", "CN_MOBILE"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["skipped"] == [
        {
            "source": str(tree / "shadow.txt"),
            "reason": "symbolic link to a file outside the scanned directory",
            "error": False,
        }
    ]
    assert [(f["source"], f["line"]) for f in report["findings"]] == [(str(tree / "app.log.1.gz"), 2)]


def test_redact_a_rotated_log_into_a_compressed_copy(runner: CliRunner, tmp_path: Path) -> None:
    src, out = tmp_path / "app.log.gz", tmp_path / "app.masked.log.gz"
    with gzip.open(src, "wt", encoding="utf-8") as handle:
        handle.write(f"ERROR user {PHONE}\n")
    result = runner.invoke(app, ["redact", str(src), str(out), "--entities", "CN_MOBILE"])
    assert result.exit_code == 0, result.stderr
    assert gzip.decompress(out.read_bytes()) == b"ERROR user *******5678\n"
