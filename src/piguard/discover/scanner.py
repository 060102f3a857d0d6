"""The scan: walk the inputs, analyse text line by line, sample and classify table columns.

A source that cannot be read is recorded as ``Skipped`` (with the file and the reason) and
the scan goes on with the others; only a failure of the scan itself raises. A malformed row
of a CSV/TSV/JSONL file is passed over and counted in ``skipped_rows`` (the rest of the file
is scanned): the scan still ran successfully.

Inside a directory, a symbolic link to a file outside it is not followed (a link named on the
command line is: the user asked for it). A gzip-compressed text file (``app.log.gz``,
``syslog.2.gz``) is read as text, decompressed as it is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from rich.progress import Progress, TaskID

from piguard.discover.analyzer import Analyzer
from piguard.discover.categories import category_of, is_sensitive
from piguard.discover.classify import DEFAULT_MIN_CONFIDENCE, ColumnClassification, classify_table
from piguard.discover.sources import (
    DEFAULT_MAX_BYTES,
    DEFAULT_SAMPLE,
    FileItem,
    RowProblems,
    Skipped,
    SkippedRows,
    TableSample,
    is_table_file,
    iter_files,
    iter_lines,
    sample_database,
    sample_table_file,
    sniff_encoding,
)
from piguard.discover.sources.rows import decoded_lines, table_encoding
from piguard.discover.sources.text import BINARY_SUFFIXES
from piguard.errors import DiscoveryError, InputError

#: Called for each skipped input, and for each named malformed row passed over (``error`` False).
SkipHook = Callable[[Skipped], None]
#: Lines of a text file analysed together.
LINE_BATCH = 256
#: Why a link inside a scanned directory is not followed.
OUTSIDE_LINK = "symbolic link to a file outside the scanned directory"
# What a ".gz" file holds when the name before ".gz" says so: an archive or a binary is not
# text, and a compressed JSON array, Parquet or Excel file is not read (a table's format is
# read compressed only as .csv.gz, .tsv.gz and .jsonl.gz).
_ARCHIVES = frozenset({".tar"})
_UNREAD_COMPRESSED = frozenset({".json", ".parquet", ".xlsx", ".xlsm"})
_GZIP_MAGIC = b"\x1f\x8b"
# A header and a trailer: no gzip file is shorter.
_GZIP_MIN_BYTES = 18


@dataclass(frozen=True, slots=True)
class TextFinding:
    """A finding in one line of a text file (FORMATS.md section 7); ``value`` only if asked."""

    source: str
    line: int
    start: int
    end: int
    entity: str
    category: str
    sensitive: bool
    score: float
    explanation: str
    value: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class TableNote:
    """Something the report says about one table (a header row read as data); never a value."""

    source: str
    table: str
    note: str


@dataclass(slots=True)
class ScanResult:
    """Everything a scan found and everything it could not read."""

    findings: list[TextFinding] = field(default_factory=list)
    columns: list[ColumnClassification] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: Malformed rows passed over, per table file that had any.
    skipped_rows: list[SkippedRows] = field(default_factory=list)
    #: Notes on tables read differently from their look (a header row that held PI).
    notes: list[TableNote] = field(default_factory=list)
    files_scanned: int = 0
    lines_scanned: int = 0
    tables_scanned: int = 0
    bytes_scanned: int = 0
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def errors(self) -> list[Skipped]:
        """Skipped inputs that were unreadable or malformed (not skipped by design)."""
        return [s for s in self.skipped if s.error]

    @property
    def rows_skipped(self) -> int:
        """Malformed rows passed over in all table files."""
        return sum(entry.count for entry in self.skipped_rows)

    @property
    def found_anything(self) -> bool:
        """Whether any finding or PI column was reported."""
        return bool(self.findings or self.columns)

    def merge(self, other: ScanResult) -> None:
        """Add another scan's results to this one."""
        self.findings.extend(other.findings)
        self.columns.extend(other.columns)
        self.skipped.extend(other.skipped)
        self.skipped_rows.extend(other.skipped_rows)
        self.notes.extend(other.notes)
        self.files_scanned += other.files_scanned
        self.lines_scanned += other.lines_scanned
        self.tables_scanned += other.tables_scanned
        self.bytes_scanned += other.bytes_scanned


def analyze_lines(
    lines: Iterable[tuple[int, str]],
    *,
    source: str,
    analyzer: Analyzer,
    keep_values: bool = False,
) -> Iterator[TextFinding]:
    """Findings of ``(line number, text)`` pairs; offsets are code points within each line.

    Lines are analysed in batches of ``LINE_BATCH`` (the PERSON tagger runs them together).
    """
    batch: list[tuple[int, str]] = []
    for number, line in lines:
        if line:
            batch.append((number, line))
        if len(batch) >= LINE_BATCH:
            yield from _batch_findings(batch, source=source, analyzer=analyzer, keep_values=keep_values)
            batch = []
    if batch:
        yield from _batch_findings(batch, source=source, analyzer=analyzer, keep_values=keep_values)


def _batch_findings(
    batch: list[tuple[int, str]], *, source: str, analyzer: Analyzer, keep_values: bool
) -> Iterator[TextFinding]:
    results = analyzer.analyze_many([line for _, line in batch])
    for (number, line), found in zip(batch, results, strict=True):
        for f in found:
            yield TextFinding(
                source=source,
                line=number,
                start=f.start,
                end=f.end,
                entity=f.entity,
                category=category_of(f.entity),
                sensitive=is_sensitive(f.entity),
                score=round(f.score, 3),
                explanation=f.explanation,
                value=line[f.start : f.end] if keep_values else None,
            )


class _TooLargeError(Exception):
    """A compressed file larger than the size limit once decompressed (skipped by design)."""


def _scan_text_file(
    item: FileItem, *, analyzer: Analyzer, keep_values: bool, result: ScanResult, max_bytes: int = DEFAULT_MAX_BYTES
) -> SkippedRows | None:
    """Analyse a text file (gzip-compressed too) line by line; the undecodable lines passed over, if any."""
    counted = [0]
    problems = RowProblems()
    if is_compressed(item.path):
        source = _gzip_lines(item.path, problems=problems, max_bytes=max_bytes)
    else:
        source = iter_lines(item.path, encoding=sniff_encoding(item.path, tolerant=True), problems=problems)

    def lines() -> Iterator[tuple[int, str]]:
        for number, line in source:
            counted[0] = number
            yield number, line

    # Only a file read to the end counts: one that is mostly not text is skipped whole.
    found = list(analyze_lines(lines(), source=item.source, analyzer=analyzer, keep_values=keep_values))
    result.findings.extend(found)
    result.lines_scanned += counted[0]
    if not problems.count:
        return None
    return SkippedRows(item.source, item.path.name, problems.count, tuple(problems.named))


def is_compressed(path: Path) -> bool:
    """Whether ``path`` is named as a gzip-compressed file (``.gz``)."""
    return path.name.lower().endswith(".gz")


def compressed_problem(path: Path) -> str | None:
    """Why a ``.gz`` file is not read as compressed text (``binary file type (.tar.gz)``, not
    gzip data), or None; raises ``DiscoveryError`` if it cannot be read."""
    inner = Path(path.name[: -len(".gz")]).suffix.lower()
    if inner in BINARY_SUFFIXES or inner in _ARCHIVES:
        return f"binary file type ({inner}.gz)"
    if inner in _UNREAD_COMPRESSED:
        return f"gzip-compressed {inner} is not read (decompress it first)"
    try:
        with path.open("rb") as handle:
            magic = handle.read(2)
    except OSError as exc:
        raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    # Said before the decompressor says it with the file's first bytes in its message.
    return None if magic == _GZIP_MAGIC else "not gzip data, though the name ends in .gz"


def _gzip_lines(path: Path, *, problems: RowProblems, max_bytes: int) -> Iterator[tuple[int, str]]:
    """The lines of a gzip-compressed text file, decompressed as they are read; a line in
    neither UTF-8 nor GB 18030 is noted in ``problems`` and passed over (as ``iter_lines``).

    Raises ``DiscoveryError`` for what is not text (``binary content …``) or not gzip, and
    ``_TooLargeError`` past ``max_bytes`` of decompressed text."""
    why = compressed_problem(path)
    if why is not None:
        raise DiscoveryError(why)
    if _gzip_size(path) > max_bytes:
        raise _TooLargeError
    encoding = table_encoding(path)  # judged on the decompressed head; raises for binaries
    good = read = 0
    for line in decoded_lines(path, encoding, nul_ok=True):
        if line.text is None:
            problems.note(line.number, line.reason)
            continue
        read += len(line.text)
        if read > max_bytes:
            raise _TooLargeError  # a gzip of several members: its last one's size said too little
        good += 1
        yield line.number, line.text.rstrip("\r\n")
    error = problems.error_if_most(good)
    if error is not None:
        raise error


def _gzip_size(path: Path) -> int:
    """The decompressed size a gzip file states in its last 4 bytes (of its last member,
    modulo 4 GiB): a cheap first bound against a file that decompresses to far more."""
    try:
        with path.open("rb") as handle:
            if handle.seek(0, os.SEEK_END) < _GZIP_MIN_BYTES:
                raise DiscoveryError("cannot read file (truncated gzip data)")
            handle.seek(-4, os.SEEK_END)
            return int.from_bytes(handle.read(4), "little")
    except OSError as exc:
        raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None


def _inputs(paths: Sequence[Path], *, max_bytes: int) -> Iterator[FileItem | Skipped]:
    """``iter_files`` of each path, without the links inside a directory to files outside it."""
    for root in paths:
        inside = root.resolve() if root.is_dir() else None
        for entry in iter_files([root], max_bytes=max_bytes):
            path = entry.path if isinstance(entry, FileItem) else Path(entry.source)
            if inside is not None and _leaves(path, inside):
                # /etc/shadow through tree/shadow.txt: not part of what was asked to be scanned.
                yield Skipped(str(path), OUTSIDE_LINK, error=False)
            else:
                yield entry


def _leaves(path: Path, root: Path) -> bool:
    """Whether ``path`` is a symbolic link whose target lies outside the directory ``root``."""
    if not path.is_symlink():
        return False
    try:
        target = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop of links: the walk said it cannot be read
        return False
    return not target.is_relative_to(root)


def _classify(
    tables: Sequence[TableSample],
    *,
    analyzer: Analyzer,
    min_confidence: float,
    result: ScanResult,
    reference_date: date | None = None,
) -> None:
    for table in tables:
        result.columns.extend(
            classify_table(table, analyzer=analyzer, min_confidence=min_confidence, reference_date=reference_date)
        )
        result.notes.extend(TableNote(table.source, table.table, note) for note in table.notes)
        result.tables_scanned += 1


def _scan_titles(tables: Sequence[TableSample], *, analyzer: Analyzer, keep_values: bool, result: ScanResult) -> None:
    """Title rows above a CSV header (``患者张建国…就诊记录,,,``) analysed as free text."""
    for table in tables:
        for f in analyze_lines(table.titles, source=table.source, analyzer=analyzer, keep_values=keep_values):
            result.findings.append(replace(f, explanation=f"title row above the header; {f.explanation}"))


def scan_paths(
    paths: Sequence[Path],
    *,
    analyzer: Analyzer,
    sample: int = DEFAULT_SAMPLE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    keep_values: bool = False,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    progress: Progress | None = None,
    on_skip: SkipHook | None = None,
    reference_date: date | None = None,
) -> ScanResult:
    """Scan files and directories: text line by line, tables by sampled column classification
    (birth dates are aged on ``reference_date``, by default the day of the scan)."""
    if sample < 1:
        raise InputError("sample size must be at least 1", where="--sample")
    result = ScanResult()
    items: list[FileItem] = []
    for entry in _inputs(paths, max_bytes=max_bytes):
        if isinstance(entry, Skipped):
            _skip(result, entry, on_skip)
        else:
            items.append(entry)
    task: TaskID | None = None
    if progress is not None:
        task = progress.add_task("scanning", total=sum(i.size for i in items) or 1)
    for item in items:
        if progress is not None and task is not None:
            progress.update(task, description=_short(item.source))
        tables: list[TableSample] = []
        text_skipped: SkippedRows | None = None
        try:
            if item.size == 0:
                pass  # nothing to read: an empty export is not a malformed table
            elif is_table_file(item.path):
                tables = sample_table_file(item.path, source=item.source, sample=sample, tolerant=True)
                _classify(
                    tables,
                    analyzer=analyzer,
                    min_confidence=min_confidence,
                    result=result,
                    reference_date=reference_date,
                )
                _scan_titles(tables, analyzer=analyzer, keep_values=keep_values, result=result)
            else:
                text_skipped = _scan_text_file(
                    item, analyzer=analyzer, keep_values=keep_values, result=result, max_bytes=max_bytes
                )
        except (DiscoveryError, InputError) as exc:
            binary = str(exc).startswith("binary")
            _skip(result, Skipped(item.source, str(exc), error=not binary), on_skip)
        except _TooLargeError:
            reason = f"larger than the size limit once decompressed (> {max_bytes} bytes)"
            _skip(result, Skipped(item.source, reason, error=False), on_skip)
        else:
            result.files_scanned += 1
            result.bytes_scanned += item.size
        for rows in (text_skipped, *(table.skipped_rows for table in tables)):
            if rows is not None:
                _skip_rows(result, rows, on_skip)
        if progress is not None and task is not None:
            progress.advance(task, item.size)
    return result


def scan_database(
    url: str,
    *,
    analyzer: Analyzer,
    tables: Sequence[str] | None = None,
    sample: int = DEFAULT_SAMPLE,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    on_skip: SkipHook | None = None,
    reference_date: date | None = None,
) -> ScanResult:
    """Sample and classify database tables (birth dates aged on ``reference_date``, by default
    the day of the scan); raises ``DiscoveryError`` if it cannot connect."""
    if sample < 1:
        raise InputError("sample size must be at least 1", where="--sample")
    result = ScanResult()
    for entry in sample_database(url, tables=tables, sample=sample):
        if isinstance(entry, Skipped):
            _skip(result, entry, on_skip)
        else:
            _classify(
                [entry], analyzer=analyzer, min_confidence=min_confidence, result=result, reference_date=reference_date
            )
    return result


def _skip(result: ScanResult, entry: Skipped, hook: SkipHook | None) -> None:
    result.skipped.append(entry)
    if hook is not None:
        hook(entry)


def _skip_rows(result: ScanResult, entry: SkippedRows, hook: SkipHook | None) -> None:
    """Malformed rows were passed over and the rest of the file scanned: listed, not an error."""
    result.skipped_rows.append(entry)
    if hook is None:
        return
    for line, reason in entry.lines:
        hook(Skipped(entry.source, f"line {line} skipped: {reason}", error=False))
    if entry.count > len(entry.lines):
        hook(Skipped(entry.source, f"{entry.count - len(entry.lines)} more malformed rows skipped", error=False))


def _short(source: str, width: int = 40) -> str:
    return source if len(source) <= width else "…" + source[-(width - 1) :]
