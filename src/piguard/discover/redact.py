"""Redaction: mask what discovery finds, keeping the file's format, row order and columns.

Text is redacted per finding. Tables are column-aware: the columns are classified on a
sample first; a column that *is* an entity is transformed whole (every value, also the
ones a validator would miss, such as a mistyped phone number); every other value is
redacted per finding. Files are read and written as streams (CSV/TSV and JSONL line by
line, a JSON array item by item, Parquet by record batches), in the input's encoding
(UTF-8 with or without BOM, GB 18030, UTF-16) and line endings; a row or line left
unchanged is written back as it was read. Output goes to a private (0600) temporary file
beside OUT, renamed into place on success: a failure leaves no partial file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import (
    DEFAULT_MIN_CONFIDENCE,
    ColumnClassification,
    classify_table,
    name_evidence,
    negated_by_name,
)
from piguard.discover.findings import Finding
from piguard.discover.names import KEY
from piguard.discover.sources import DEFAULT_SAMPLE, TableSample, sample_table_file, sniff_encoding
from piguard.discover.sources.base import value_text
from piguard.discover.sources.rows import (
    Line,
    Record,
    RecordRole,
    csv_records,
    decoded_lines,
    json_array_items,
    read_head,
    sniff_delimiter,
    table_encoding,
    text_codec,
)
from piguard.discover.sources.tables import EXCEL_SUFFIXES, TABULAR_SUFFIXES
from piguard.errors import ConfigError, DiscoveryError, InputError, InterchangeError
from piguard.interchange import tabular
from piguard.minimize.operators import hash_value, mask, mask_email, pseudonymize

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")

POLICIES = ("mask", "hash", "pseudonym", "remove")
_LINE_BATCH = 256
_KEEP_LAST_4 = frozenset(
    {
        "CN_RESIDENT_ID",
        "CN_MOBILE",
        "CN_LANDLINE",
        "PHONE",
        "BANK_CARD",
        "IBAN",
        "US_SSN",
        "CN_PASSPORT",
        "CN_TRAVEL_PERMIT",
        "CN_USCC",
    }
)
_KEEP_FIRST_1 = frozenset({"PERSON", "CN_PLATE"})
_DATE_SEPARATORS = frozenset(" -/:.年月日T")
# Rows analysed together by the name tagger while redacting a table.
_CHUNK_ROWS = 256
# Distinct keys whose findings are remembered while redacting one file.
_MAX_KEYS_CACHED = 65_536
#: How one value is replaced (``None`` removes it).
Change = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Redactor:
    """Applies one policy to values of a known entity; ``key`` is needed for ``pseudonym``."""

    policy: str
    key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InputError(f"unknown policy; expected one of {', '.join(POLICIES)}", where="--policy")
        if self.policy == "pseudonym" and not self.key:
            raise ConfigError("the pseudonym policy needs a key")

    def value(self, value: str, entity: str) -> str | None:
        """The replacement of one value (``None`` removes it: an empty cell, a dropped key)."""
        if self.policy == "remove":
            return None
        if self.policy == "hash":
            return hash_value(value)
        if self.policy == "pseudonym":
            assert self.key is not None
            return f"{entity}_{pseudonymize(value, key=self.key, domain=entity)}"
        return mask_value(value, entity)

    def span(self, value: str, entity: str) -> str:
        """The replacement of a span inside free text (never empty: the reader sees a gap)."""
        replaced = self.value(value, entity)
        return f"[{entity}]" if replaced is None else replaced


def mask_value(value: str, entity: str) -> str:
    """The ``mask`` policy for one entity: keep the last 4 of identifiers, a name's surname."""
    if entity == "EMAIL":
        return mask_email(value)
    if entity in _KEEP_LAST_4:
        return mask(value, keep_last=4)
    if entity in _KEEP_FIRST_1:
        return mask(value, keep_first=1, keep_last=0)
    if entity == "DATE_OF_BIRTH":
        return mask(value, keep_last=0, preserve=_DATE_SEPARATORS)
    return mask(value, keep_last=0)


def redact_text(
    text: str, *, analyzer: Analyzer, redactor: Redactor, findings: list[Finding] | None = None
) -> tuple[str, int]:
    """``text`` with every finding replaced, and the number of findings (given or found here)."""
    if findings is None:
        findings = analyzer.analyze(text)
    out = text
    for f in reversed(findings):  # right to left, so earlier offsets stay valid
        out = out[: f.start] + redactor.span(text[f.start : f.end], f.entity) + out[f.end :]
    return out, len(findings)


@dataclass(slots=True)
class RedactStats:
    """What a redaction changed.

    ``rows`` counts data rows (CSV rows, JSON objects, Parquet rows) or text lines; ``notes``
    says what the copy does differently from the input (a Parquet column retyped, a header
    row that held personal information), never with a value from the file.
    """

    rows: int = 0
    findings: int = 0
    values_changed: int = 0
    columns: list[ColumnClassification] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _restart(self) -> None:
        self.rows = self.findings = self.values_changed = 0


def redact_file(
    source: Path,
    target: Path,
    *,
    analyzer: Analyzer,
    redactor: Redactor,
    sample: int = DEFAULT_SAMPLE,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> RedactStats:
    """Redact ``source`` into ``target`` (same format); raises ``InputError`` for bad input.

    ``target`` appears only when the whole file was redacted (mode 0600); on any failure
    nothing is left beside it.
    """
    if not source.is_file():
        raise InputError("no such file", where=str(source))
    if target.exists() and target.resolve() == source.resolve():
        raise InputError("output must not be the input file", where=str(target))
    name = source.name.lower()
    if name.endswith(EXCEL_SUFFIXES):
        raise InputError("redacting .xlsx is not supported; save it as CSV first", where=str(source))
    tabular_input = name.endswith(TABULAR_SUFFIXES)
    if tabular_input and _format(source) != _format(target):
        raise InputError(f"output must have the input's format ({_format(source)})", where=str(target))
    if not target.parent.is_dir():
        # As --out elsewhere: a mistyped folder is an error, not a new folder tree.
        raise InputError("no such folder", where=str(target.parent))
    # mkstemp: private (0600) whatever the umask, in OUT's folder so the rename is atomic.
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".piguard-tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            if source.stat().st_size == 0 and _format(source) != "parquet":
                stats = RedactStats()  # an empty export: an empty copy
            elif tabular_input:
                stats = _redact_table(
                    source,
                    raw,
                    temp,
                    zipped=target.name.lower().endswith(".gz"),
                    analyzer=analyzer,
                    redactor=redactor,
                    sample=sample,
                    min_confidence=min_confidence,
                )
            else:
                stats = _redact_text_file(source, raw, analyzer=analyzer, redactor=redactor)
        os.replace(temp, target)
    except DiscoveryError as exc:
        raise InputError(str(exc), where=str(source)) from None
    except InterchangeError as exc:
        raise InputError(exc.reason, where=exc.where or str(source)) from None
    finally:
        temp.unlink(missing_ok=True)
    return stats


def _format(path: Path) -> str:
    try:
        return tabular.file_format(path)
    except InterchangeError:
        return "text"


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ending(text: str) -> str:
    """The line ending at the end of ``text`` (CRLF, LF or none)."""
    return text[len(text.rstrip("\r\n")) :]


class _TextOut:
    """Writes text in the input's encoding: its BOM (UTF-8 or UTF-16, either byte order) first,
    then UTF-8 or GB 18030 as the input's lines are (``text_codec``)."""

    def __init__(self, raw: IO[bytes], *, encoding: str, head: bytes) -> None:
        self._raw = raw
        if encoding == "utf-16":
            big = head.startswith(codecs.BOM_UTF16_BE)
            raw.write(codecs.BOM_UTF16_BE if big else codecs.BOM_UTF16_LE)
            self.codec = "utf-16-be" if big else "utf-16-le"
        elif encoding == "utf-8-sig":
            raw.write(codecs.BOM_UTF8)
            self.codec = "utf-8"
        else:
            self.codec = encoding

    def write(self, text: str) -> None:
        self._raw.write(text.encode(self.codec))


def _text_out(source: Path, raw: IO[bytes], encoding: str) -> _TextOut:
    return _TextOut(raw, encoding=text_codec(source, encoding), head=read_head(source))


def _line_error(line: Line) -> DiscoveryError:
    return DiscoveryError(f"malformed file at line {line.number}: {line.reason}")


def _redact_text_file(source: Path, raw: IO[bytes], *, analyzer: Analyzer, redactor: Redactor) -> RedactStats:
    """Line by line, each line's ending kept; a line that is neither UTF-8 nor GB 18030 stops it."""
    stats = RedactStats()
    encoding = sniff_encoding(source, tolerant=True)  # raises DiscoveryError for binary files
    out = _text_out(source, raw, encoding)
    lines = decoded_lines(source, encoding, nul_ok=True, prefer=_prefer(out.codec))
    for batch in _batched(lines, _LINE_BATCH):
        # Batches of lines: the PERSON tagger runs them together.
        bodies = []
        for line in batch:
            if line.text is None:
                raise _line_error(line)
            bodies.append(line.text.rstrip("\r\n"))
        for line, body, found in zip(batch, bodies, analyzer.analyze_many(bodies), strict=True):
            assert line.text is not None
            redacted, count = redact_text(body, analyzer=analyzer, redactor=redactor, findings=found)
            stats.rows += 1
            stats.findings += count
            stats.values_changed += count
            out.write(redacted + line.text[len(body) :] if count else line.text)
    return stats


def _prefer(codec: str) -> str:
    """Which of UTF-8 and GB 18030 lines are decoded with first: the one they are written in."""
    return "gb18030" if codec == "gb18030" else "utf-8"


def _redact_table(
    source: Path,
    raw: IO[bytes],
    temp: Path,
    *,
    zipped: bool,
    analyzer: Analyzer,
    redactor: Redactor,
    sample: int,
    min_confidence: float,
) -> RedactStats:
    stats = RedactStats()
    fmt = tabular.file_format(source)
    other = _PerFinding(redactor, analyzer, stats)
    if fmt == "parquet":
        raw.close()  # pyarrow writes the file by its path
        tables = sample_table_file(source, source=str(source), sample=sample)
        whole = _classify(tables, stats, redactor, analyzer=analyzer, min_confidence=min_confidence)
        _redact_parquet(source, temp, whole=whole, other=other, stats=stats, removes=redactor.policy == "remove")
        stats.notes.extend(other.notes())
        return stats
    with _compressed(raw, zipped) as stream:
        if fmt in tabular.DELIMITERS:
            # The column names as the redaction reads them; the sample must name columns alike.
            encoding = table_encoding(source)
            delimiter = tabular.DELIMITERS[fmt]
            if fmt == "csv":
                delimiter = sniff_delimiter(source, encoding=encoding, default=delimiter)
            out = _text_out(source, stream, encoding)
            names, records = csv_records(source, delimiter=delimiter, encoding=encoding, prefer=_prefer(out.codec))
            tables = sample_table_file(source, source=str(source), sample=sample, tolerant=True)
            if not {c.name for t in tables for c in t.columns} <= set(names):
                # A block sample takes the first line for the header: this file has title rows.
                tables = sample_table_file(source, source=str(source), sample=sample, tolerant=True, full=True)
            whole = _classify(tables, stats, redactor, analyzer=analyzer, min_confidence=min_confidence)
            headerless = any(t.headerless for t in tables)
            if headerless:
                # The first row is data (it held PI): its cells are column_1, column_2... as the
                # scan names them, and are transformed like the rows below.
                whole = {name: whole[f"column_{i + 1}"] for i, name in enumerate(names) if f"column_{i + 1}" in whole}
                stats.notes.extend(n for t in tables for n in t.notes)
            _redact_csv(
                records, names, out, delimiter=delimiter, whole=whole, other=other, stats=stats, headerless=headerless
            )
            stats.notes.extend(other.notes())
            return stats
        tables = sample_table_file(source, source=str(source), sample=sample, tolerant=fmt == "jsonl")
        whole = _classify(tables, stats, redactor, analyzer=analyzer, min_confidence=min_confidence)
        if fmt == "jsonl":
            _redact_jsonl(source, stream, whole=whole, other=other, stats=stats)
        else:
            _redact_json(source, stream, whole=whole, other=other, stats=stats)
    stats.notes.extend(other.notes())
    return stats


def _classify(
    tables: list[TableSample], stats: RedactStats, redactor: Redactor, *, analyzer: Analyzer, min_confidence: float
) -> dict[str, Change]:
    """The columns transformed whole, by name; every other value is redacted per finding (not
    only in the columns the sample flagged: one phone number in row 2500 of a remarks column
    the sample missed must not stay in clear)."""
    for table in tables:
        stats.columns.extend(classify_table(table, analyzer=analyzer, min_confidence=min_confidence))
    return {col.column: _whole(redactor, col.entity) for col in stats.columns if col.kind == "values"}


def _compressed(raw: IO[bytes], zipped: bool) -> IO[bytes]:
    """``raw``, gzip-compressed when OUT is named ``.gz`` (no file name or time in the header)."""
    if zipped:
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0))
    return raw


def _redact_csv(
    records: Iterable[tuple[RecordRole, Record]],
    names: list[str],
    out: _TextOut,
    *,
    delimiter: str,
    whole: dict[str, Change],
    other: _PerFinding,
    stats: RedactStats,
    headerless: bool = False,
) -> None:
    """CSV/TSV record by record: a record without PI is written back as it was read (quotes,
    line endings, title rows and blank lines included); a changed one is written with the
    file's delimiter, quoting as the header is quoted (every field, or only where needed)."""
    changes = [whole.get(name) or other.for_column(name) for name in names]
    per_finding = [name not in whole for name in names]
    buffer = io.StringIO()
    writer: Any = None
    renamed: dict[str, str] = {}
    for chunk in _batched(records, _CHUNK_ROWS):
        # One batch for the name tagger: the values no whole-column rule covers.
        other.prefetch(
            value
            for role, record in chunk
            for i, value in enumerate(record.fields)
            if not _is_row(role, headerless) or (i < len(changes) and per_finding[i])
        )
        for role, record in chunk:
            if role == "blank":
                out.write(record.text)
                continue
            if writer is None or role == "header":
                writer = _csv_writer(buffer, delimiter, quote_all=role == "header" and _quoted_all(record, delimiter))
            # Title rows and the header are redacted per finding too: a "header" holding a
            # phone number is the first row of a file without one.
            row = _is_row(role, headerless)
            cell_changes: list[Change] = changes if row else [other] * len(record.fields)
            fields = list(record.fields)
            changed = 0
            for i, value in enumerate(record.fields):
                if i < len(cell_changes) and value.strip():
                    new = cell_changes[i](value)
                    if new != value:
                        fields[i] = "" if new is None else new
                        changed += 1
            if row:
                stats.rows += 1
            elif role == "header" and changed:
                renamed = {n: f for n, f, old in zip(names, fields, record.fields, strict=False) if f != old}
            stats.values_changed += changed
            if not changed:
                out.write(record.text)
                continue
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(fields)
            out.write(_written(buffer) + _ending(record.lines[-1].text or ""))
    if renamed:
        # The summary names columns: a name that was personal information is shown redacted.
        stats.columns = [replace(c, column=renamed.get(c.column, c.column)) for c in stats.columns]
        stats.notes.append("the header row held personal information (redacted): the file may have no header row")


def _is_row(role: RecordRole, headerless: bool) -> bool:
    """Whether a CSV record is a data row: the "header" of a file without one is."""
    return role == "row" or (headerless and role == "header")


def _csv_writer(buffer: io.StringIO, delimiter: str, *, quote_all: bool) -> Any:
    """A writer of one record into ``buffer``, ending ``_TERMINATOR`` (the record's own line
    ending replaces it): csv quotes a field that holds a character of its line terminator, so
    it must hold both CR and LF, or a multi-line cell would be written unquoted."""
    if quote_all:
        return csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator=_TERMINATOR)
    return csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator=_TERMINATOR)


_TERMINATOR = "\r\n"


def _written(buffer: io.StringIO) -> str:
    """The record in ``buffer``, without the writer's line terminator."""
    return buffer.getvalue()[: -len(_TERMINATOR)]


def _quoted_all(record: Record, delimiter: str) -> bool:
    """Whether the header quotes every name, as exports that quote every field write it."""
    buffer = io.StringIO()
    _csv_writer(buffer, delimiter, quote_all=True).writerow(record.fields)
    return bool(record.fields) and record.text.rstrip("\r\n") == _written(buffer)


def _redact_jsonl(
    source: Path, raw: IO[bytes], *, whole: dict[str, Change], other: _PerFinding, stats: RedactStats
) -> None:
    """JSONL line by line: an unchanged line is written back as it was; a changed one keeps its
    keys, their order, nulls and the types of untouched values, and the line's spacing style."""
    encoding = table_encoding(source)
    out = _text_out(source, raw, encoding)
    for batch in _batched(decoded_lines(source, encoding, prefer=_prefer(out.codec)), _CHUNK_ROWS):
        parsed: list[tuple[str, dict[str, Any] | None]] = []
        for line in batch:
            if line.text is None:
                raise _line_error(line)
            obj = None
            if line.text.strip():
                try:
                    obj = json.loads(line.text)
                except json.JSONDecodeError as exc:
                    raise DiscoveryError(f"malformed file at line {line.number}: invalid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise DiscoveryError(f"malformed file at line {line.number}: expected a JSON object")
            parsed.append((line.text, obj))
        other.prefetch(t for _, obj in parsed if obj is not None for t in _texts(obj, "", whole))
        for text, obj in parsed:
            if obj is None:
                out.write(text)
                continue
            stats.rows += 1
            data, count = _redact_value(obj, "", whole, other)
            stats.values_changed += count
            if not count:
                out.write(text)
                continue
            spaced = '": ' in text or '", ' in text
            out.write(
                json.dumps(
                    data,
                    ensure_ascii=text.isascii() and "\\u" in text,
                    separators=(", ", ": ") if spaced else (",", ":"),
                )
                + _ending(text)
            )


# "[", a line ending and the indentation of the first item: a pretty-printed array.
_PRETTY = re.compile(r"\A\ufeff?\s*\[(\r?\n)([ \t]+)[{\[]")


def _redact_json(
    source: Path, raw: IO[bytes], *, whole: dict[str, Change], other: _PerFinding, stats: RedactStats
) -> None:
    """A JSON array item by item (never held whole), written compact or indented as the input."""
    encoding = text_codec(source, sniff_encoding(source))
    head = read_head(source)
    out = _TextOut(raw, encoding=encoding, head=head)
    pretty = _PRETTY.match(head.decode(out.codec, errors="ignore"))
    newline, indent = (pretty.group(1), pretty.group(2)) if pretty else ("", "")
    ascii_only = head.isascii() and b"\\u" in head
    out.write("[")
    first = True
    for batch in _batched(json_array_items(source, encoding=encoding), _CHUNK_ROWS):
        other.prefetch(t for item in batch for t in _texts(item, "", whole))
        for item in batch:
            stats.rows += 1
            data, count = _redact_value(item, "", whole, other)
            stats.values_changed += count
            if pretty:
                text = json.dumps(data, ensure_ascii=ascii_only, indent=indent).replace("\n", newline + indent)
                out.write(("" if first else ",") + newline + indent + text)
            else:
                out.write(("" if first else ", ") + json.dumps(data, ensure_ascii=ascii_only))
            first = False
    out.write((newline if pretty and not first else "") + "]" + _ending(_tail(source, out.codec)))


def _tail(path: Path, codec: str) -> str:
    """The last characters of a file (for its final line ending)."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4))
        return handle.read().decode(codec, errors="ignore")


# Rows per Parquet record batch, and the output held back to keep a row group whole.
_PARQUET_BATCH_ROWS = 8192
_MAX_BUFFERED_BYTES = 64 * 1024 * 1024


class _RetypeError(Exception):
    """A column got a redacted value its type cannot hold: it must be written as text."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


def _redact_parquet(
    source: Path, temp: Path, *, whole: dict[str, Change], other: _PerFinding, stats: RedactStats, removes: bool
) -> None:
    """Parquet by record batches, never the whole file: schema (types, metadata, field order),
    row groups (up to 64 MiB each, held back until complete), compression and format version
    kept. A column whose values are replaced by text (masked, hashed, pseudonymised) is
    written as text; removed values are nulls of the old type. When an unflagged column of
    numbers turns out to hold PI (a phone number as an int), it is made text and the file is
    written again."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DiscoveryError(f"not a readable Parquet file ({type(exc).__name__})") from None
    schema = parquet.schema_arrow
    retyped: dict[str, pa.DataType] = {}
    for field_ in schema:
        new_type = _retype(field_.type, field_.name, whole, removes)
        if not new_type.equals(field_.type):
            retyped[field_.name] = new_type
    while True:
        try:
            _write_parquet(parquet, temp, retyped, whole=whole, other=other, stats=stats, removes=removes)
            break
        except _RetypeError as exc:
            as_text = _stringify(schema.field(exc.column).type)
            if exc.column in retyped and retyped[exc.column].equals(as_text):
                raise DiscoveryError(f"Parquet column {exc.column}: its redacted values fit no type") from None
            retyped[exc.column] = as_text
            stats._restart()
            other.keys_changed = other.key_clashes = 0
    for field_ in schema:
        if field_.name in retyped and _shown(retyped[field_.name]) != _shown(field_.type):
            stats.notes.append(
                f"Parquet column {field_.name} was {field_.type}, is now {retyped[field_.name]}: "
                "its redacted values are text"
            )


def _write_parquet(
    parquet: Any,
    temp: Path,
    retyped: dict[str, pa.DataType],
    *,
    whole: dict[str, Change],
    other: _PerFinding,
    stats: RedactStats,
    removes: bool,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet.schema_arrow
    meta = parquet.metadata
    fields = []
    for field_ in schema:
        if field_.name in retyped or (removes and field_.name in whole):
            # Removed values are nulls; a retyped column may hold them (its struct fields do).
            new_type = retyped.get(field_.name, field_.type)
            field_ = pa.field(field_.name, new_type, nullable=True, metadata=field_.metadata)
        fields.append(field_)
    metadata = dict(schema.metadata or {})
    if retyped:
        metadata.pop(b"pandas", None)  # it records the old types
    out_schema = pa.schema(fields, metadata=metadata or None)
    options: dict[str, Any] = {"version": meta.format_version}
    if meta.num_row_groups and meta.row_group(0).num_columns:
        group = meta.row_group(0)
        used = {group.column(i).compression for i in range(group.num_columns)}
        if len(used) == 1:
            options["compression"] = _PARQUET_CODECS.get(used.pop(), "snappy")
    try:
        writer = pq.ParquetWriter(str(temp), out_schema, **options)
    except (ValueError, pa.ArrowException):
        writer = pq.ParquetWriter(str(temp), out_schema)
    with writer:
        for group in range(meta.num_row_groups):
            pending: list[pa.RecordBatch] = []
            size = 0
            for batch in _batches(parquet, group):
                out = _redact_batch(batch, out_schema, retyped, whole=whole, other=other, stats=stats)
                pending.append(out)
                size += out.nbytes
                if size >= _MAX_BUFFERED_BYTES:
                    _flush(writer, pending, out_schema)
                    pending, size = [], 0
            _flush(writer, pending, out_schema)


def _shown(arrow_type: Any) -> str:
    """A type as the note shows it; a field only made nullable (for removed values) is no change."""
    return str(arrow_type).replace(" not null", "")


_PARQUET_CODECS = {
    "UNCOMPRESSED": "none",
    "SNAPPY": "snappy",
    "GZIP": "gzip",
    "BROTLI": "brotli",
    "ZSTD": "zstd",
    "LZ4": "lz4",
    "LZ4_RAW": "lz4",
}


def _batches(parquet: Any, group: int) -> Iterator[Any]:
    try:
        yield from parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[group], use_threads=False)
    except Exception as exc:  # corrupt pages surface as several pyarrow types
        raise DiscoveryError(f"not a readable Parquet file ({type(exc).__name__} in row group {group})") from None


def _flush(writer: Any, pending: list[Any], schema: Any) -> None:
    """One row group of the batches held back (the input's row group, unless it was split)."""
    import pyarrow as pa

    if pending:
        table = pa.Table.from_batches(pending, schema=schema)
        writer.write_table(table, row_group_size=max(1, table.num_rows))


def _redact_batch(
    batch: Any,
    schema: Any,
    retyped: dict[str, pa.DataType],
    *,
    whole: dict[str, Change],
    other: _PerFinding,
    stats: RedactStats,
) -> Any:
    import pyarrow as pa

    stats.rows += batch.num_rows
    arrays = []
    for field_, column in zip(schema, batch.columns, strict=True):
        name = field_.name
        if name not in whole and name not in retyped and not _may_hold_pi(column.type):
            arrays.append(column)
            continue
        values = column.to_pylist()
        new_values: list[Any] = []
        changed = 0
        for start in range(0, len(values), _CHUNK_ROWS):
            chunk = values[start : start + _CHUNK_ROWS]
            if name not in whole:
                other.prefetch(t for v in chunk for t in _texts(v, name, whole))
            for value in chunk:
                new, count = _redact_value(value, name, whole, other)
                changed += count
                new_values.append(new)
        stats.values_changed += changed
        if name in retyped:
            arrays.append(pa.array([_fit(v, field_.type) for v in new_values], type=field_.type))
        elif not changed:
            arrays.append(column)
        else:
            try:
                arrays.append(pa.array(new_values, type=field_.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                raise _RetypeError(name) from None  # (the message would quote a value)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _may_hold_pi(arrow_type: Any) -> bool:
    """Whether values of this type are analysed: not flags, bytes or nulls."""
    import pyarrow as pa

    types = pa.types
    return not (
        types.is_boolean(arrow_type)
        or types.is_null(arrow_type)
        or types.is_binary(arrow_type)
        or types.is_large_binary(arrow_type)
        or types.is_fixed_size_binary(arrow_type)
    )


def _is_text_type(arrow_type: Any) -> bool:
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(arrow_type):
        return _is_text_type(arrow_type.value_type)
    return bool(types.is_string(arrow_type) or types.is_large_string(arrow_type) or types.is_string_view(arrow_type))


def _stringify(arrow_type: Any) -> Any:
    """``arrow_type`` with every value that can be redacted as text (flags, bytes and nulls
    stay; lists, structs and maps keep their shape)."""
    import pyarrow as pa

    types = pa.types
    if _is_text_type(arrow_type) or not _may_hold_pi(arrow_type):
        return arrow_type
    if types.is_dictionary(arrow_type):
        return _stringify(arrow_type.value_type)
    if types.is_struct(arrow_type):
        return pa.struct(
            [pa.field(f.name, _stringify(f.type), nullable=True, metadata=f.metadata) for f in arrow_type]
        )
    if types.is_map(arrow_type):
        # Keys can hold personal information too: a redacted key is text.
        return pa.map_(_stringify(arrow_type.key_type), _stringify(arrow_type.item_type))
    if types.is_large_list(arrow_type):
        return pa.large_list(_stringify(arrow_type.value_type))
    if types.is_list(arrow_type) or types.is_fixed_size_list(arrow_type):
        return pa.list_(_stringify(arrow_type.value_type))
    return pa.string()


def _retype(arrow_type: Any, path: str, whole: dict[str, Change], removes: bool) -> Any:
    """The type a column (or struct field) at ``path`` is written with: text where it is
    transformed whole (nulls of its own type when values are removed), else its own."""
    import pyarrow as pa

    if path in whole:
        return arrow_type if removes else _stringify(arrow_type)
    if pa.types.is_struct(arrow_type):
        children = []
        for f in arrow_type:
            child = f"{path}.{f.name}"
            nullable = f.nullable or any(w == child or w.startswith(child + ".") for w in whole)
            children.append(pa.field(f.name, _retype(f.type, child, whole, removes), nullable, f.metadata))
        return pa.struct(children)
    return arrow_type


def _fit(value: Any, arrow_type: Any) -> Any:
    """``value`` shaped for ``arrow_type`` (from ``_stringify``): scalars where it holds text as text."""
    import pyarrow as pa

    types = pa.types
    if value is None:
        return None
    if _is_text_type(arrow_type):
        return value if isinstance(value, str) else _scalar_text(value)
    if types.is_struct(arrow_type) and isinstance(value, dict):
        return {f.name: _fit(value.get(f.name), f.type) for f in arrow_type}
    if types.is_map(arrow_type) and isinstance(value, list):
        return [(_fit(k, arrow_type.key_type), _fit(v, arrow_type.item_type)) for k, v in value]
    if (types.is_list(arrow_type) or types.is_large_list(arrow_type)) and isinstance(value, list):
        return [_fit(v, arrow_type.value_type) for v in value]
    return value


def _redact_value(value: Any, path: str, whole: dict[str, Change], other: _PerFinding) -> tuple[Any, int]:
    """Redact a JSON value at a dotted path: whole columns by their entity, the rest per finding.

    Keys are redacted finding by finding too (a key holding personal information is
    ``<key>`` in the path, as the scan names the column); a changed key counts as a value."""
    if path in whole:
        return _map_scalars(value, whole[path], other)
    if isinstance(value, dict):
        renamed: list[tuple[Any, Any]] = []
        children: list[Any] = []
        total = 0
        for key, child in value.items():
            new_key, personal = other.key(key)
            segment = KEY if personal else key
            new_child, count = _redact_value(child, f"{path}.{segment}" if path else segment, whole, other)
            renamed.append((key, new_key))
            children.append(new_child)
            total += count + (new_key != key)
        return dict(zip(other.distinct(renamed), children, strict=True)), total
    return _map_scalars(value, other.for_column(path), other)


def _texts(value: Any, path: str, whole: dict[str, Change]) -> Iterator[str]:
    """The texts ``_redact_value`` analyses per finding in ``value`` (to analyse them in a batch)."""
    if path in whole:
        yield from _scalar_texts(value, values=False)
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _texts(child, f"{path}.{key}" if path else key, whole)
    else:
        yield from _scalar_texts(value)


def _scalar_texts(value: Any, *, values: bool = True) -> Iterator[str]:
    """The texts ``_map_scalars`` analyses: the keys inside ``value``, and its scalars if ``values``."""
    if _is_map(value):
        for key, item in value:
            yield from _scalar_texts(key)
            yield from _scalar_texts(item, values=values)
    elif isinstance(value, list):
        for item in value:
            yield from _scalar_texts(item, values=values)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _scalar_texts(item, values=values)
    elif values:
        text = _scalar_text(value)
        if text:
            yield text


def _is_map(value: Any) -> bool:
    """Whether ``value`` is a Parquet map as pyarrow gives it: a list of (key, value) pairs."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, tuple) and len(v) == 2 for v in value)


def distinct_keys(renamed: list[tuple[Any, Any]]) -> tuple[list[Any], int]:
    """The keys of one object or map after redaction, from ``(old, new)`` pairs in order, and how
    many clashed: a redacted key equal to another key (two phone numbers masked alike,
    ``[CN_MOBILE]`` twice) gets `` #2``, `` #3``… so that no entry is lost."""
    taken = {old for old, new in renamed if new == old}
    out: list[Any] = []
    clashes = 0
    for old, new in renamed:
        if new != old:
            candidate, n = new, 1
            while candidate in taken:
                n += 1
                candidate = f"{new} #{n}"
            clashes += n > 1
            new = candidate
            taken.add(new)
        out.append(new)
    return out, clashes


def _whole(redactor: Redactor, entity: str) -> Change:
    return lambda value: redactor.value(value, entity)


class _PerFinding:
    """Redacts one value finding by finding; ``prefetch`` analyses a batch of values at once.

    The name tagger costs far less per value in batches, so table rows are analysed a chunk at a
    time; a value not prefetched is analysed on its own.
    """

    def __init__(self, redactor: Redactor, analyzer: Analyzer, stats: RedactStats) -> None:
        self._redactor, self._analyzer, self._stats = redactor, analyzer, stats
        self._found: dict[str, list[Finding]] = {}
        # Findings of keys (the same few keys recur in every row), bounded.
        self._keys: dict[str, list[Finding]] = {}
        self.keys_changed = 0
        self.key_clashes = 0

    def key(self, key: Any) -> tuple[Any, bool]:
        """A JSON or map key redacted finding by finding (as free text); whether it held PI."""
        text = key if isinstance(key, str) else _scalar_text(key)
        if not text or not text.strip():
            return key, False
        findings = self._found.get(text)
        if findings is None:
            findings = self._keys.get(text)
        if findings is None:
            findings = self._analyzer.analyze(text)
            if len(self._keys) < _MAX_KEYS_CACHED:
                self._keys[text] = findings
        if not findings:
            return key, False
        redacted, count = redact_text(text, analyzer=self._analyzer, redactor=self._redactor, findings=findings)
        self._stats.findings += count
        self.keys_changed += 1
        return redacted, True

    def distinct(self, renamed: list[tuple[Any, Any]]) -> list[Any]:
        """``distinct_keys`` of one object or map, counting the clashes for the summary."""
        if all(old == new for old, new in renamed):
            return [old for old, _ in renamed]
        keys, clashes = distinct_keys(renamed)
        self.key_clashes += clashes
        return keys

    def notes(self) -> list[str]:
        """What the summary says about keys (counts only, never a key)."""
        out = []
        if self.keys_changed:
            out.append(f"{self.keys_changed} JSON or map keys held personal information and were redacted")
        if self.key_clashes:
            out.append(
                f"{self.key_clashes} redacted keys would have been equal to another key of the same "
                "object: they were numbered (' #2', ' #3', ...) so that no entry is lost"
            )
        return out

    def prefetch(self, texts: Iterable[str]) -> None:
        """Analyse the distinct ``texts`` together (replacing the previous batch)."""
        distinct = list(dict.fromkeys(t for t in texts if t and t.strip()))
        self._found = dict(zip(distinct, self._analyzer.analyze_many(distinct), strict=True))

    def __call__(self, value: str) -> str | None:
        return self._redact(value, frozenset())

    def for_column(self, name: str) -> Change:
        """The per-finding change for values of column ``name``: a version or build column
        (``app_version``, ``软件版本``) holds no IP addresses, whatever 1.2.3.4 looks like, and
        an order or waybill number column (``order_no``, ``运单号``) no bank cards."""
        skip = negated_by_name(name) - set(name_evidence(name))
        if skip:
            return lambda value: self._redact(value, skip)
        return self

    def _redact(self, value: str, skip: frozenset[str]) -> str | None:
        findings = self._found.get(value)
        if findings is None:
            findings = self._analyzer.analyze(value)
        if skip:
            findings = [f for f in findings if f.entity not in skip]
        redacted, count = redact_text(value, analyzer=self._analyzer, redactor=self._redactor, findings=findings)
        self._stats.findings += count
        return redacted


def _scalar_text(value: Any) -> str | None:
    """A scalar as the scan reads it (13812345678.0, a phone number exported through a float,
    is digits); None for what holds no text to redact: nulls, flags, bytes."""
    if value is None or isinstance(value, bool | bytes | bytearray | memoryview):
        return None
    return value_text(value) if isinstance(value, float) else str(value)


def _map_scalars(value: Any, change: Change, keys: _PerFinding) -> tuple[Any, int]:
    """``change`` applied to every scalar inside ``value``, ``keys`` to the keys of its objects
    and maps (finding by finding, whatever ``change`` is); unchanged values keep their type."""
    if _is_map(value):
        # The (key, value) entries of a Parquet map: keys can be personal information too.
        renamed: list[tuple[Any, Any]] = []
        items: list[Any] = []
        total = 0
        for k, v in value:
            new_key, _ = keys.key(k)
            new, count = _map_scalars(v, change, keys)
            renamed.append((k, new_key))
            items.append(new)
            total += count + (new_key != k)
        return list(zip(keys.distinct(renamed), items, strict=True)), total
    if isinstance(value, list):
        pairs = [_map_scalars(v, change, keys) for v in value]
        return [v for v, _ in pairs], sum(c for _, c in pairs)
    if isinstance(value, dict):
        renamed = []
        children = []
        total = 0
        for k, v in value.items():
            new_key, _ = keys.key(k)
            new, count = _map_scalars(v, change, keys)
            renamed.append((k, new_key))
            children.append(new)
            total += count + (new_key != k)
        return dict(zip(keys.distinct(renamed), children, strict=True)), total
    text = value if type(value) is str else _scalar_text(value)
    if not text:
        return value, 0  # a null, a flag or bytes hold no personal information to redact
    new = change(text)
    return (value, 0) if new == text else (new, 1)
