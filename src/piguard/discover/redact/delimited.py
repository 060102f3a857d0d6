"""Redacting CSV/TSV files record by record, rows without PI written back byte for byte."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from piguard.discover.redact.common import CHUNK_ROWS, RedactStats, batched, ending
from piguard.discover.redact.policy import Change
from piguard.discover.redact.text import TextOut
from piguard.discover.redact.values import PerFinding
from piguard.discover.sources.rows import Record, RecordRole

__all__ = ["redact_csv"]


def redact_csv(
    records: Iterable[tuple[RecordRole, Record]],
    names: list[str],
    out: TextOut,
    *,
    delimiter: str,
    whole: dict[str, Change],
    other: PerFinding,
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
    for chunk in batched(records, CHUNK_ROWS):
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
            # A header cell is a column name (a child word in it is no finding); a title row is text.
            names_change: Change = other.name if role == "header" else other
            cell_changes: list[Change] = changes if row else [names_change] * len(record.fields)
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
            out.write(_written(buffer) + ending(record.lines[-1].text or ""))
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
