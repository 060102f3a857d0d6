"""The one reader and writer of FORMATS.md files: JSONL, JSON arrays, CSV, Parquet, gzip variants.

Rows are plain dicts of strings/numbers/lists; typed records (events, context tables, ...)
are validated by the modules beside this one. Every row comes with the place it was read
from, so errors can name the file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from piguard.errors import InterchangeError

LIST_SEPARATOR = ";"
SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
# TSV (tab-separated, otherwise as CSV) is read and written for PI discovery and redaction.
DELIMITERS = {"csv": ",", "tsv": "\t"}


@dataclass(frozen=True, slots=True)
class Row:
    """One input row and where it came from (``file:line``; line is 1-based, CSV header is 1)."""

    where: str
    data: dict[str, Any]


def file_format(path: Path) -> str:
    """The format of ``path`` by extension: jsonl, json, csv, tsv or parquet (text may be .gz)."""
    name = path.name.lower()
    for suffix, fmt in (
        (".jsonl.gz", "jsonl"),
        (".jsonl", "jsonl"),
        (".json", "json"),
        (".csv.gz", "csv"),
        (".csv", "csv"),
        (".tsv.gz", "tsv"),
        (".tsv", "tsv"),
        (".parquet", "parquet"),
    ):
        if name.endswith(suffix):
            return fmt
    raise InterchangeError(
        f"unsupported file type; expected one of {', '.join(SUFFIXES)}", where=str(path)
    )


def _open_text(path: Path) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def read_rows(path: Path) -> Iterator[Row]:
    """Yield the rows of a FORMATS.md file; raises ``InterchangeError`` naming file and line."""
    fmt = file_format(path)
    if not path.exists():
        raise InterchangeError("file does not exist", where=str(path))
    try:
        if fmt == "jsonl":
            yield from _read_jsonl(path)
        elif fmt == "json":
            yield from _read_json(path)
        elif fmt in DELIMITERS:
            yield from _read_csv(path, delimiter=DELIMITERS[fmt])
        else:
            yield from _read_parquet(path)
    except UnicodeDecodeError as exc:
        raise InterchangeError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InterchangeError(f"cannot read file: {exc}", where=str(path)) from None


def _read_jsonl(path: Path) -> Iterator[Row]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InterchangeError(f"invalid JSON ({exc.msg})", where=where) from None
            if not isinstance(obj, dict):
                raise InterchangeError("expected a JSON object", where=where)
            yield Row(where, obj)


def _read_json(path: Path) -> Iterator[Row]:
    with _open_text(path) as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            raise InterchangeError(
                f"invalid JSON ({exc.msg})", where=f"{path}:{exc.lineno}"
            ) from None
    if not isinstance(data, list):
        raise InterchangeError("expected a JSON array of objects", where=str(path))
    for number, obj in enumerate(data, start=1):
        where = f"{path}[{number - 1}]"
        if not isinstance(obj, dict):
            raise InterchangeError("expected a JSON object", where=where)
        yield Row(where, obj)


def _read_csv(path: Path, *, delimiter: str = ",") -> Iterator[Row]:
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise InterchangeError("empty file: a header row is required", where=str(path)) from None
        header = [name.strip().lstrip("\ufeff") for name in header]
        if len(set(header)) != len(header):
            raise InterchangeError("duplicate column names in header", where=f"{path}:1")
        for values in reader:
            number = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            where = f"{path}:{number}"
            if len(values) != len(header):
                raise InterchangeError(
                    f"expected {len(header)} columns, found {len(values)}", where=where
                )
            yield Row(where, {k: v for k, v in zip(header, values, strict=True) if v != ""})


def _read_parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InterchangeError(f"not a readable Parquet file ({type(exc).__name__})", where=str(path)) from None
    number = 0
    for batch in parquet.iter_batches(batch_size=65536):
        for record in batch.to_pylist():
            number += 1
            yield Row(f"{path}#row{number}", {k: v for k, v in record.items() if v is not None})


def csv_cell(value: Any) -> str:
    """Render one value for a CSV cell (lists joined with ``;``)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        for item in value:
            if LIST_SEPARATOR in str(item):
                raise InterchangeError(f"list item contains '{LIST_SEPARATOR}': cannot write to CSV")
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


def split_list(value: Any) -> list[str]:
    """Read a list cell: a JSON/Parquet list, or a ``;``-separated CSV string."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [part for part in str(value).split(LIST_SEPARATOR) if part != ""]


def write_rows(path: Path, rows: Iterable[dict[str, Any]], *, columns: Sequence[str]) -> int:
    """Write rows to ``path`` in the format its extension names; returns the number written."""
    fmt = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return _write_parquet(path, rows, columns)
    count = 0
    raw: IO[bytes] = gzip.open(path, "wb") if path.name.lower().endswith(".gz") else path.open("wb")
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        if fmt in DELIMITERS:
            writer = csv.writer(handle, delimiter=DELIMITERS[fmt], lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([csv_cell(row.get(name)) for name in columns])
                count += 1
        elif fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps(_compact(row), ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                count += 1
        else:
            items = [_compact(row) for row in rows]
            json.dump(items, handle, ensure_ascii=False)
            count = len(items)
    return count


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def _write_parquet(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = [{name: row.get(name) for name in columns} for row in rows]
    table = pa.Table.from_pylist(items) if items else pa.table({name: pa.array([], pa.string()) for name in columns})
    pq.write_table(table, path)
    return len(items)
