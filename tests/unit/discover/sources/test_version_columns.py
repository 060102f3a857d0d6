"""Version and build columns (1.2.3.4) are not IP addresses: the name decides, in scan and redact."""

from __future__ import annotations

import json
from pathlib import Path

from piguard.discover.analyzer import Analyzer
from piguard.discover.column_names import is_version_name
from piguard.discover.redact import Redactor, redact_file
from piguard.discover.scanner import scan_paths

HEADER = "version,ver,app_version,build,软件版本,ip"
ROWS = ["1.2.3.4,2.0.1.15,10.2.3.4,4.1.0.2,3.6.0.12,10.0.0.1", "1.2.3.5,2.0.1.16,10.2.3.5,4.1.0.3,3.6.0.13,10.0.0.2"]


def test_version_names() -> None:
    assert all(is_version_name(n) for n in ("version", "appVersion", "build_no", "软件版本", "版本号", "fw_ver"))
    assert not any(is_version_name(n) for n in ("ip", "host", "client_ip", "备注", None))


def test_scan_reports_only_the_ip_column(tmp_path: Path, analyzer: Analyzer) -> None:
    (tmp_path / "v.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    result = scan_paths([tmp_path], analyzer=analyzer)
    assert [(c.column, c.entity) for c in result.columns] == [("ip", "IP_ADDRESS")]


def test_redact_keeps_versions_in_csv_and_json(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "v.csv"
    src.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    redact_file(src, tmp_path / "out.csv", analyzer=analyzer, redactor=Redactor("mask"))
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1] == "1.2.3.4,2.0.1.15,10.2.3.4,4.1.0.2,3.6.0.12,********"
    src = tmp_path / "v.jsonl"
    src.write_text(json.dumps({"app": {"version": "1.2.3.4", "note": "from 10.0.0.1"}}) + "\n", encoding="utf-8")
    redact_file(src, tmp_path / "out.jsonl", analyzer=analyzer, redactor=Redactor("mask"))
    out = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert out["app"]["version"] == "1.2.3.4"
    assert "10.0.0.1" not in out["app"]["note"]
