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
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

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


@contextmanager
def _atomic_binary(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle on a temporary file beside ``path``, renamed over it only on success.

    A writer that fails half-way leaves the previous file (or none), never a truncated one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            if path.name.lower().endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="wb", filename="") as zipped:
                    yield cast(IO[bytes], zipped)  # GzipFile is a binary file object
            else:
                yield raw
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_rows(path: Path, rows: Iterable[dict[str, Any]], *, columns: Sequence[str]) -> int:
    """Write rows to ``path`` in the format its extension names (atomically); returns the number written."""
    fmt = file_format(path)
    if fmt == "parquet":
        return _write_parquet(path, rows, columns)
    count = 0
    with _atomic_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
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
    with _atomic_binary(path) as raw:
        pq.write_table(table, raw)
    return len(items)


class BatchWriter:
    """Streams Arrow record batches into one FORMATS.md file: Parquet, CSV or JSONL (gz too).

    The columnar counterpart of ``write_rows`` for large outputs (the simulator writes
    hundreds of millions of events this way). Dictionary-encoded columns are written as their
    values; list columns become ``;``-joined cells in CSV; nulls are empty CSV cells and
    omitted JSON keys, as ``write_rows`` does. Parquet keeps native types (a time column may be
    a UTC-offset timestamp). Use as a context manager; ``count`` is the rows written.
    """

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = path
        self.format = file_format(path)
        if self.format == "json":
            raise InterchangeError("batch writing supports .jsonl, .csv and .parquet", where=str(path))
        self.schema: pa.Schema = schema
        self.count = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet: Any = None
        self._stream: Any = None
        self._csv: Any = None
        if self.format == "parquet":
            # Statistics only on the time column: min/max of unique ids cost time and help no one.
            stats = ["time"] if "time" in schema.names else False
            # Dictionary pages only where values repeat (dictionary-typed and list columns);
            # trying them on unique ids and times is wasted work that is then thrown away.
            dictionary = [f.name for f in schema if pa.types.is_dictionary(f.type)
                          or pa.types.is_list(f.type)]
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd",
                                             write_statistics=stats, use_dictionary=dictionary)
        else:
            codec = "gzip" if path.name.lower().endswith(".gz") else None
            self._stream = pa.output_stream(str(path), compression=codec)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, batch: Any) -> None:
        """Append a ``pyarrow.RecordBatch`` (or Table) with this writer's schema."""
        import pyarrow.csv as pacsv

        if batch.num_rows == 0:
            return
        if self.format == "parquet":
            self._parquet.write(batch)
        elif self.format == "csv":
            plain = _plain_columns(batch, join_lists=True)
            if self._csv is None:
                self._csv = pacsv.CSVWriter(
                    self._stream, plain.schema,
                    write_options=pacsv.WriteOptions(quoting_style="needed"),
                )
            self._csv.write(plain)
        else:
            import numpy as np

            lines = _json_lines(batch)
            # The lines are contiguous in the string array's data buffer: write it in one go.
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
            start = int(offsets[lines.offset])
            end = int(offsets[lines.offset + len(lines)])
            self._stream.write(lines.buffers()[2][start:end])
        self.count += batch.num_rows

    def close(self) -> None:
        """Finish the file (writes the CSV header even when no rows came)."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
            return
        if self._stream is None:
            return
        if self.format == "csv" and self._csv is None:
            self._stream.write(
                (",".join(self.schema.names) + "\n").encode("utf-8")
            )
        if self._csv is not None:
            self._csv.close()
        self._stream.close()
        self._stream = None


def _plain_columns(batch: Any, *, join_lists: bool) -> Any:
    # Decode dictionaries; for CSV, lists become ';'-joined strings and times RFC 3339 text.
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for column in batch.columns:
        array = column
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if pa.types.is_list(array.type):
            values = array.values
            if pa.types.is_dictionary(values.type):
                array = pa.ListArray.from_arrays(array.offsets, values.dictionary_decode(),
                                                 mask=array.is_null())
            if join_lists:
                if pc.any(pc.match_substring(array.flatten(), LIST_SEPARATOR)).as_py():
                    raise InterchangeError(f"list item contains '{LIST_SEPARATOR}': cannot write to CSV")
                array = pc.binary_join(array, LIST_SEPARATOR)
        if pa.types.is_timestamp(array.type):
            raise InterchangeError("write times as RFC 3339 text for CSV and JSONL")
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _json_string(array: Any) -> Any:
    import pyarrow.compute as pc

    if pc.any(pc.match_substring_regex(array, r"[\x00-\x1f]")).as_py():
        raise InterchangeError("control characters in text cannot be batch-written as JSON")
    escaped = pc.replace_substring(pc.replace_substring(array, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _json_lines(batch: Any) -> Any:
    # One JSON object per row built with Arrow kernels: '"name":value' fragments joined with
    # ',', nulls (and empty lists) skipped, matching write_rows' compact output.
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = _plain_columns(batch, join_lists=False)
    fragments = []
    for name, array in zip(plain.schema.names, plain.columns, strict=True):
        key = json.dumps(name) + ":"
        if pa.types.is_list(array.type):
            items = _json_string(array.flatten())
            inner = pa.ListArray.from_arrays(array.offsets, items, mask=array.is_null())
            value = pc.binary_join_element_wise("[", pc.binary_join(inner, ","), "]", "")
            value = pc.if_else(pc.equal(pc.list_value_length(array), 0), None, value)
        elif pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            value = _json_string(array)
        elif pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
            value = array.cast(pa.string())
        elif pa.types.is_boolean(array.type):
            value = pc.if_else(array, "true", "false")
        else:
            raise InterchangeError(f"column '{name}' of type {array.type} cannot be batch-written")
        fragments.append(pc.binary_join_element_wise(key, value, ""))
    body = pc.binary_join_element_wise(*fragments, ",", null_handling="skip")
    return pc.binary_join_element_wise("{", body, "}\n", "")
