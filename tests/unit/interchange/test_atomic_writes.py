"""Writers never leave a truncated file: a failure keeps the previous file and no temporary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from piguard.interchange.tabular import read_rows, write_rows


def broken_rows() -> Iterator[dict[str, str]]:
    yield {"a": "1"}
    raise RuntimeError("source failed half-way")


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.csv.gz", "out.parquet", "out.json"])
def test_failed_write_keeps_the_old_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_rows(path, [{"a": "old"}], columns=["a"]) == 1
    with pytest.raises(RuntimeError):
        write_rows(path, broken_rows(), columns=["a"])
    assert [row.data["a"] for row in read_rows(path)] == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
