"""UTF-16 text without a byte order mark (LE or BE) is read as text, not skipped as binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.redact import Redactor, redact_file
from piguard.discover.scanner import scan_paths
from piguard.discover.sources.text import bomless_utf16

PHONE = "13812345678"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_text_and_csv_are_scanned(tmp_path: Path, analyzer: Analyzer, codec: str) -> None:
    (tmp_path / "notes.txt").write_bytes(f"电话{PHONE}\nnothing here\n".encode(codec))
    (tmp_path / "t.csv").write_bytes(f"name,phone\nzhang,{PHONE}\nli,13912345678\n".encode(codec))
    result = scan_paths([tmp_path], analyzer=analyzer)
    assert result.skipped == []
    assert [(f.source.endswith("notes.txt"), f.line, f.entity) for f in result.findings] == [(True, 1, "CN_MOBILE")]
    assert [(c.column, c.entity) for c in result.columns] == [("phone", "CN_MOBILE")]


def test_redaction_keeps_the_encoding(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "t.csv"
    src.write_bytes(f"name,phone\nzhang,{PHONE}\n".encode("utf-16-le"))
    redact_file(src, tmp_path / "out.csv", analyzer=analyzer, redactor=Redactor("mask"))
    assert (tmp_path / "out.csv").read_bytes() == "name,phone\nzhang,*******5678\n".encode("utf-16-le")


def test_binary_with_nuls_is_still_binary() -> None:
    assert bomless_utf16(bytes(range(256)) * 4) is None
    assert bomless_utf16(b"\x00" * 64) is None
    assert bomless_utf16("abc,123\n".encode("utf-16-le")) == "utf-16-le"
    assert bomless_utf16("abc,123\n".encode("utf-16-be")) == "utf-16-be"
