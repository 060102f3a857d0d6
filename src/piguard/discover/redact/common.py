"""What the redaction modules share: the statistics of one run and how rows are batched."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar

from piguard.discover.classify import ColumnClassification

__all__ = ["CHUNK_ROWS", "LINE_BATCH", "RedactStats", "batched", "ending"]

T = TypeVar("T")

# Lines of a text file analysed together.
LINE_BATCH = 256
# Rows analysed together by the name tagger while redacting a table.
CHUNK_ROWS = 256


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

    def reset_counts(self) -> None:
        """Zero the counters (a Parquet copy written again from the start)."""
        self.rows = self.findings = self.values_changed = 0


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ending(text: str) -> str:
    """The line ending at the end of ``text`` (CRLF, LF or none)."""
    return text[len(text.rstrip("\r\n")) :]
