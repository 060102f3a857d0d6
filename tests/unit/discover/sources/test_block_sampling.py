"""Large table files are sampled by blocks (CSV/TSV/JSONL) or by row index (Parquet)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from piguard.discover.sources import sample_table_file
from piguard.errors import DiscoveryError
from piguard.interchange import tabular


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real threshold is 8 MB; a small one keeps the test files small and the test fast.
    monkeypatch.setattr(tabular, "BLOCK_SAMPLING_MIN_BYTES", 10_000)


def test_large_csv_is_block_sampled_across_the_whole_file(tmp_path: Path, small_threshold: None) -> None:
    path = tmp_path / "big.csv"
    path.write_text("row,lxdh,empty\n" + "".join(f"{i},1381234{i % 10000:04d},\n" for i in range(20_000)))
    [table] = sample_table_file(path, source="big.csv", sample=500)
    assert table.rows_sampled == 500
    assert table.rows_total is None  # not counted: only blocks were read
    rows = [int(v) for v in table.columns[0].values]
    assert len(set(rows)) == 500
    spread = Counter(r // 2000 for r in rows)
    assert all(spread[d] > 20 for d in range(10)), spread  # every tenth of the file is reached
    assert [c.name for c in table.columns] == ["row", "lxdh"]  # empty cells are omitted


def test_multiline_csv_falls_back_to_the_exact_reservoir(tmp_path: Path, small_threshold: None) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("id,note\n" + "".join(f'{i},"line one\nline two\nline three"\n' for i in range(3000)))
    [table] = sample_table_file(path, source="notes.csv", sample=100)
    assert table.rows_total == 3000
    assert all(v == "line one\nline two\nline three" for v in table.columns[1].values)


def test_large_jsonl_block_sampled_and_malformed_lines_named(tmp_path: Path, small_threshold: None) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps({"i": i, "p": {"phone": "13812345678"}}) + "\n" for i in range(5000)))
    [table] = sample_table_file(path, source="big.jsonl", sample=100)
    cols = {c.name: c for c in table.columns}
    assert cols["i"].dtype == "integer"
    assert len(cols["p.phone"].values) == 100
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json at all\n" * 2000)
    with pytest.raises(DiscoveryError, match=r"malformed file at byte \d+: invalid JSON"):
        sample_table_file(bad, source="bad.jsonl", sample=50)


def test_parquet_rows_sampled_by_index_over_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"i": list(range(10_000))}), path, row_group_size=1000)
    [table] = sample_table_file(path, source="p", sample=300)
    values = [int(v) for v in table.columns[0].values]
    assert table.rows_total == 10_000
    assert len(set(values)) == 300
    assert len({v // 1000 for v in values}) == 10


def test_gb18030_csv_is_read_like_a_gb18030_text_file(tmp_path: Path, small_threshold: None) -> None:
    # Excel on Chinese Windows saves CSV in GBK/GB 18030: sniffed as text files are.
    small = tmp_path / "small.csv"
    small.write_bytes("姓名,联系电话\n张三,13812345678\n".encode("gb18030"))
    [table] = sample_table_file(small, source="small.csv", sample=10)
    assert [c.name for c in table.columns] == ["姓名", "联系电话"]
    assert table.columns[0].values == ["张三"]
    big = tmp_path / "big.csv"
    big.write_bytes(("姓名,联系电话\n" + "李四,13912345678\n" * 2000).encode("gb18030"))
    [table] = sample_table_file(big, source="big.csv", sample=50)
    assert table.rows_total is None  # block-sampled
    assert set(table.columns[0].values) == {"李四"}
