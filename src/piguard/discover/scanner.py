"""The scan: walk the inputs, analyse text line by line, sample and classify table columns.

A source that cannot be read is recorded as ``Skipped`` (with the file and the reason) and
the scan goes on with the others; only a failure of the scan itself raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import Progress, TaskID

from piguard.discover.analyzer import Analyzer
from piguard.discover.categories import category_of, is_sensitive
from piguard.discover.classify import DEFAULT_MIN_CONFIDENCE, ColumnClassification, classify_table
from piguard.discover.sources import (
    DEFAULT_MAX_BYTES,
    DEFAULT_SAMPLE,
    FileItem,
    Skipped,
    TableSample,
    is_table_file,
    iter_files,
    iter_lines,
    sample_database,
    sample_table_file,
    sniff_encoding,
)
from piguard.errors import DiscoveryError, InputError

SkipHook = Callable[[Skipped], None]
#: Lines of a text file analysed together.
LINE_BATCH = 256


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


@dataclass(slots=True)
class ScanResult:
    """Everything a scan found and everything it could not read."""

    findings: list[TextFinding] = field(default_factory=list)
    columns: list[ColumnClassification] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
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
    def found_anything(self) -> bool:
        """Whether any finding or PI column was reported."""
        return bool(self.findings or self.columns)

    def merge(self, other: ScanResult) -> None:
        """Add another scan's results to this one."""
        self.findings.extend(other.findings)
        self.columns.extend(other.columns)
        self.skipped.extend(other.skipped)
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


def _scan_text_file(item: FileItem, *, analyzer: Analyzer, keep_values: bool, result: ScanResult) -> None:
    encoding = sniff_encoding(item.path)
    counted = [0]

    def lines() -> Iterator[tuple[int, str]]:
        for number, line in iter_lines(item.path, encoding=encoding):
            counted[0] = number
            yield number, line

    # Only a file read to the end counts: a decoding error half-way skips the whole file.
    found = list(analyze_lines(lines(), source=item.source, analyzer=analyzer, keep_values=keep_values))
    result.findings.extend(found)
    result.lines_scanned += counted[0]


def _classify(
    tables: Sequence[TableSample],
    *,
    analyzer: Analyzer,
    min_confidence: float,
    result: ScanResult,
) -> None:
    for table in tables:
        result.columns.extend(classify_table(table, analyzer=analyzer, min_confidence=min_confidence))
        result.tables_scanned += 1


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
) -> ScanResult:
    """Scan files and directories: text line by line, tables by sampled column classification."""
    if sample < 1:
        raise InputError("sample size must be at least 1", where="--sample")
    result = ScanResult()
    items: list[FileItem] = []
    for entry in iter_files(paths, max_bytes=max_bytes):
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
        problems: list[str] = []
        try:
            if item.size == 0:
                pass  # nothing to read: an empty export is not a malformed table
            elif is_table_file(item.path):
                tables = sample_table_file(item.path, source=item.source, sample=sample, problems=problems)
                _classify(tables, analyzer=analyzer, min_confidence=min_confidence, result=result)
            else:
                _scan_text_file(item, analyzer=analyzer, keep_values=keep_values, result=result)
        except (DiscoveryError, InputError) as exc:
            binary = str(exc).startswith("binary")
            _skip(result, Skipped(item.source, str(exc), error=not binary), on_skip)
        else:
            result.files_scanned += 1
            result.bytes_scanned += item.size
        for problem in problems:
            # Malformed lines were passed over, the rest of the file was scanned: each is an error.
            _skip(result, Skipped(item.source, problem, error=True), on_skip)
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
) -> ScanResult:
    """Sample and classify database tables; raises ``DiscoveryError`` if it cannot connect."""
    if sample < 1:
        raise InputError("sample size must be at least 1", where="--sample")
    result = ScanResult()
    for entry in sample_database(url, tables=tables, sample=sample):
        if isinstance(entry, Skipped):
            _skip(result, entry, on_skip)
        else:
            _classify([entry], analyzer=analyzer, min_confidence=min_confidence, result=result)
    return result


def _skip(result: ScanResult, entry: Skipped, hook: SkipHook | None) -> None:
    result.skipped.append(entry)
    if hook is not None:
        hook(entry)


def _short(source: str, width: int = 40) -> str:
    return source if len(source) <= width else "…" + source[-(width - 1) :]
