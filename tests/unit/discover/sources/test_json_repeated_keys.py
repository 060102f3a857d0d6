"""A JSON object naming a key twice, in a scan and in a redacted JSON array: refused, never half kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.redact import Redactor, redact_file
from piguard.discover.scanner import scan_paths
from piguard.errors import InputError

ROWS = '{"name":"王淑芬","phone":"13812345678"}\n{"name":"王淑芬","x":1,"name":"李秀英"}\n{"name":"张三"}\n'


@pytest.fixture(scope="module")
def phones() -> Analyzer:
    return Analyzer(entities=["CN_MOBILE"])


def test_scan_passes_over_a_jsonl_line_with_a_repeated_key(tmp_path: Path, phones: Analyzer) -> None:
    src = tmp_path / "people.jsonl"
    src.write_text(ROWS, encoding="utf-8")
    result = scan_paths([src], analyzer=phones)
    assert [(r.count, r.lines) for r in result.skipped_rows] == [
        (1, ((2, "key 'name' appears more than once in one object (which value is meant is unknown)"),))
    ]
    assert result.errors == []


def test_scan_refuses_a_json_array_with_a_repeated_key(tmp_path: Path, phones: Analyzer) -> None:
    src = tmp_path / "people.json"
    src.write_text('[{"name":"王淑芬"},{"name":"王淑芬","name":"李秀英"}]', encoding="utf-8")
    result = scan_paths([src], analyzer=phones)
    reason = (
        "malformed file at item 1: key 'name' appears more than once in one object (which value is meant is unknown)"
    )
    assert [(s.reason, s.error) for s in result.skipped] == [(reason, True)]


def test_redact_refuses_a_json_array_with_a_repeated_key(tmp_path: Path, phones: Analyzer) -> None:
    src, out = tmp_path / "people.json", tmp_path / "out.json"
    src.write_text('[{"name":"王淑芬"},{"name":"王淑芬","name":"李秀英"}]', encoding="utf-8")
    with pytest.raises(InputError, match=r"item 1: key 'name' appears more than once"):
        redact_file(src, out, analyzer=phones, redactor=Redactor("mask"))
    assert list(tmp_path.iterdir()) == [src]
