"""Uniform row samples of large CSV/TSV/JSONL files, without parsing every row.

Parsing every row of a 1M-row CSV in Python costs seconds; counting its newlines costs
milliseconds. So a large file is read twice at the byte level: once to count its lines (and
note where a line starts every 64 KiB), then to read only the chosen lines, seeking to the
nearest noted line start. The lines are drawn uniformly *by line index* (without
replacement, fixed seed), so every row has the same chance whatever its length; a byte
offset followed to the next line would favour rows after long ones. A drawn line that is
blank, or that does not parse (a piece of a multi-line record), is passed over and another
line is drawn, so a file with at least ``size`` rows gives ``size`` rows. Rows come back in
the random order they were drawn in: any first part of the sample is a uniform sample too.
Parquet is sampled by row index by ``interchange.tabular``.
"""

from __future__ import annotations

import csv
import json
import random
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any

from piguard.errors import InterchangeError
from piguard.interchange import tabular
from piguard.interchange.tabular import Row

# A line start is noted every this many bytes: the second pass seeks to the one before a
# chosen line and reads at most about this much to reach it.
_STRIDE = 1 << 16
# More than this share of drawn lines that are not rows means multi-line records: the caller
# reads every row instead.
_MAX_BAD_LINE_SHARE = 0.2
# Lines drawn per row wanted before giving up on a file that is mostly blank lines (the caller
# reads every row then): bounds the time and the memory of the draws.
_MAX_DRAWS_PER_ROW = 16

#: Parses one drawn line (bytes) at byte ``where``: the row, None for a line that is no row
#: (blank), or raises ``InterchangeError`` (a malformed line).
_Parse = Callable[[bytes, str], dict[str, Any] | None]


def sample_rows(path: Path, *, size: int, seed: int, encoding: str = "utf-8") -> tuple[list[Row], int | None] | None:
    """Up to ``size`` rows drawn uniformly at random, and the row count where known.

    CSV/TSV/JSONL files of at least ``tabular.BLOCK_SAMPLING_MIN_BYTES`` are sampled by line
    (see the module docstring; their row count is unknown, None); Parquet by row index (count
    known). A sampled row's ``where`` is ``file@byte``. Returns None when the file is not
    suited and the caller should read every row: smaller than the threshold, gzip (cannot
    seek), a JSON array, or a CSV whose lines are not its rows (quoted fields spanning lines).
    A malformed JSONL line raises ``InterchangeError``.
    """
    fmt = tabular.file_format(path)
    if fmt == "parquet":
        return tabular.sample_parquet_rows(path, size=size, seed=seed)
    if path.name.lower().endswith(".gz") or fmt == "json":
        return None
    try:
        if path.stat().st_size < tabular.BLOCK_SAMPLING_MIN_BYTES:
            return None
    except OSError:
        return None
    if fmt == "jsonl":
        rows = _sample_lines(path, start=0, size=size, seed=seed, parse=_jsonl_parser(encoding), tolerate_bad=False)
        return None if rows is None else (rows, None)
    try:
        header = tabular.csv_header(path, encoding=encoding)
    except InterchangeError:
        return None  # the full read names the problem with the header
    with path.open("rb") as handle:
        handle.readline()
        start = handle.tell()
    parse = _csv_parser(header, delimiter=tabular.DELIMITERS[fmt], encoding=encoding)
    rows = _sample_lines(path, start=start, size=size, seed=seed, parse=parse, tolerate_bad=True)
    return None if rows is None else (rows, None)


def _decode(raw: bytes, encoding: str, where: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InterchangeError(f"not {encoding} text ({exc.reason})", where=where) from None


def _csv_parser(header: list[str], *, delimiter: str, encoding: str) -> _Parse:
    """A CSV line as ``tabular.read_rows`` reads it: empty cells left out, the header's width."""

    def parse(raw: bytes, where: str) -> dict[str, Any] | None:
        try:
            values = next(csv.reader([_decode(raw, encoding, where)], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            raise InterchangeError(f"malformed CSV ({exc})", where=where) from None
        return tabular.csv_record(header, values, where)

    return parse


def _jsonl_parser(encoding: str) -> _Parse:
    """A JSONL line as ``tabular.read_rows`` reads it: one object (repeated keys refused)."""

    def parse(raw: bytes, where: str) -> dict[str, Any] | None:
        text = _decode(raw, encoding, where)
        if not text.strip():
            return None
        try:
            obj = tabular.json_document(text, where=where)
        except json.JSONDecodeError as exc:
            raise InterchangeError(f"invalid JSON ({exc.msg})", where=where) from None
        if not isinstance(obj, dict):
            raise InterchangeError("expected a JSON object", where=where)
        return obj

    return parse


class _LineIndex:
    """The lines of a file after byte ``start``: how many, and where one starts every ``_STRIDE``
    bytes (two int64 arrays: 16 bytes per 64 KiB of file)."""

    def __init__(self, handle: IO[bytes], start: int) -> None:
        self.offsets = array("q", [start])
        self.numbers = array("q", [0])
        newlines = 0
        last = b"\n"
        position = start
        handle.seek(start)
        while block := handle.read(_STRIDE):
            first = block.find(b"\n")
            if first >= 0:
                # Line number newlines + 1 starts right after the block's first newline.
                self.offsets.append(position + first + 1)
                self.numbers.append(newlines + 1)
                newlines += block.count(b"\n")
            position += len(block)
            last = block[-1:]
        # The last line counts without its newline too.
        self.count = newlines + (last != b"\n")

    def read(self, handle: IO[bytes], chosen: list[int]) -> Iterator[tuple[int, int, bytes]]:
        """(line number, byte offset, line) of the ``chosen`` line numbers, in file order."""
        current = -1  # the line the handle is at; -1: not placed yet
        for number in sorted(chosen):
            mark = bisect_right(self.numbers, number) - 1
            if self.numbers[mark] > current:
                handle.seek(self.offsets[mark])
                current = self.numbers[mark]
            next(islice(handle, number - current, number - current), None)  # skip to the line
            yield number, handle.tell(), handle.readline()
            current = number + 1


class _Draws:
    """Line numbers drawn uniformly without replacement from ``range(count)``, in draw order."""

    def __init__(self, count: int, seed: int) -> None:
        self.count = count
        self.drawn: set[int] = set()
        self._rng = random.Random(seed)

    @property
    def left(self) -> int:
        """How many lines were not drawn yet."""
        return self.count - len(self.drawn)

    def draw(self, wanted: int) -> list[int]:
        """``wanted`` more line numbers (fewer when fewer are left), in random order."""
        wanted = min(wanted, self.left)
        if not self.drawn:
            picks = self._rng.sample(range(self.count), wanted)
        elif self.left <= 2 * wanted:
            # Few lines left: draw from the list of them (the file has few lines then).
            picks = self._rng.sample([n for n in range(self.count) if n not in self.drawn], wanted)
        else:
            picks = []
            while len(picks) < wanted:
                number = self._rng.randrange(self.count)
                if number not in self.drawn:
                    self.drawn.add(number)
                    picks.append(number)
        self.drawn.update(picks)
        return picks


def _sample_lines(
    path: Path, *, start: int, size: int, seed: int, parse: _Parse, tolerate_bad: bool
) -> list[Row] | None:
    """``size`` rows (fewer only when the file has fewer) from lines drawn uniformly after byte
    ``start``, in draw order. Blank lines are passed over and replaced by other draws; so are
    lines that do not parse when ``tolerate_bad``, unless they are more than
    ``_MAX_BAD_LINE_SHARE`` of those drawn (None: multi-line records); else they raise. None
    too when ``_MAX_DRAWS_PER_ROW`` lines per row wanted gave too few rows (blank lines)."""
    rows: list[Row] = []
    good = bad = 0
    with path.open("rb") as handle:
        index = _LineIndex(handle, start)
        draws = _Draws(index.count, seed)
        while len(rows) < size and draws.left:
            missing = size - len(rows)
            drawn = len(draws.drawn)
            # Enough draws to fill the sample at the share of rows among lines seen so far
            # (blank lines and pieces of records are not rows); twice as many when none was.
            wanted = missing if not drawn else (-(-missing * drawn // good) if good else 2 * drawn)
            budget = _MAX_DRAWS_PER_ROW * size - drawn
            if budget <= 0:
                return None
            picks = draws.draw(min(max(wanted, missing), budget))
            found: dict[int, Row] = {}
            for number, offset, raw in index.read(handle, picks):
                where = f"{path}@{offset}"
                try:
                    record = parse(raw, where)
                except InterchangeError:
                    if not tolerate_bad:
                        raise
                    bad += 1  # possibly a piece of a multi-line record; judged by the share below
                    continue
                if record is not None:
                    found[number] = Row(where, record)
            if bad > _MAX_BAD_LINE_SHARE * len(draws.drawn):
                return None
            good += len(found)
            # Draws come in random order: the first ``missing`` rows among them are a uniform draw.
            rows.extend(islice((found[n] for n in picks if n in found), missing))
    return rows
