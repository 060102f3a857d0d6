"""What sources hand to the scanner: lines of text, samples of table columns, skipped inputs."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Generic, TypeVar

from piguard.errors import DiscoveryError

T = TypeVar("T")

DEFAULT_SAMPLE = 1000
# Fixed seed: the same file gives the same sample, so reports are reproducible.
SAMPLE_SEED = 20250301

# Normalised data types used as classification evidence. "integer" and "decimal" numbers are
# exact (a database's numeric(18) keeps every digit of an ID); a "float" holds 15-17 significant
# digits, and the digits of a longer integer stored in one are lost.
DTYPES = ("text", "integer", "decimal", "float", "boolean", "date", "datetime", "binary", "json", "unknown")
NUMBER_DTYPES = frozenset({"integer", "decimal", "float"})


@dataclass(slots=True)
class ColumnSample:
    """Non-empty sampled values of one column (as strings), its declared type and comment."""

    name: str
    dtype: str = "text"
    comment: str | None = None
    values: list[str] = field(default_factory=list)
    #: The JSON keys the name was made of (``("relative", "phone")`` for ``relative.phone``).
    path: tuple[str, ...] | None = None


#: Malformed rows named (line and reason) in a report; the rest are counted.
MAX_NAMED_ROWS = 10


@dataclass(slots=True)
class RowProblems:
    """Malformed rows passed over in one file: how many, and the first few (line, reason)."""

    count: int = 0
    named: list[tuple[int, str]] = field(default_factory=list)

    def note(self, line: int, reason: str) -> None:
        """Count one malformed row (the 1-based physical line where it starts)."""
        self.count += 1
        if len(self.named) < MAX_NAMED_ROWS:
            self.named.append((line, reason))

    def error_if_most(self, good: int) -> DiscoveryError | None:
        """The error for a file that is not what it claims: no good row, or fewer good rows
        than malformed ones (``malformed file at line 3: reason; 50 of 60 rows malformed``);
        None when the malformed rows are the exception."""
        if not self.count or self.count <= good:
            return None
        line, reason = self.named[0]
        more = f"; {self.count} of {good + self.count} rows malformed" if self.count > 1 else ""
        return DiscoveryError(f"malformed file at line {line}: {reason}{more}")


@dataclass(frozen=True, slots=True)
class SkippedRows:
    """Malformed rows of one table file that were passed over while the rest was scanned:
    how many, and the first few as (1-based line, reason)."""

    source: str
    table: str
    count: int
    lines: tuple[tuple[int, str], ...]


@dataclass(slots=True)
class TableSample:
    """A row sample of one table: the columns in table order."""

    source: str
    table: str
    columns: list[ColumnSample]
    rows_sampled: int
    rows_total: int | None
    #: Malformed rows passed over (a scan of a CSV/TSV/JSONL file); None when there were none.
    skipped_rows: SkippedRows | None = None
    #: Where the column names come from: ``header`` (a CSV/TSV header or a sheet's first row,
    #: which may be a data row), ``keys`` (JSON keys, which may be data) or ``schema``.
    names: str = "schema"
    #: The header row's cells as written (a ``header`` table read in full), else None.
    header: tuple[str, ...] | None = None
    #: Title rows above a CSV header, as (1-based line, text): scanned as free text.
    titles: tuple[tuple[int, str], ...] = ()
    #: The "header" held personal information: it was read as the first data row.
    headerless: bool = False
    #: What the report should say about the table (never a value from it).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that was not scanned and why; ``error`` marks unreadable or malformed input."""

    source: str
    reason: str
    error: bool


class Reservoir(Generic[T]):
    """Uniform sample of at most ``size`` items from a stream (Li's algorithm L, few RNG calls)."""

    def __init__(self, size: int, *, seed: int = SAMPLE_SEED) -> None:
        if size < 1:
            raise ValueError("sample size must be >= 1")
        self.size = size
        self.items: list[T] = []
        self.seen = 0
        self._rng = random.Random(seed)
        self._w = 1.0
        self._next = 0

    def _advance(self) -> None:
        import math

        self._w *= math.exp(math.log(self._rng.random() or 1e-300) / self.size)
        gap = math.floor(math.log(self._rng.random() or 1e-300) / math.log1p(-self._w))
        self._next = self.seen + gap

    def add_all(self, stream: Iterable[T]) -> None:
        """Offer every item of ``stream``."""
        for item in stream:
            self.add(item)

    def add(self, item: T) -> None:
        """Offer one item."""
        if self.seen < self.size:
            self.items.append(item)
            self.seen += 1
            if self.seen == self.size:
                self._advance()
            return
        if self.seen == self._next:
            self.items[self._rng.randrange(self.size)] = item
            self.seen += 1
            self._advance()
            return
        self.seen += 1


def value_dtype(value: Any) -> str | None:
    """The normalised data type of one Python value; None for one that tells nothing (a null,
    an empty array). An array's type is its items' (a PostgreSQL ``text[]`` is text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary"
    if isinstance(value, list | tuple):
        kind = None
        for item in value:
            item_kind = value_dtype(item)
            if item_kind is not None:
                kind = merge_dtype(kind, item_kind)
        return kind
    if isinstance(value, dict):
        return "json"
    if isinstance(value, str):
        return "text"
    return "unknown"


# Floats that are integers below this are written as digits (an ID or a card number typed
# into a spreadsheet cell), larger ones in scientific notation.
_MAX_DIGITS_FLOAT = 1e20
_EXACT_FLOAT = 2.0**53


def value_text(value: Any) -> str | None:
    """A sampled value as text for the validators; None for empty or binary values.

    Whole numbers are digits whatever their type (``13812345678.0`` and ``Decimal("13812345678")``
    read ``13812345678``); an array's items are joined by ``"; "`` (``value_texts`` gives them one
    by one) and an object is JSON text, never Python's repr.
    """
    if value is None or isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_DIGITS_FLOAT:
        # Spreadsheets store phone numbers as floats; 13812345678.0 must read as digits.
        if abs(value) < _EXACT_FLOAT:
            return str(int(value))
        # Beyond 2**53 a float's last digits are binary noise, and a spreadsheet kept only 15
        # significant digits anyway: write them as it shows them (310112195603211000).
        mantissa, _, exponent = f"{value:.14e}".partition("e")
        return mantissa.replace(".", "") + "0" * (int(exponent) - 14)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        # Exact: numeric(13,2) holding 13812345678.00 is the number 13812345678, every digit kept.
        return str(int(value))
    if isinstance(value, list | tuple):
        return "; ".join(value_texts(value)) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str) or None
    text = str(value).strip()
    return text or None


def value_texts(value: Any) -> list[str]:
    """The texts of one sampled value: one for a scalar, one per item for an array (a PostgreSQL
    ``text[]`` of phone numbers holds several values, each classified as a value); nested
    arrays are flattened, empty items left out."""
    if isinstance(value, list | tuple):
        return [text for item in value for text in value_texts(item)]
    text = value_text(value)
    return [] if text is None else [text]


def merge_dtype(current: str | None, new: str) -> str:
    """Combine the types seen in one column: equal stays, numbers give the least exact of them
    (int+float is float, int+decimal decimal), date+datetime is datetime, else text."""
    if current is None or current == new:
        return new
    if {current, new} <= NUMBER_DTYPES:
        return "float" if "float" in (current, new) else "decimal"
    if {current, new} == {"date", "datetime"}:
        return "datetime"
    return "text"


def columns_from_rows(
    rows: Iterator[dict[str, Any]], *, sample: int, infer_types: bool
) -> tuple[list[ColumnSample], int, int]:
    """Reservoir-sample rows and split them into columns; returns (columns, sampled, total)."""
    reservoir: Reservoir[dict[str, Any]] = Reservoir(sample)
    order: dict[str, None] = {}
    for row in rows:
        reservoir.add(row)
        if len(order) < 4096:
            # Column names come from every row (JSON rows may omit keys), not only sampled ones.
            for key in row:
                if key not in order:
                    order[key] = None
    types: dict[str, str | None] = dict.fromkeys(order)
    values: dict[str, list[str]] = {name: [] for name in order}
    for row in reservoir.items:
        for key, raw in row.items():
            if key not in values:
                continue
            kind = value_dtype(raw) if infer_types else None
            if kind is not None:
                types[key] = merge_dtype(types[key], kind)
            values[key].extend(value_texts(raw))
    columns = [
        ColumnSample(name=name, dtype=(types[name] or "text") if infer_types else "text", values=values[name])
        for name in order
    ]
    return columns, len(reservoir.items), reservoir.seen
