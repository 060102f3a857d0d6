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

Redaction reads with the same rules but strictly (``csv_records(strict=True)``): it must
write every row back, so the first malformed row ends the reading with its line and reason,
and every record comes back in file order (title rows, the header, blank lines) with the
lines it was read from and how each was decoded, so that the copy keeps them.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

from piguard.discover.sources.base import RowProblems
from piguard.discover.sources.text import SNIFF_BYTES, bomless_utf16, chinese_utf16, utf8_head, vote_encoding
from piguard.errors import DiscoveryError
from piguard.interchange.tabular import UNIQUE_KEYS, RepeatedKeyError

__all__ = [
    "MAX_JSON_ITEM_CHARS",
    "CsvHead",
    "Line",
    "Record",
    "csv_records",
    "csv_rows",
    "decoded_lines",
    "json_array_items",
    "jsonl_rows",
    "read_head",
    "sniff_delimiter",
    "table_encoding",
    "text_codec",
    "unique_names",
]

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
class Line:
    """One physical line, its line ending kept, and how it was decoded (``codec``: ``ascii``,
    ``utf-8``, ``gb18030`` or ``utf-16``); ``text`` is None when it could not be (``reason``)."""

    number: int
    text: str | None
    reason: str = ""
    codec: str = ""


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile is a binary file object
    return path.open("rb")


def read_head(path: Path) -> bytes:
    """The first bytes of ``path`` (decompressed for ``.gz``), as the encoding is judged on."""
    try:
        with _open_binary(path) as handle:
            return handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None


_OTHER = {"utf-8": "gb18030", "gb18030": "utf-8"}


def _decode(raw: bytes, *, nul_ok: bool = False, prefer: str = "utf-8") -> tuple[str | None, str, str]:
    """A line as text (``prefer``, else the other of UTF-8 and GB 18030) and the codec that
    read it, or None and why not."""
    if raw.isascii():
        text, codec = raw.decode("ascii"), "ascii"
    else:
        try:
            text, codec = raw.decode(prefer), prefer
            if prefer == "gb18030":
                text, codec = _pasted_utf8(raw, text)
        except UnicodeDecodeError:
            try:
                codec = _OTHER[prefer]
                text = raw.decode(codec)
            except UnicodeDecodeError:
                return None, _NOT_TEXT, ""
    if not nul_ok and "\x00" in text:
        return None, "NUL byte in the row", codec
    return text, "", codec


def _uncommon(text: str) -> int:
    """Characters outside GB 2312 (the common set): few in real text, many in mojibake."""
    return text.encode("gb2312", errors="replace").count(b"?") - text.count("?")


def _pasted_utf8(raw: bytes, as_gb: str) -> tuple[str, str]:
    """A GB 18030 file's line that is valid UTF-8 too: the reading with fewer uncommon characters.

    UTF-8 Chinese read as GB 18030 is a run of rare characters (`王芳` becomes `鐜嬭姵`); a
    short GBK line read as UTF-8 is common Cyrillic or Greek (`小` becomes `С`), a tie that the
    file's own encoding wins. Only GB 18030 files pay for this: UTF-8 rarely decodes there.
    """
    try:
        as_utf8 = raw.decode("utf-8")
    except UnicodeDecodeError:
        return as_gb, "gb18030"
    return (as_utf8, "utf-8") if _uncommon(as_utf8) < _uncommon(as_gb) else (as_gb, "gb18030")


def text_codec(path: Path, encoding: str) -> str:
    """The encoding a copy of ``path`` is written in: ``encoding`` as judged on the head
    (``table_encoding`` or ``sniff_encoding``), unless that head is ASCII and says nothing:
    then the first lines that are not ASCII decide (UTF-8 or GB 18030), wherever they are."""
    if encoding not in _OTHER or not read_head(path).isascii():
        return encoding
    try:
        with _open_binary(path) as handle:
            while chunk := handle.read(1 << 20):
                found = _NON_ASCII.search(chunk)
                if found is None:
                    continue
                start = chunk.rfind(b"\n", 0, found.start()) + 1
                window = chunk[start:] + handle.read(SNIFF_BYTES)
                return vote_encoding(window[:SNIFF_BYTES]) or encoding
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None
    return encoding


_NON_ASCII = re.compile(b"[\x80-\xff]")


def table_encoding(path: Path) -> str:
    """How to read a table file: ``utf-16`` or ``utf-8-sig`` (by BOM), else ``utf-8`` or
    ``gb18030``, whichever decodes more of the first lines (lines are decoded one by one
    anyway; this is the encoding a block sample uses).

    Raises ``DiscoveryError`` for binary content (many NUL bytes or control characters) and
    for text that is neither UTF-8 nor GB 18030 in most of its first lines; a few bad bytes
    or NULs in one row are the row's problem, not the file's.
    """
    head = read_head(path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head and head.count(0) / len(head) > _MAX_NUL_SHARE:
        utf16 = bomless_utf16(head)
        if utf16 is not None:
            return utf16
        raise DiscoveryError("binary content (NUL bytes)")
    if not head.isascii() and not utf8_head(head):
        # Chinese cells in UTF-16 have few NULs or none (see ``chinese_utf16``).
        utf16 = chinese_utf16(head)
        if utf16 is not None:
            return utf16
    if head and sum(byte in _CONTROL for byte in head) / len(head) > _MAX_CONTROL_SHARE:
        raise DiscoveryError("binary content (control characters)")
    voted = vote_encoding(head)
    if voted is None:
        raise DiscoveryError("not text: neither UTF-8 nor GB 18030")
    return voted


def decoded_lines(path: Path, encoding: str, *, nul_ok: bool = False, prefer: str | None = None) -> Iterator[Line]:
    """The physical lines of ``path`` (line endings kept, a UTF-8 BOM dropped), each decoded on
    its own: ``prefer`` (by default the file's own ``encoding`` when that is UTF-8 or GB 18030),
    else the other of the two (``utf-16`` is read as one text stream). A line holding a NUL
    byte is unreadable unless ``nul_ok`` (plain text).

    The file's encoding goes first because a short GBK line can also be valid UTF-8 (other
    characters: `小` would read as `С`); a line pasted from the other system falls back."""
    if prefer is None:
        prefer = encoding if encoding in _OTHER else "utf-8"
    try:
        if encoding.startswith("utf-16"):
            # Two bytes a character: lines cannot be cut as bytes. Read as one text stream.
            with io.TextIOWrapper(_open_binary(path), encoding=encoding, newline="") as stream:
                for number, line in enumerate(stream, start=1):
                    if not nul_ok and "\x00" in line:
                        yield Line(number, None, "NUL byte in the row")
                    else:
                        yield Line(number, line, codec=encoding)
            return
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                text, reason, codec = _decode(raw, nul_ok=nul_ok, prefer=prefer)
                yield Line(number, text, reason, codec)
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"not valid UTF-16 text ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None


# Delimiters a file named .csv may really use: Excel writes ";" where the decimal mark is a
# comma, and its "Unicode text" export (UTF-16, often renamed .csv) is tab-separated.
_DELIMITERS = (",", "\t", ";")
_SNIFF_LINES = 20
_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def sniff_delimiter(path: Path, *, encoding: str, default: str) -> str:
    """The delimiter of a CSV file: ``default`` unless its first lines hold none of it and
    another (tab, semicolon) as often in the first line as in most lines, as a table's rows
    and header do (Excel pads a title row with delimiters too)."""
    counts: dict[str, list[int]] = {d: [] for d in _DELIMITERS}
    for line in decoded_lines(path, encoding):
        if line.text is not None and line.text.strip():
            text = _QUOTED.sub("", line.text)  # a delimiter inside a quoted field is data
            for d in _DELIMITERS:
                counts[d].append(text.count(d))
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


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: its first and last physical line numbers, its fields, and the lines it
    was read from (a quoted field may span lines); a blank line has ``blank`` set."""

    first: int
    last: int
    fields: list[str]
    lines: tuple[Line, ...]
    blank: bool = False

    @property
    def text(self) -> str:
        """The record as it stood in the file, line endings included."""
        return "".join(line.text or "" for line in self.lines)


def _trimmed(fields: list[str], width: int) -> int:
    """How many cells a record has once trailing empty cells beyond ``width`` are dropped."""
    n = len(fields)
    while n > width and not fields[n - 1].strip():
        n -= 1
    return n


class _Records:
    """CSV records assembled from decoded lines, with bad lines noted and passed over.

    With ``width`` (the header's), a record must have that many fields; lines up to
    ``start_after`` (the header's last line) are not read again. ``strict`` (redaction) reads
    as Python's csv module does: a record over several lines is taken when it has every
    column, without the scan's guess that it is a quote left open. ``keep_blank`` returns
    blank lines too, as records with ``blank`` set.
    """

    def __init__(
        self,
        lines: Iterator[Line],
        delimiter: str,
        problems: RowProblems,
        *,
        width: int | None = None,
        start_after: int = 0,
        strict: bool = False,
        keep_blank: bool = False,
    ) -> None:
        self._lines = lines
        self._pushed: deque[Line] = deque()
        self._delimiter = delimiter
        self.problems = problems
        self.width = width
        self._start_after = start_after
        self._strict = strict
        self._keep_blank = keep_blank

    def _next_line(self) -> Line | None:
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
        return self.width is None or _trimmed(fields, self.width) <= self.width

    def _multiline_ok(self, first: str, fields: list[str]) -> bool:
        """Whether a record over several lines is one row with a multi-line cell, not a quote
        left open that a later quote happened to close: it has every column, and (unless
        ``strict``) its first line does not go on, after the opening quote, with a whole row's
        delimiters."""
        if self.width is None:
            return True
        if len(fields) < self.width or _trimmed(fields, self.width) != self.width:
            return False
        if self._strict:
            return True
        opened = _open_quote(first, self._delimiter, False)
        rest = first[opened + 1 :] if opened is not None else ""
        return self.width < 2 or rest.count(self._delimiter) < self.width - 1

    def next(self) -> Record | None:
        """The next record that fits, or None at the end."""
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
                if self._keep_blank:
                    return Record(first.number, record[-1].number, fields, tuple(record), blank=True)
                continue  # a blank line
            if (
                fields is not None
                and not open_quote
                and self.fits(fields)
                and (len(record) == 1 or self._multiline_ok(first.text, fields))
            ):
                return Record(first.number, record[-1].number, fields, tuple(record))
            if len(record) > 1 or open_quote:
                # A quote opened in the first line and not closed where the row ends: that
                # line is malformed, and the lines it swallowed are read again as rows.
                self._pushed.extendleft(reversed(record[1:]))
                self.problems.note(first.number, "unbalanced quote")
            elif fields is None:
                self.problems.note(first.number, "not a CSV row")
            else:
                found = _trimmed(fields, self.width or len(fields))
                self.problems.note(first.number, f"expected {self.width} columns, found {found}")
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


@dataclass(slots=True)
class CsvHead:
    """What ``csv_rows`` read above the rows: the header's cells as written, and the title
    rows above it as (1-based line, the line's text without its ending)."""

    fields: list[str] = field(default_factory=list)
    titles: list[tuple[int, str]] = field(default_factory=list)


def csv_rows(
    path: Path, *, delimiter: str, encoding: str, problems: RowProblems, head: CsvHead | None = None
) -> Iterator[dict[str, str]]:
    """The rows of a CSV/TSV file as dicts without empty cells; malformed rows noted and passed over.

    ``encoding`` is ``table_encoding(path)``. The header is the first record, unless title rows
    stand above it; ``head``, if given, receives the header's cells and the title rows. Raises
    ``DiscoveryError`` (when the reading ends) for a file that is not a table: no header, a
    malformed line above it, or more malformed rows than good ones.
    """
    header, lead, skip = _find_header(path, delimiter=delimiter, encoding=encoding)
    if head is not None:
        head.fields = list(lead[skip].fields)
        head.titles = [(r.first, r.text.rstrip("\r\n")) for r in lead[:skip] if not r.blank]
    header_last = lead[skip].last
    records = _Records(decoded_lines(path, encoding), delimiter, problems, width=len(header), start_after=header_last)
    good = 0
    while (record := records.next()) is not None:
        good += 1
        yield {name: value for name, value in zip(header, record.fields, strict=False) if value != ""}
    error = problems.error_if_most(good)
    if error is not None:
        raise error


def _find_header(
    path: Path, *, delimiter: str, encoding: str, prefer: str = "utf-8"
) -> tuple[list[str], list[Record], int]:
    """The column names, the leading records read to find them (blank lines included) and the
    index of the header among them; raises ``DiscoveryError`` for no header or a malformed
    line above it."""
    # A few records of any width; title rows above the header are passed over.
    scout = _Records(decoded_lines(path, encoding, prefer=prefer), delimiter, RowProblems(), keep_blank=True)
    lead: list[Record] = []
    filled: list[int] = []  # indexes of the records that are not blank lines
    while len(filled) < _HEADER_SEARCH_ROWS and (record := scout.next()) is not None:
        if not record.blank:
            filled.append(len(lead))
        lead.append(record)
    first_bad = scout.problems.named[0] if scout.problems.named else None
    if not filled:
        if first_bad is not None:
            raise DiscoveryError(f"malformed file at line {first_bad[0]}: {first_bad[1]}")
        raise DiscoveryError("empty file: a header row is required")
    skip = 0
    while skip + 1 < len(filled) and _is_title(lead[filled[skip]].fields, lead[filled[skip + 1]].fields):
        skip += 1
    header = lead[filled[skip]]
    if first_bad is not None and first_bad[0] < header.first:
        # Data read under a wrong header would be misnamed: the top of the file must be sound.
        raise DiscoveryError(f"malformed file at line {first_bad[0]}: {first_bad[1]} (above the header row)")
    # Unnamed columns are kept (``column_N``): Excel writes a trailing delimiter for a column
    # that holds data under no header.
    return unique_names(header.fields), lead[: filled[skip] + 1], filled[skip]


class _Strict(RowProblems):
    """Problems that end the reading at the first one (redaction)."""

    def note(self, line: int, reason: str) -> None:
        raise DiscoveryError(f"malformed file at line {line}: {reason}")


RecordRole = Literal["title", "header", "row", "blank"]


def csv_records(
    path: Path, *, delimiter: str, encoding: str, prefer: str = "utf-8"
) -> tuple[list[str], Iterator[tuple[RecordRole, Record]]]:
    """Every record of a CSV/TSV file in file order, for a copy that keeps them all: the
    column names, and (role, record) pairs: title rows above the header, the header, rows and
    blank lines. Strict: the first malformed row or undecodable line raises ``DiscoveryError``
    (``malformed file at line 7: expected 4 columns, found 5``); rows are read as by
    ``csv_rows`` otherwise (title rows, short rows, trailing empty cells, UTF-8 or GB 18030
    lines, the one named ``prefer`` tried first)."""
    header, lead, index = _find_header(path, delimiter=delimiter, encoding=encoding, prefer=prefer)

    def records() -> Iterator[tuple[RecordRole, Record]]:
        for i, lead_record in enumerate(lead):
            yield ("blank" if lead_record.blank else "title" if i < index else "header"), lead_record
        rest = _Records(
            decoded_lines(path, encoding, prefer=prefer),
            delimiter,
            _Strict(),
            width=len(header),
            start_after=lead[index].last,
            strict=True,
            keep_blank=True,
        )
        while (record := rest.next()) is not None:
            yield ("blank" if record.blank else "row"), record

    return header, records()


def _repeated_key(exc: RepeatedKeyError) -> str:
    """Why an object is malformed: a key named twice (cut to keep the message one line).

    A key with a digit or an ``@`` may itself be personal information (a phone number used as a
    key): it is shown masked to its last four characters, as the default redaction shows values.
    """
    key = exc.key
    if any(char.isdigit() or char == "@" for char in key):
        key = "*" * max(len(key) - 4, 0) + key[-4:]
    key = key if len(key) <= 64 else key[:61] + "..."
    return f"key '{key}' appears more than once in one object (which value is meant is unknown)"


def jsonl_rows(path: Path, *, encoding: str, problems: RowProblems) -> Iterator[dict[str, Any]]:
    """The objects of a JSONL file; a line that is not a JSON object is noted and passed over.

    Raises ``DiscoveryError`` (when the reading ends) if fewer lines were objects than not.
    """
    good = 0
    for line in decoded_lines(path, encoding):
        if line.text is None:
            problems.note(line.number, line.reason)
            continue
        if not line.text.strip():
            continue
        try:
            obj = UNIQUE_KEYS.decode(line.text)
        except RepeatedKeyError as exc:
            problems.note(line.number, _repeated_key(exc))
            continue
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


#: One item of a JSON array larger than this (in characters) is refused: items are read one
#: at a time, so this bounds the memory a JSON array takes, whatever its length.
MAX_JSON_ITEM_CHARS = 64 * 1024 * 1024
_JSON_READ_CHARS = 1 << 16
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
# An item cut where the buffer ends fails within this many characters of the end (a number,
# a literal, an escape), or as a string left open; any other failure is invalid JSON.
_JSON_CUT_MARGIN = 16


def json_array_items(
    path: Path, *, encoding: str, max_item_chars: int = MAX_JSON_ITEM_CHARS
) -> Iterator[dict[str, Any]]:
    """The objects of a JSON array, read one item at a time (never the whole file at once).

    Raises ``DiscoveryError``: ``malformed file at line 3: invalid JSON (…)``, ``expected a
    JSON array of objects``, ``malformed file at item 4: expected a JSON object``, or an item
    larger than ``MAX_JSON_ITEM_CHARS``.
    """
    decoder = UNIQUE_KEYS
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # Windows tools start UTF-8 files with a byte order mark
    try:
        with io.TextIOWrapper(_open_binary(path), encoding=encoding, newline="") as stream:
            buffer, pos, lines_before, eof = "", 0, 0, False

            def more() -> bool:
                """Read on (keeping ``buffer[pos:]``); False at the end of the file."""
                nonlocal buffer, pos, lines_before, eof
                if eof:
                    return False
                lines_before += buffer.count("\n", 0, pos)
                kept = buffer[pos:]
                chunk = stream.read(max(_JSON_READ_CHARS, len(kept)))  # doubling: linear overall
                eof = not chunk
                buffer, pos = kept + chunk, 0
                return not eof

            def skip_space() -> str:
                """The next character that is not white space ('' at the end)."""
                nonlocal pos
                while True:
                    match = _JSON_SPACE.match(buffer, pos)
                    pos = match.end() if match else pos
                    if pos < len(buffer):
                        return buffer[pos]
                    if not more():
                        return ""

            def invalid(message: str, at: int) -> DiscoveryError:
                line = lines_before + buffer.count("\n", 0, at) + 1
                return DiscoveryError(f"malformed file at line {line}: invalid JSON ({message})")

            if skip_space() != "[":
                if pos >= len(buffer) and not buffer:
                    raise DiscoveryError("expected a JSON array of objects (the file is empty)")
                raise DiscoveryError("expected a JSON array of objects")
            pos += 1
            index = 0
            while True:
                char = skip_space()
                if char == "]" and index == 0:
                    pos += 1
                    break
                if index:
                    if char == "]":
                        pos += 1
                        break
                    if char != ",":
                        raise invalid("Expecting ',' delimiter" if char else "Expecting ']'", pos)
                    pos += 1
                    skip_space()
                too_large = DiscoveryError(
                    f"malformed file at item {index}: item larger than {max_item_chars} "
                    "characters (convert the file to JSONL, one object per line)"
                )
                while True:
                    try:
                        item, end = decoder.raw_decode(buffer, pos)
                        break
                    except RepeatedKeyError as exc:
                        raise DiscoveryError(f"malformed file at item {index}: {_repeated_key(exc)}") from None
                    except json.JSONDecodeError as exc:
                        cut = exc.pos >= len(buffer) - _JSON_CUT_MARGIN or exc.msg.startswith("Unterminated string")
                        if len(buffer) - pos > max_item_chars:
                            raise too_large from None
                        if not cut or not more():
                            raise invalid(exc.msg, exc.pos) from None
                if end - pos > max_item_chars:
                    raise too_large
                if not isinstance(item, dict):
                    raise DiscoveryError(f"malformed file at item {index}: expected a JSON object")
                pos = end
                yield item
                index += 1
            if skip_space():
                raise invalid("Extra data", pos)
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"not {encoding} text ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None
