"""Fast samples of large table files without parsing every row.

A full pass through a 1M-row CSV costs seconds in Python before any classification starts, so
for large uncompressed CSV/TSV/JSONL files we sample *blocks*: seek to random byte offsets,
drop the partial line there, and take the next few whole lines. Newlines are single bytes
in UTF-8 and never part of a multi-byte character, so every kept line decodes cleanly.
Rows right after long rows are slightly favoured (offsets are uniform over bytes); the
report marks such samples by leaving ``rows_total`` unknown. A CSV whose lines do not parse
as rows (quoted fields spanning lines) falls back to the exact reservoir over every row.

Parquet is sampled by row index: only the row groups holding the chosen rows are read.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from piguard.discover.sources.base import SAMPLE_SEED
from piguard.errors import DiscoveryError
from piguard.interchange import tabular

#: Files at least this large are block-sampled; smaller ones get the exact reservoir.
BLOCK_SAMPLING_MIN_BYTES = 8 * 1024 * 1024
ROWS_PER_BLOCK = 5
MAX_BLOCKS = 200
# More than this share of unparseable lines means multi-line records: use the full reader.
MAX_BAD_LINE_SHARE = 0.2


class BlockSamplingUnsuitableError(Exception):
    """The file's lines are not its records (e.g. quoted CSV fields with newlines)."""


def block_sampling_applies(path: Path) -> bool:
    """Whether ``path`` is large, seekable and line-oriented (or Parquet)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return True
    if not name.endswith((".csv", ".tsv", ".jsonl")):
        return False  # gzip cannot seek; a JSON array is not line-oriented
    try:
        return path.stat().st_size >= BLOCK_SAMPLING_MIN_BYTES
    except OSError:
        return False


def _random_lines(path: Path, *, start: int, sample: int) -> list[bytes]:
    size = path.stat().st_size
    rng = random.Random(SAMPLE_SEED)
    blocks = max(1, min(MAX_BLOCKS, sample // ROWS_PER_BLOCK))
    per_block = -(-sample // blocks)
    lines: list[bytes] = []
    taken: set[int] = set()
    with path.open("rb") as handle:
        # Blocks can overlap or hit the end of the file; a few more rounds fill the sample.
        for _ in range(4):
            offsets = sorted(rng.randrange(start, max(size, start + 1)) for _ in range(blocks))
            for offset in offsets:
                handle.seek(offset)
                if offset > start:
                    handle.readline()  # the rest of the line the offset fell into
                got = 0
                while got < per_block and len(lines) < sample:
                    position = handle.tell()
                    line = handle.readline()
                    if not line:
                        break
                    if position in taken:
                        continue  # this stretch was read by an earlier block
                    taken.add(position)
                    lines.append(line)
                    got += 1
            if len(lines) >= sample:
                break
    return lines


def sample_lines_csv(path: Path, *, sample: int) -> list[dict[str, Any]]:
    """Block-sampled CSV/TSV rows as dicts (empty cells omitted, like ``tabular.read_rows``)."""
    delimiter = tabular.DELIMITERS[tabular.file_format(path)]
    with path.open("rb") as handle:
        first = handle.readline()
        start = handle.tell()
    try:
        header = next(csv.reader([first.decode("utf-8-sig")], delimiter=delimiter))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        raise BlockSamplingUnsuitableError from None
    header = [name.strip() for name in header]
    if len(set(header)) != len(header):
        raise DiscoveryError("malformed file at line 1: duplicate column names in header")
    rows: list[dict[str, Any]] = []
    bad = 0
    lines = _random_lines(path, start=start, sample=sample)
    for raw in lines:
        try:
            values = next(csv.reader([raw.decode("utf-8")], delimiter=delimiter), [])
        except (UnicodeDecodeError, csv.Error):
            bad += 1
            continue
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            bad += 1
            continue
        rows.append({k: v for k, v in zip(header, values, strict=True) if v != ""})
    if lines and bad / len(lines) > MAX_BAD_LINE_SHARE:
        raise BlockSamplingUnsuitableError
    return rows


def sample_lines_jsonl(path: Path, *, sample: int) -> list[dict[str, Any]]:
    """Block-sampled JSONL objects; a malformed line is an error naming its byte offset."""
    rows: list[dict[str, Any]] = []
    for raw in _random_lines(path, start=0, sample=sample):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise DiscoveryError("malformed file: a sampled line is not valid JSON") from None
        if not isinstance(obj, dict):
            raise DiscoveryError("malformed file: a sampled line is not a JSON object")
        rows.append(obj)
    return rows


def sample_parquet(path: Path, *, sample: int) -> tuple[list[dict[str, Any]], int]:
    """Up to ``sample`` random rows of a Parquet file and its row count."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DiscoveryError(f"not a readable Parquet file ({type(exc).__name__})") from None
    meta = parquet.metadata
    total = meta.num_rows
    rng = random.Random(SAMPLE_SEED)
    chosen = sorted(rng.sample(range(total), sample)) if total > sample else list(range(total))
    rows: list[dict[str, Any]] = []
    first = 0
    index = 0
    for group in range(meta.num_row_groups):
        count = meta.row_group(group).num_rows
        wanted = []
        while index < len(chosen) and chosen[index] < first + count:
            wanted.append(chosen[index] - first)
            index += 1
        if wanted:
            try:
                table = parquet.read_row_group(group).take(wanted)
            except Exception as exc:  # corrupt pages surface as several pyarrow types
                raise DiscoveryError(f"not a readable Parquet file ({type(exc).__name__})") from None
            rows.extend({k: v for k, v in r.items() if v is not None} for r in table.to_pylist())
        first += count
    return rows, total
