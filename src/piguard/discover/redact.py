"""Redaction: mask what discovery finds, keeping the file's format, row order and columns.

Text is redacted per finding. Tables are column-aware: the columns are classified on a
sample first; a column that *is* an entity is transformed whole (every value, also the
ones a validator would miss, such as a mistyped phone number); a free-text column is
redacted per finding; other columns pass through untouched. Output is written to a
temporary file beside OUT and renamed into place, so a failure leaves no partial file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import DEFAULT_MIN_CONFIDENCE, ColumnClassification, classify_table
from piguard.discover.findings import Finding
from piguard.discover.sources import DEFAULT_SAMPLE, sample_table_file, sniff_encoding
from piguard.discover.sources.base import value_text
from piguard.discover.sources.tables import EXCEL_SUFFIXES, TABULAR_SUFFIXES
from piguard.errors import ConfigError, DiscoveryError, InputError, InterchangeError
from piguard.ids import new_id
from piguard.interchange import tabular
from piguard.minimize.operators import hash_value, mask, mask_email, pseudonymize

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
    """What a redaction changed."""

    rows: int = 0
    findings: int = 0
    values_changed: int = 0
    columns: list[ColumnClassification] = field(default_factory=list)


def redact_file(
    source: Path,
    target: Path,
    *,
    analyzer: Analyzer,
    redactor: Redactor,
    sample: int = DEFAULT_SAMPLE,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> RedactStats:
    """Redact ``source`` into ``target`` (same format); raises ``InputError`` for bad input."""
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
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".piguard-tmp-{new_id()}-{target.name}")
    try:
        if tabular_input:
            stats = _redact_table(
                source, temp, analyzer=analyzer, redactor=redactor, sample=sample, min_confidence=min_confidence
            )
        else:
            stats = _redact_text_file(source, temp, analyzer=analyzer, redactor=redactor)
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


def _redact_text_file(source: Path, temp: Path, *, analyzer: Analyzer, redactor: Redactor) -> RedactStats:
    stats = RedactStats()
    encoding = sniff_encoding(source)
    try:
        with (
            source.open("r", encoding=encoding, newline="") as fin,
            temp.open("w", encoding=encoding, newline="") as out,
        ):
            while True:
                # Batches of lines: the PERSON tagger runs them together.
                lines = list(islice(fin, _LINE_BATCH))
                if not lines:
                    break
                # Keep each line's own ending: CRLF stays CRLF, a missing final newline stays so.
                bodies = [line.rstrip("\r\n") for line in lines]
                for line, body, found in zip(lines, bodies, analyzer.analyze_many(bodies), strict=True):
                    redacted, count = redact_text(body, analyzer=analyzer, redactor=redactor, findings=found)
                    stats.rows += 1
                    stats.findings += count
                    stats.values_changed += count
                    out.write(redacted + line[len(body) :])
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"not valid {encoding} text ({exc.reason})") from None
    return stats


def _redact_table(
    source: Path, temp: Path, *, analyzer: Analyzer, redactor: Redactor, sample: int, min_confidence: float
) -> RedactStats:
    stats = RedactStats()
    for table in sample_table_file(source, source=str(source), sample=sample):
        stats.columns.extend(classify_table(table, analyzer=analyzer, min_confidence=min_confidence))
    whole: dict[str, Change] = {}
    for col in stats.columns:
        if col.kind == "values":
            whole[col.column] = _whole(redactor, col.entity)
    # Every other value is redacted per finding, not only the columns the sample flagged: one
    # phone number in row 2500 of a remarks column the sample missed must not stay in clear.
    other = _PerFinding(redactor, analyzer, stats)
    fmt = tabular.file_format(source)
    if fmt in tabular.DELIMITERS:
        _redact_csv(source, temp, delimiter=tabular.DELIMITERS[fmt], whole=whole, other=other, stats=stats)
    elif fmt == "parquet":
        _redact_parquet(source, temp, whole=whole, other=other, stats=stats)
    else:
        _redact_json(source, temp, jsonl=fmt == "jsonl", whole=whole, other=other, stats=stats)
    return stats


def _open_binary(path: Path, mode: str) -> IO[bytes]:
    return gzip.open(path, mode) if path.name.lower().endswith(".gz") else path.open(mode)  # type: ignore[return-value]


def _redact_csv(
    source: Path, temp: Path, *, delimiter: str, whole: dict[str, Change], other: _PerFinding, stats: RedactStats
) -> None:
    """CSV/TSV row by row: blank rows, header, BOM and line endings stay as they were."""
    with _open_binary(source, "rb") as raw:
        head = raw.read(65536)
    bom = head.startswith(codecs.BOM_UTF8)
    ending = "\r\n" if b"\r\n" in head.split(b"\n", 1)[0] + b"\n" else "\n"
    try:
        with (
            _open_binary(source, "rb") as raw_in,
            io.TextIOWrapper(raw_in, encoding="utf-8-sig", newline="") as fin,
            _open_binary(temp, "wb") as raw_out,
            io.TextIOWrapper(raw_out, encoding="utf-8-sig" if bom else "utf-8", newline="") as out,
        ):
            reader = csv.reader(fin, delimiter=delimiter)
            writer = csv.writer(out, delimiter=delimiter, lineterminator=ending)
            header = next(reader, None)
            if header is None:
                return
            writer.writerow(header)
            names = [name.strip() for name in header]
            changes = [whole.get(name, other) for name in names]
            numbered = ((reader.line_num, values) for values in reader)
            while chunk := list(islice(numbered, _CHUNK_ROWS)):
                # One batch for the name tagger: the values no whole-column rule covers.
                other.prefetch(v for _, values in chunk for v, c in zip(values, changes, strict=False) if c is other)
                for line, values in chunk:
                    if values and len(values) != len(names):
                        raise InputError(
                            f"malformed file at line {line}: expected {len(names)} columns, found {len(values)}",
                            where=str(source),
                        )
                    stats.rows += 1
                    row = []
                    for value, change in zip(values, changes, strict=False):
                        new, count = _map_scalars(value, change) if value else (value, 0)
                        stats.values_changed += count
                        row.append("" if new is None else new)
                    writer.writerow(row)
    except UnicodeDecodeError:
        raise InputError(
            "not UTF-8 text: tables are redacted in UTF-8 only; convert it first (iconv -f GB18030 -t UTF-8)",
            where=str(source),
        ) from None


def _redact_json(
    source: Path, temp: Path, *, jsonl: bool, whole: dict[str, Change], other: Change, stats: RedactStats
) -> None:
    """JSON array or JSONL: keys, their order, nulls and the types of untouched values kept."""
    with _open_binary(temp, "wb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
        items = []
        for row in tabular.read_rows(source):
            stats.rows += 1
            data, count = _redact_value(row.data, "", whole, other)
            stats.values_changed += count
            if jsonl:
                out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
            else:
                items.append(data)
        if not jsonl:
            json.dump(items, out, ensure_ascii=False)


def _redact_parquet(
    source: Path, temp: Path, *, whole: dict[str, Change], other: _PerFinding, stats: RedactStats
) -> None:
    """Parquet column by column: untouched columns keep their type, changed ones where they can."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(source)
    except Exception:  # pyarrow raises several unrelated types for a bad file
        raise InterchangeError("not a readable Parquet file", where=str(source)) from None
    stats.rows = table.num_rows
    arrays = []
    for field_, column in zip(table.schema, table.columns, strict=True):
        changed = 0
        values = []
        column_values = column.to_pylist()
        for start in range(0, len(column_values), _CHUNK_ROWS):
            if field_.name not in whole:
                other.prefetch(v for v in column_values[start : start + _CHUNK_ROWS] if isinstance(v, str))
            for value in column_values[start : start + _CHUNK_ROWS]:
                new, count = _redact_value(value, field_.name, whole, other)
                changed += count
                values.append(new)
        stats.values_changed += changed
        if not changed:
            arrays.append(column)
            continue
        try:
            # Removed values are nulls of the old type; masked numbers become text.
            arrays.append(pa.array(values, type=field_.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            arrays.append(pa.array(values))
    pq.write_table(pa.table(arrays, names=table.column_names), temp)


def _redact_value(value: Any, path: str, whole: dict[str, Change], other: Change) -> tuple[Any, int]:
    """Redact a JSON value at a dotted path: whole columns by their entity, the rest per finding."""
    if path in whole:
        return _map_scalars(value, whole[path])
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        total = 0
        for key, child in value.items():
            out[key], count = _redact_value(child, f"{path}.{key}" if path else key, whole, other)
            total += count
        return out, total
    return _map_scalars(value, other)


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

    def prefetch(self, texts: Iterable[str]) -> None:
        """Analyse the distinct ``texts`` together (replacing the previous batch)."""
        distinct = list(dict.fromkeys(t for t in texts if t))
        self._found = dict(zip(distinct, self._analyzer.analyze_many(distinct), strict=True))

    def __call__(self, value: str) -> str | None:
        findings = self._found.get(value)
        redacted, count = redact_text(value, analyzer=self._analyzer, redactor=self._redactor, findings=findings)
        self._stats.findings += count
        return redacted


def _map_scalars(value: Any, change: Change) -> tuple[Any, int]:
    """``change`` applied to every scalar inside ``value``; unchanged values keep their type."""
    if value is None or isinstance(value, bool):
        return value, 0  # a flag holds no personal information
    if isinstance(value, list):
        items = [_map_scalars(v, change) for v in value]
        return [v for v, _ in items], sum(c for _, c in items)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        total = 0
        for k, v in value.items():
            out[k], count = _map_scalars(v, change)
            total += count
        return out, total
    # As the scan read it: 13812345678.0 (a phone number exported through a float) is digits.
    text = value_text(value) if isinstance(value, float) else str(value)
    if not text:
        return value, 0
    new = change(text)
    return (value, 0) if new == text else (new, 1)
