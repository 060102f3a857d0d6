"""Text, directory and table sources: decoding, binaries, size limits, sampling, formats."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from piguard.discover.sources import (
    FileItem,
    Reservoir,
    Skipped,
    is_table_file,
    iter_files,
    iter_lines,
    sample_table_file,
    sniff_encoding,
)
from piguard.errors import DiscoveryError


def test_walk_is_recursive_sorted_and_reports_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b" / "c").mkdir()
    (tmp_path / "b" / "c" / "y.txt").write_text("y")
    entries = list(iter_files([tmp_path, tmp_path / "missing.txt"]))
    files = [e for e in entries if isinstance(e, FileItem)]
    assert [f.path.relative_to(tmp_path).as_posix() for f in files] == ["a.txt", "b/z.txt", "b/c/y.txt"]
    missing = [e for e in entries if isinstance(e, Skipped)]
    assert missing == [Skipped(str(tmp_path / "missing.txt"), "no such file or directory", True)]


def test_walk_skips_files_over_the_size_limit_by_design(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 100)
    (tmp_path / "small.txt").write_text("x")
    entries = list(iter_files([tmp_path], max_bytes=10))
    skipped = [e for e in entries if isinstance(e, Skipped)]
    assert len(skipped) == 1
    assert skipped[0].source.endswith("big.txt")
    assert not skipped[0].error
    assert "size limit" in skipped[0].reason


def test_walk_does_not_follow_directory_symlinks(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("f")
    os.symlink(tmp_path, tmp_path / "d" / "loop")
    files = [e for e in iter_files([tmp_path]) if isinstance(e, FileItem)]
    assert [f.path.name for f in files] == ["f.txt"]
    skipped = [e for e in iter_files([tmp_path]) if isinstance(e, Skipped)]
    assert skipped == [Skipped(str(tmp_path / "d" / "loop"), "symbolic link to a directory (not followed)", False)]


def test_sniff_detects_binaries(tmp_path: Path) -> None:
    nul = tmp_path / "blob.dat"
    nul.write_bytes(b"abc\x00def")
    with pytest.raises(DiscoveryError, match="binary content"):
        sniff_encoding(nul)
    pdf = tmp_path / "scan.pdf"
    pdf.write_text("looks like text")
    with pytest.raises(DiscoveryError, match=r"binary file type \(\.pdf\)"):
        sniff_encoding(pdf)
    control = tmp_path / "ctl.txt"
    control.write_bytes(bytes(range(1, 9)) * 50)
    with pytest.raises(DiscoveryError, match="control characters"):
        sniff_encoding(control)


def test_text_encodings_utf8_bom_and_gb18030(tmp_path: Path) -> None:
    utf8 = tmp_path / "u.txt"
    utf8.write_text("电话13812345678\n", encoding="utf-8")
    assert sniff_encoding(utf8) == "utf-8"
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeff姓名\n".encode())
    assert sniff_encoding(bom) == "utf-8-sig"
    assert list(iter_lines(bom, encoding="utf-8-sig")) == [(1, "姓名")]
    gbk = tmp_path / "g.txt"
    gbk.write_bytes("患者家属电话13812345678\r\n第二行".encode("gb18030"))
    enc = sniff_encoding(gbk)
    assert enc == "gb18030"
    assert list(iter_lines(gbk, encoding=enc)) == [(1, "患者家属电话13812345678"), (2, "第二行")]


def test_text_that_breaks_half_way_is_a_discovery_error(tmp_path: Path) -> None:
    bad = tmp_path / "half.txt"
    bad.write_bytes(b"fine line\n" * 2000 + b"\xff\xfe broken")
    with pytest.raises(DiscoveryError, match="not valid utf-8"):
        list(iter_lines(bad, encoding=sniff_encoding(bad)))


def test_reservoir_is_uniform_deterministic_and_counts_everything() -> None:
    hits: Counter[int] = Counter()
    for seed in range(300):
        r: Reservoir[int] = Reservoir(10, seed=seed)
        r.add_all(range(1000))
        assert r.seen == 1000
        assert len(r.items) == 10
        assert len(set(r.items)) == 10
        hits.update(i // 100 for i in r.items)
    # 3000 draws over 10 deciles: each decile near 300 (a head-only sample would put all in 0).
    assert all(220 < hits[d] < 380 for d in range(10)), hits
    a: Reservoir[int] = Reservoir(5)
    b: Reservoir[int] = Reservoir(5)
    a.add_all(range(10_000))
    b.add_all(range(10_000))
    assert a.items == b.items


def test_table_kinds_by_extension() -> None:
    for name in ("a.csv", "a.CSV.gz", "a.tsv", "a.jsonl", "a.json", "a.parquet", "a.xlsx"):
        assert is_table_file(Path(name)), name
    for name in ("a.txt", "a.log", "a.md"):
        assert not is_table_file(Path(name))


def test_csv_and_tsv_are_sampled_per_column(tmp_path: Path) -> None:
    csv_path = tmp_path / "deaths.csv"
    lines = ["xm,lxdh,note"] + [f"n{i},1381234{i:04d}," for i in range(50)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [table] = sample_table_file(csv_path, source="deaths.csv", sample=20)
    assert (table.table, table.rows_sampled, table.rows_total) == ("deaths.csv", 20, 50)
    names = [c.name for c in table.columns]
    assert names[:2] == ["xm", "lxdh"]
    lxdh = table.columns[1]
    assert len(lxdh.values) == 20
    assert all(v.startswith("1381234") for v in lxdh.values)
    tsv = tmp_path / "d.tsv.gz"
    with gzip.open(tsv, "wt", encoding="utf-8") as handle:
        handle.write("姓名\t联系电话\n张三\t13812345678\n")
    [table] = sample_table_file(tsv, source="d", sample=10)
    assert [(c.name, c.values) for c in table.columns] == [("姓名", ["张三"]), ("联系电话", ["13812345678"])]


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n1,2,3\n")
    with pytest.raises(DiscoveryError, match=r"^malformed file at line 3: expected 2 columns, found 3$"):
        sample_table_file(bad, source="bad.csv", sample=10)


def test_jsonl_nested_objects_become_dotted_columns_with_types(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rows = [
        {
            "id": i,
            "deceased": {"name": "张三", "dob": "1931-05-07"},
            "relatives": [{"phone": "x"}],
            "tags": ["a", "b"],
            "ok": True,
            "amount": 1.5,
        }
        for i in range(3)
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    [table] = sample_table_file(path, source="r", sample=10)
    cols = {c.name: c for c in table.columns}
    assert set(cols) == {"id", "deceased.name", "deceased.dob", "relatives", "tags", "ok", "amount"}
    assert cols["id"].dtype == "integer"
    assert cols["ok"].dtype == "boolean"
    assert cols["amount"].dtype == "float"
    assert cols["deceased.name"].values == ["张三"] * 3
    assert cols["tags"].values == ["a; b"] * 3
    assert json.loads(cols["relatives"].values[0]) == [{"phone": "x"}]


def test_json_that_is_not_an_array_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "obj.json"
    path.write_text('{"a": 1}')
    with pytest.raises(DiscoveryError, match="expected a JSON array"):
        sample_table_file(path, source="obj.json", sample=10)


def test_parquet_types_and_values(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table(
        {
            "mobile": pa.array([13812345678, 13912345678], pa.int64()),
            "birth": pa.array([date(1931, 5, 7), date(1948, 1, 2)]),
            "seen": pa.array([datetime(2025, 3, 1, 8, 15), None]),
        }
    )
    pq.write_table(table, path)
    [sampled] = sample_table_file(path, source="p", sample=10)
    cols = {c.name: c for c in sampled.columns}
    assert cols["mobile"].dtype == "integer"
    assert cols["mobile"].values == ["13812345678", "13912345678"]
    assert cols["birth"].dtype == "date"
    assert cols["birth"].values == ["1931-05-07", "1948-01-02"]
    assert cols["seen"].values == ["2025-03-01T08:15:00"]


def test_broken_parquet_is_a_discovery_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(DiscoveryError, match="not a readable Parquet file"):
        sample_table_file(path, source="broken.parquet", sample=10)


def test_xlsx_every_sheet_phone_floats_read_as_digits(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "死者"
    ws.append(["姓名", "联系电话", "出生日期", None])
    ws.append(["张三", 13812345678.0, datetime(1931, 5, 7), "x"])
    other = wb.create_sheet("empty")
    del other
    wb.save(path)
    tables = sample_table_file(path, source="book.xlsx", sample=10)
    assert [t.table for t in tables] == ["book.xlsx#死者"]
    cols = {c.name: c for c in tables[0].columns}
    assert cols["联系电话"].values == ["13812345678"]
    assert cols["出生日期"].dtype == "datetime"
    assert cols["column_4"].values == ["x"]


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("hello")
    with pytest.raises(DiscoveryError, match=r"not a readable \.xlsx workbook"):
        sample_table_file(path, source="fake.xlsx", sample=10)


def test_malformed_jsonl_lines_are_noted_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    lines = [json.dumps({"i": i}) for i in range(20)]
    lines[3] = "[1, 2]"
    lines[7] = '{"i": '
    path.write_text("\n".join(lines) + "\n")
    [table] = sample_table_file(path, source="rows.jsonl", sample=100, tolerant=True)
    assert table.rows_total == 18
    assert table.skipped_rows is not None
    assert (table.skipped_rows.source, table.skipped_rows.table, table.skipped_rows.count) == (
        "rows.jsonl",
        "rows.jsonl",
        2,
    )
    assert table.skipped_rows.lines == ((4, "expected a JSON object"), (8, "invalid JSON (Expecting value)"))
    with pytest.raises(DiscoveryError, match="malformed file at line 4: expected a JSON object"):
        sample_table_file(path, source="rows.jsonl", sample=100)  # redaction must not lose lines
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n" * 50)
    with pytest.raises(DiscoveryError, match=r"malformed file at line 1: invalid JSON .*; 50 of 50 rows malformed"):
        sample_table_file(garbage, source="garbage.jsonl", sample=100, tolerant=True)


def test_xlsx_title_rows_above_the_header_are_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([None, None])
    ws.append(["死亡患者登记表", None])
    ws.append(["姓名", "联系电话"])
    ws.append(["张三", 13812345678])
    wb.save(path)
    [table] = sample_table_file(path, source="book.xlsx", sample=10)
    assert [c.name for c in table.columns] == ["姓名", "联系电话"]
    assert table.rows_total == 1
