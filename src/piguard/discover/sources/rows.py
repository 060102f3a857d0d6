"""Users' CSV/TSV and JSONL exports read row by row, passing over the rows that are malformed.

Real exports are messy: one row with an unbalanced quote, a field too many, a stray NUL byte,
bytes that are not UTF-8 (a row pasted from a GBK system into a UTF-8 file). ``piguard scan``
must not lose a whole hospital export to one such row, so this reader (the scan's only; the
strict reader of ``interchange.tabular`` serves redaction and FORMATS.md files) reads every
line on its own: it is decoded as UTF-8 or, failing that, GB 18030 (a newline byte is never
part of a multi-byte character in either, so each line decodes alone); a line that is neither,
or holds a NUL byte, is noted in ``RowProblems`` and passed over. A CSV record continues over
the next lines only inside a quoted field; a record that then does not fit the header (a quote
opened and never closed swallows the lines after it) is passed over by its first line only,
and reading starts again at the line after it.

A file that is not a table at all is still one error (``DiscoveryError``): no header, no
readable row, or more malformed rows than good ones.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from piguard.discover.sources.base import RowProblems
from piguard.discover.sources.text import SNIFF_BYTES, vote_encoding
from piguard.errors import DiscoveryError

__all__ = ["csv_rows", "jsonl_rows", "sniff_delimiter", "table_encoding", "unique_names"]

# A quoted field longer than this many lines is a quote that was never closed.
MAX_RECORD_LINES = 500
# Leading records searched for the header (title rows above it are passed over).
_HEADER_SEARCH_ROWS = 10
# More NUL bytes than this share of the head is a binary file (or UTF-16 without a BOM),
# not a text export with a stray NUL in one row.
_MAX_NUL_SHARE = 0.01
_MAX_CONTROL_SHARE = 0.05
_CONTROL = frozenset(range(0, 32)) - {0, 9, 10, 12, 13, 27}
_NOT_TEXT = "not UTF-8 or GB 18030 text"


@dataclass(slots=True)
class _Line:
    number: int
    text: str | None  # None: the line could not be read (``reason`` says why)
    reason: str = ""


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile is a binary file object
    return path.open("rb")


def _read_head(path: Path) -> bytes:
    try:
        with _open_binary(path) as handle:
            return handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None


def _decode(raw: bytes) -> tuple[str | None, str]:
    """A line as text (UTF-8, else GB 18030), or None and why not."""
    if raw.isascii():
        text = raw.decode("ascii")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                return None, _NOT_TEXT
    if "\x00" in text:
        return None, "NUL byte in the row"
    return text, ""


def table_encoding(path: Path) -> str:
    """How to read a table file: ``utf-16`` or ``utf-8-sig`` (by BOM), else ``utf-8`` or
    ``gb18030``, whichever decodes more of the first lines (lines are decoded one by one
    anyway; this is the encoding a block sample uses).

    Raises ``DiscoveryError`` for binary content (many NUL bytes or control characters) and
    for text that is neither UTF-8 nor GB 18030 in most of its first lines; a few bad bytes
    or NULs in one row are the row's problem, not the file's.
    """
    head = _read_head(path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head and head.count(0) / len(head) > _MAX_NUL_SHARE:
        raise DiscoveryError("binary content (NUL bytes)")
    if head and sum(byte in _CONTROL for byte in head) / len(head) > _MAX_CONTROL_SHARE:
        raise DiscoveryError("binary content (control characters)")
    voted = vote_encoding(head)
    if voted is None:
        raise DiscoveryError("not text: neither UTF-8 nor GB 18030")
    return voted


def _lines(path: Path, encoding: str) -> Iterator[_Line]:
    """The physical lines of ``path`` (line endings kept), each decoded on its own."""
    try:
        if encoding == "utf-16":
            # Two bytes a character: lines cannot be cut as bytes. Read as one text stream.
            with io.TextIOWrapper(_open_binary(path), encoding="utf-16", newline="") as stream:
                for number, line in enumerate(stream, start=1):
                    yield _Line(number, line) if "\x00" not in line else _Line(number, None, "NUL byte in the row")
            return
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                text, reason = _decode(raw)
                yield _Line(number, text, reason)
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"not valid UTF-16 text ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None


# Delimiters a file named .csv may really use: Excel writes ";" where the decimal mark is a
# comma, and its "Unicode text" export (UTF-16, often renamed .csv) is tab-separated.
_DELIMITERS = (",", "\t", ";")
_SNIFF_LINES = 20


def sniff_delimiter(path: Path, *, encoding: str, default: str) -> str:
    """The delimiter of a CSV file: ``default`` unless its first lines hold none of it and
    another (tab, semicolon) as often in the first line as in most lines, as a table's rows
    and header do (Excel pads a title row with delimiters too)."""
    counts: dict[str, list[int]] = {d: [] for d in _DELIMITERS}
    for line in _lines(path, encoding):
        if line.text is not None and line.text.strip():
            for d in _DELIMITERS:
                counts[d].append(line.text.count(d))
        if len(counts[default]) >= _SNIFF_LINES or line.number > 4 * _SNIFF_LINES:
            break
    if not counts[default] or any(counts[default]):
        return default
    best, steady = default, 0
    for d in _DELIMITERS:
        seen = counts[d]
        common = max(set(seen), key=seen.count)
        share = seen.count(common)
        if common and share > steady and 2 * share >= len(seen) and seen[0] == common:
            best, steady = d, share
    return best


def _open_quote(text: str, delimiter: str, inside: bool) -> int | None:
    """Where the quoted field still open at the end of ``text`` was opened (-1: before the
    text, ``inside`` it from an earlier line), or None when no field is open; as Python's csv
    (excel dialect, not strict) reads it: a quote opens a field only at its start, ``""``
    inside one is a quote, and what follows the closing quote up to the delimiter is data."""
    if '"' not in text:
        return -1 if inside else None
    i, n, opened = 0, len(text), -1
    at_start = not inside
    while i < n:
        if inside:
            j = text.find('"', i)
            if j < 0:
                return opened
            if j + 1 < n and text[j + 1] == '"':
                i = j + 2  # an escaped quote
                continue
            inside, at_start, i = False, False, j + 1
        elif at_start and text[i] == '"':
            inside, opened, i = True, i, i + 1
        else:
            j = text.find(delimiter, i)
            if j < 0:
                return None
            at_start, i = True, j + 1
    return opened if inside else None


class _Records:
    """CSV records assembled from decoded lines, with bad lines noted and passed over.

    With ``width`` (the header's), a record must have that many fields; lines up to
    ``start_after`` (the header's last line) are not read again.
    """

    def __init__(
        self,
        lines: Iterator[_Line],
        delimiter: str,
        problems: RowProblems,
        *,
        width: int | None = None,
        start_after: int = 0,
    ) -> None:
        self._lines = lines
        self._pushed: deque[_Line] = deque()
        self._delimiter = delimiter
        self.problems = problems
        self.width = width
        self._start_after = start_after

    def _next_line(self) -> _Line | None:
        if self._pushed:
            return self._pushed.popleft()
        line = next(self._lines, None)
        while line is not None and line.number <= self._start_after:
            line = next(self._lines, None)
        return line

    def fits(self, fields: list[str]) -> bool:
        """Whether a record fits the header: no more cells than it has columns, once trailing
        empty cells are dropped (Excel pads rows with delimiters); a shorter row is read with
        its missing trailing cells empty, as csv.DictReader and pandas read it."""
        if self.width is None:
            return True
        while len(fields) > self.width and not fields[-1].strip():
            fields.pop()
        return len(fields) <= self.width

    def _multiline_ok(self, first: str, fields: list[str]) -> bool:
        """Whether a record over several lines is one row with a multi-line cell, not a quote
        left open that a later quote happened to close: it has every column, and its first
        line does not go on, after the opening quote, with a whole row's delimiters."""
        if self.width is None:
            return True
        if len(fields) != self.width:
            return False
        opened = _open_quote(first, self._delimiter, False)
        rest = first[opened + 1 :] if opened is not None else ""
        return self.width < 2 or rest.count(self._delimiter) < self.width - 1

    def next(self) -> tuple[int, int, list[str]] | None:
        """The next record that fits (its first and last line numbers, its fields), or None."""
        delimiter = self._delimiter
        while (first := self._next_line()) is not None:
            if first.text is None:
                self.problems.note(first.number, first.reason)
                continue
            record = [first]
            open_quote = _open_quote(first.text, delimiter, False) is not None
            while open_quote and len(record) < MAX_RECORD_LINES:
                line = self._next_line()
                if line is None:
                    break
                if line.text is None:
                    self._pushed.appendleft(line)
                    break
                record.append(line)
                open_quote = _open_quote(line.text, delimiter, True) is not None
            fields = _parse([line.text for line in record if line.text is not None], delimiter)
            if fields is not None and not any(f.strip() for f in fields):
                continue  # a blank line
            if (
                fields is not None
                and not open_quote
                and self.fits(fields)  # (drops trailing empty cells first)
                and (len(record) == 1 or self._multiline_ok(first.text, fields))
            ):
                return first.number, record[-1].number, fields
            if len(record) > 1 or open_quote:
                # A quote opened in the first line and not closed where the row ends: that
                # line is malformed, and the lines it swallowed are read again as rows.
                self._pushed.extendleft(reversed(record[1:]))
                self.problems.note(first.number, "unbalanced quote")
            elif fields is None:
                self.problems.note(first.number, "not a CSV row")
            else:
                self.problems.note(first.number, f"expected {self.width} columns, found {len(fields)}")
        return None


def _parse(texts: list[str], delimiter: str) -> list[str] | None:
    if len(texts) == 1:
        line = texts[0].rstrip("\r\n")
        if '"' not in line and "\r" not in line and "\n" not in line:
            return line.split(delimiter)
    try:
        return next(csv.reader(texts, delimiter=delimiter), [])
    except csv.Error:
        return None


def _filled(fields: list[str]) -> int:
    return sum(1 for f in fields if f.strip())


# Six digits in a row make a cell data (an ID, a phone number, a date), never a column name.
_DATA_CELL = re.compile(r"\d{6}")


def _is_title(row: list[str], below: list[str]) -> bool:
    """A title above the header (``死亡患者登记表,,,``) or a row of group labels over it: fewer
    cells filled than the row below, one only or at most half of them and no digits, and the
    row below has no cell of data (it is the header, not the first row of a table whose header
    leaves some columns unnamed)."""
    this, that = _filled(row), _filled(below)
    if this >= that or any(_DATA_CELL.search(f) for f in below):
        return False
    return this <= 1 or (2 * this <= that and not any(ch.isdigit() for f in row for ch in f))


def unique_names(fields: list[str]) -> list[str]:
    """Column names: trimmed, an unnamed one ``column_N`` and a repeated one numbered (``备注``,
    ``备注_2``): exports have both, and two columns must not become one."""
    names = [name.strip().lstrip("\ufeff").strip() for name in fields]
    out: list[str] = []
    seen: Counter[str] = Counter()
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        seen[base] += 1
        candidate = base if seen[base] == 1 else f"{base}_{seen[base]}"
        while candidate in out:
            seen[base] += 1
            candidate = f"{base}_{seen[base]}"
        out.append(candidate)
    return out


def csv_rows(path: Path, *, delimiter: str, encoding: str, problems: RowProblems) -> Iterator[dict[str, str]]:
    """The rows of a CSV/TSV file as dicts without empty cells; malformed rows noted and passed over.

    ``encoding`` is ``table_encoding(path)``. The header is the first record, unless title rows
    stand above it. Raises ``DiscoveryError`` (when the reading ends) for a file that is not a
    table: no header, a malformed line above it, or more malformed rows than good ones.
    """
    # Find the header first (a few records, any width), then read every row against it.
    scout = _Records(_lines(path, encoding), delimiter, RowProblems())
    lead: list[tuple[int, int, list[str]]] = []
    while len(lead) < _HEADER_SEARCH_ROWS and (record := scout.next()) is not None:
        lead.append(record)
    first_bad = scout.problems.named[0] if scout.problems.named else None
    if not lead:
        if first_bad is not None:
            raise DiscoveryError(f"malformed file at line {first_bad[0]}: {first_bad[1]}")
        raise DiscoveryError("empty file: a header row is required")
    skip = 0
    while skip + 1 < len(lead) and _is_title(lead[skip][2], lead[skip + 1][2]):
        skip += 1
    header_first, header_last, header_fields = lead[skip]
    if first_bad is not None and first_bad[0] < header_first:
        # Data read under a wrong header would be misnamed: the top of the file must be sound.
        raise DiscoveryError(f"malformed file at line {first_bad[0]}: {first_bad[1]} (above the header row)")
    # Unnamed columns are kept (``column_N``): Excel writes a trailing delimiter for a column
    # that holds data under no header.
    header = unique_names(header_fields)
    records = _Records(_lines(path, encoding), delimiter, problems, width=len(header), start_after=header_last)
    good = 0
    while (record := records.next()) is not None:
        good += 1
        yield {name: value for name, value in zip(header, record[2], strict=False) if value != ""}
    error = problems.error_if_most(good)
    if error is not None:
        raise error


def jsonl_rows(path: Path, *, encoding: str, problems: RowProblems) -> Iterator[dict[str, Any]]:
    """The objects of a JSONL file; a line that is not a JSON object is noted and passed over.

    Raises ``DiscoveryError`` (when the reading ends) if fewer lines were objects than not.
    """
    good = 0
    for line in _lines(path, encoding):
        if line.text is None:
            problems.note(line.number, line.reason)
            continue
        if not line.text.strip():
            continue
        try:
            obj = json.loads(line.text)
        except json.JSONDecodeError as exc:
            problems.note(line.number, f"invalid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            problems.note(line.number, "expected a JSON object")
            continue
        good += 1
        yield obj
    error = problems.error_if_most(good)
    if error is not None:
        raise error
