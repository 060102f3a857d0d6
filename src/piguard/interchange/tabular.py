"""The one reader and writer of FORMATS.md files: JSONL, JSON arrays, CSV, Parquet, gzip variants.

Rows are plain dicts of strings/numbers/lists; typed records (events, context tables, ...)
are validated by the modules beside this one. Every row comes with the place it was read
from, so errors can name the file and line. The same reader serves PI discovery, which
reads users' own table files in these formats (CSV/TSV also in GB 18030, ``encoding=``) and
samples large Parquet files by row index (``sample_parquet_rows``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from piguard.errors import InterchangeError

LIST_SEPARATOR = ";"
# What a reader trims from a cell: the Unicode White_Space characters, exactly the set pydantic's
# ``str_strip_whitespace`` strips (Python's ``str.strip()`` also strips the C0 separators
# U+001C-U+001F, which pydantic keeps). The loader's SQL fast path trims the same set.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Python's csv module refuses cells over 128 KiB by default; a search's query or a list of
# thousands of result ids is longer, and is a valid cell.
_CSV_FIELD_LIMIT = 2**31 - 1
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
    raise InterchangeError(f"unsupported file type; expected one of {', '.join(SUFFIXES)}", where=str(path))


def _open_text(path: Path, encoding: str = "utf-8") -> IO[str]:
    # Windows tools start UTF-8 files with a byte order mark; JSON parsers refuse it as text.
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    return path.open("r", encoding=encoding, newline="")


def read_rows(
    path: Path, *, encoding: str = "utf-8", on_bad_line: Callable[[InterchangeError], None] | None = None
) -> Iterator[Row]:
    """Yield the rows of a FORMATS.md file; raises ``InterchangeError`` naming file and line.

    ``encoding`` applies to text formats (FORMATS.md files are UTF-8; users' CSV exports may
    be GB 18030). With ``on_bad_line``, a malformed JSONL line, or a CSV/TSV row with the
    wrong number of cells, is handed to it and passed over instead of ending the read (a scan
    must not lose every record to one truncated line).
    """
    fmt = file_format(path)
    if not path.exists():
        raise InterchangeError("file does not exist", where=str(path))
    try:
        if fmt == "jsonl":
            yield from _read_jsonl(path, encoding, on_bad_line)
        elif fmt == "json":
            yield from _read_json(path, encoding)
        elif fmt in DELIMITERS:
            yield from _read_csv(path, delimiter=DELIMITERS[fmt], encoding=encoding, on_bad_line=on_bad_line)
        else:
            yield from _read_parquet(path)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        found = _undecodable_line(path, encoding)
        if found is None:
            raise InterchangeError(f"not {name} text ({exc.reason})", where=str(path)) from None
        line, offset = found
        raise InterchangeError(
            f"not {name} text ({exc.reason} at byte {offset} of the file)", where=f"{path}:{line}"
        ) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InterchangeError(f"cannot read file: {exc}", where=str(path)) from None


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _undecodable_line(path: Path, encoding: str) -> tuple[int, int] | None:
    """(line, byte offset in the file) of the first byte that ``encoding`` cannot decode.

    A decoding error is raised for a whole buffered chunk, far from the line that holds it;
    this second pass, line by line, names the line (a line break is never part of a UTF-8 or
    GB 18030 character). None if the file decodes line by line after all.
    """
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    offset = 0
    try:
        with _open_binary(path) as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode(encoding if number == 1 else encoding.replace("-sig", ""))
                except UnicodeDecodeError as exc:
                    return number, offset + exc.start
                offset += len(line)
    except (OSError, EOFError):
        return None
    return None


class RepeatedKeyError(ValueError):
    """A JSON object names ``key`` twice (raised while parsing by ``UNIQUE_KEYS``; the readers say where)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of repeated keys silently: which value the sender meant is unknown.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKeyError(key)
            seen.add(key)
    return obj


#: The JSON decoder of every reader of users' and other systems' files: a repeated key is a
#: ``RepeatedKeyError``. One decoder for every read: json.loads with a hook builds one per line.
UNIQUE_KEYS = json.JSONDecoder(object_pairs_hook=_unique_keys)
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _repeated_key_reason(exc: RepeatedKeyError) -> str:
    # A key is a field name, not a value; a long one is cut so that the message stays one line.
    key = exc.key if len(exc.key) <= 64 else exc.key[:61] + "..."
    return f"key '{key}' appears more than once in one object (which value is meant is unknown)"


def _after_space(text: str, position: int) -> int:
    match = _JSON_SPACE.match(text, position)
    return match.end() if match else position


def _element_with_repeated_key(text: str) -> int | None:
    """The index of the first top-level array element holding a repeated key (a second pass, on error only)."""
    position = _after_space(text, 0)
    if not text.startswith("[", position):
        return None
    position += 1
    index = 0
    try:
        while True:
            position = _after_space(text, position)
            try:
                _, position = UNIQUE_KEYS.raw_decode(text, position)
            except RepeatedKeyError:
                return index
            position = _after_space(text, position)
            if not text.startswith(",", position):
                return None
            position += 1
            index += 1
    except json.JSONDecodeError:
        return None


def json_document(text: str, *, where: str) -> Any:
    """Parse one JSON document as every reader here does: a key repeated in an object is refused.

    ``json.JSONDecodeError`` passes through for the caller to word; a repeated key is an
    ``InterchangeError`` naming it (and ``where``).
    """
    try:
        return UNIQUE_KEYS.decode(text)
    except RepeatedKeyError as exc:
        raise InterchangeError(_repeated_key_reason(exc), where=where) from None


def _jsonl_object(line: str | bytes, where: str) -> dict[str, Any]:
    try:
        obj = UNIQUE_KEYS.decode(line if isinstance(line, str) else line.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise InterchangeError(f"invalid JSON ({exc.msg})", where=where) from None
    except RepeatedKeyError as exc:
        raise InterchangeError(_repeated_key_reason(exc), where=where) from None
    if not isinstance(obj, dict):
        raise InterchangeError("expected a JSON object", where=where)
    return obj


def _read_jsonl(
    path: Path, encoding: str = "utf-8", on_bad_line: Callable[[InterchangeError], None] | None = None
) -> Iterator[Row]:
    with _open_text(path, encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = _jsonl_object(line, where)
            except InterchangeError as exc:
                if on_bad_line is None:
                    raise
                on_bad_line(exc)
                continue
            yield Row(where, data)


def _read_json(path: Path, encoding: str = "utf-8") -> Iterator[Row]:
    with _open_text(path, encoding) as handle:
        text = handle.read()
    try:
        data = UNIQUE_KEYS.decode(text)
    except json.JSONDecodeError as exc:
        raise InterchangeError(f"invalid JSON ({exc.msg})", where=f"{path}:{exc.lineno}") from None
    except RepeatedKeyError as exc:
        index = _element_with_repeated_key(text)
        where = str(path) if index is None else f"{path}[{index}]"
        raise InterchangeError(_repeated_key_reason(exc), where=where) from None
    if not isinstance(data, list):
        raise InterchangeError("expected a JSON array of objects", where=str(path))
    for number, obj in enumerate(data, start=1):
        where = f"{path}[{number - 1}]"
        if not isinstance(obj, dict):
            raise InterchangeError("expected a JSON object", where=where)
        yield Row(where, obj)


def _csv_header(values: list[str], path: Path) -> list[str]:
    header = [name.strip().lstrip("\ufeff") for name in values]
    if len(set(header)) != len(header):
        raise InterchangeError("duplicate column names in header", where=f"{path}:1")
    return header


def csv_record(header: list[str], values: list[str], where: str) -> dict[str, Any] | None:
    """A CSV row as a dict without its empty cells; None for a blank line."""
    if not values or all(not v.strip() for v in values):
        return None
    if len(values) != len(header):
        raise InterchangeError(f"expected {len(header)} columns, found {len(values)}", where=where)
    return {k: v for k, v in zip(header, values, strict=True) if v != ""}


def _read_csv(
    path: Path,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    on_bad_line: Callable[[InterchangeError], None] | None = None,
) -> Iterator[Row]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    with _open_text(path, encoding) as handle:
        # strict: a quote left open must be an error, not a cell that swallows the rest of the file.
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            header = _csv_header(next(reader), path)
        except StopIteration:
            raise InterchangeError("empty file: a header row is required", where=str(path)) from None
        except csv.Error as exc:
            raise InterchangeError(f"malformed CSV ({exc})", where=f"{path}:1") from None
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if str(exc) == "unexpected end of data":
                    # Named where the open quote's record began: that is the line to look at.
                    raise InterchangeError(
                        "a quoted cell is never closed (it runs to the end of the file)", where=f"{path}:{start}"
                    ) from None
                # The reader cannot go on past this point; the place is where it stopped.
                raise InterchangeError(f"malformed CSV ({exc})", where=f"{path}:{reader.line_num}") from None
            # A record whose quoted cell spans lines is named by its first line, where it starts.
            where = f"{path}:{start}"
            try:
                record = csv_record(header, values, where)
            except InterchangeError as exc:
                if on_bad_line is None:
                    raise
                on_bad_line(exc)
                continue
            if record is not None:
                yield Row(where, record)


def csv_header(path: Path, *, encoding: str = "utf-8") -> list[str]:
    """The column names of a CSV/TSV file as ``read_rows`` reads them (duplicates refused).

    Only the first line is read and decoded, so a bad byte further on is left to the reader
    that reaches it (and names its line).
    """
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    try:
        with _open_binary(path) as raw:
            first = raw.readline()
        text = first.decode("utf-8-sig" if utf8 else encoding)
    except UnicodeDecodeError as exc:
        raise InterchangeError(f"not {'UTF-8' if utf8 else encoding} text ({exc.reason})", where=f"{path}:1") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InterchangeError(f"cannot read file: {exc}", where=str(path)) from None
    try:
        values = next(csv.reader([text], delimiter=DELIMITERS[file_format(path)]), None)
    except csv.Error as exc:
        raise InterchangeError(f"malformed CSV ({exc})", where=f"{path}:1") from None
    return [] if values is None else _csv_header(values, path)


def _open_parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InterchangeError(f"not a readable Parquet file ({type(exc).__name__})", where=str(path)) from None


def _read_parquet(path: Path) -> Iterator[Row]:
    parquet = _open_parquet(path)
    number = 0
    for batch in parquet.iter_batches(batch_size=65536):
        for record in batch.to_pylist():
            number += 1
            yield Row(f"{path}#row{number}", {k: v for k, v in record.items() if v is not None})


# --- Samples of large files without a full pass (PI discovery's column classification) ----------

#: Files at least this large are sampled (discover/sources/sampling.py); smaller ones are read whole.
BLOCK_SAMPLING_MIN_BYTES = 8 * 1024 * 1024


def sample_parquet_rows(path: Path, *, size: int, seed: int) -> tuple[list[Row], int]:
    """Up to ``size`` rows of a Parquet file drawn by row index, and its row count.

    Only the row groups that hold the chosen rows are read; a sampled row's ``where`` is
    ``file#rowN``. CSV/TSV/JSONL files are sampled by line in ``discover/sources/sampling.py``.
    """
    return _sample_parquet(path, size=size, seed=seed)


def _sample_parquet(path: Path, *, size: int, seed: int) -> tuple[list[Row], int]:
    import random

    parquet = _open_parquet(path)
    meta = parquet.metadata
    total = meta.num_rows
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(total), size)) if total > size else list(range(total))
    rows: list[Row] = []
    first = index = 0
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
                raise InterchangeError(f"not a readable Parquet file ({type(exc).__name__})", where=str(path)) from None
            for number, record in zip(wanted, table.to_pylist(), strict=True):
                rows.append(Row(f"{path}#row{first + number + 1}", {k: v for k, v in record.items() if v is not None}))
        first += count
    return rows, total


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
    """Read a list cell: a JSON/Parquet list, or a ``;``-separated CSV string.

    Items are trimmed (``WHITESPACE``) and empty ones dropped (`a; b;;` is `a`, `b`), as the
    SQL fast path does; a null item (a Parquet list's missing value) is dropped too. An object,
    or a list holding anything but strings (numbers, booleans, lists, objects), is not a list of
    names (FORMATS.md: a list of strings): ``ValueError``.
    """
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        raise ValueError("must be a list of strings, or one string of items separated by ';'")
    items = value if isinstance(value, list | tuple) else str(value).split(LIST_SEPARATOR)
    strange = next((item for item in items if item is not None and not isinstance(item, str)), None)
    if strange is not None:
        kind = "lists or objects" if isinstance(strange, dict | list | tuple) else type(strange).__name__
        raise ValueError(f"list items must be strings, not {kind}")
    return [text for text in (str(item).strip(WHITESPACE) for item in items if item is not None) if text]


@contextmanager
def replacing_file(path: Path) -> Iterator[Path]:
    """A fresh path beside ``path``, with its extension, renamed over ``path`` only if the block succeeds.

    For a write that must be followed by more work (recording it) before it counts: if that
    fails, the staged file is removed and ``path`` is as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staged_name = tempfile.mkstemp(prefix=".piguard-", suffix=f".{path.name}", dir=path.parent)
    os.close(fd)
    staged = Path(staged_name)
    try:
        yield staged
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)


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


def write_rows(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    columns: Sequence[str],
    list_columns: Collection[str] = (),
    int_columns: Collection[str] = (),
) -> int:
    """Write rows to ``path`` in the format its extension names (atomically); returns the number written.

    ``list_columns`` and ``int_columns`` give Parquet their types whatever the rows hold; any
    other column is typed from its values, and text when it holds none.
    """
    fmt = file_format(path)
    if fmt == "parquet":
        return _write_parquet(path, rows, columns, list_columns=list_columns, int_columns=int_columns)
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


def _write_parquet(
    path: Path,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    *,
    list_columns: Collection[str],
    int_columns: Collection[str],
) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = [{name: row.get(name) for name in columns} for row in rows]
    arrays = []
    for name in columns:
        values = [item[name] for item in items]
        if name in list_columns:
            kind = pa.list_(pa.string())
        elif name in int_columns:
            kind = pa.int64()
        elif all(value is None for value in values):
            # Without a type an all-empty column is Parquet's "Null" type, which other readers
            # (Spark) take as int: an optional text field must stay text whatever the rows hold.
            kind = pa.string()
        else:
            kind = None
        arrays.append(pa.array(values, type=kind))
    table = pa.table(dict(zip(columns, arrays, strict=True)))
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
            dictionary = [f.name for f in schema if pa.types.is_dictionary(f.type) or pa.types.is_list(f.type)]
            self._parquet = pq.ParquetWriter(
                path, schema, compression="zstd", write_statistics=stats, use_dictionary=dictionary
            )
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
                    self._stream,
                    plain.schema,
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
            self._stream.write((",".join(self.schema.names) + "\n").encode("utf-8"))
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
                array = pa.ListArray.from_arrays(array.offsets, values.dictionary_decode(), mask=array.is_null())
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
