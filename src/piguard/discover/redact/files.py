"""``redact_file``: one file into its redacted copy, written beside OUT and renamed into place."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import tempfile
from pathlib import Path
from typing import IO, cast

from piguard.discover.analyzer import Analyzer
from piguard.discover.classify import DEFAULT_MIN_CONFIDENCE, classify_table
from piguard.discover.redact.common import RedactStats
from piguard.discover.redact.delimited import redact_csv
from piguard.discover.redact.jsonfiles import redact_json, redact_jsonl
from piguard.discover.redact.parquet import redact_parquet
from piguard.discover.redact.policy import Change, Redactor, whole_change
from piguard.discover.redact.text import prefer, redact_text_file, text_out
from piguard.discover.redact.values import PerFinding
from piguard.discover.scanner import compressed_problem
from piguard.discover.sources import DEFAULT_SAMPLE, TableSample, sample_table_file
from piguard.discover.sources.rows import csv_records, sniff_delimiter, table_encoding
from piguard.discover.sources.tables import EXCEL_SUFFIXES, TABULAR_SUFFIXES
from piguard.errors import DiscoveryError, InputError, InterchangeError
from piguard.interchange import tabular

__all__ = ["redact_file"]


def redact_file(
    source: Path,
    target: Path,
    *,
    analyzer: Analyzer,
    redactor: Redactor,
    sample: int = DEFAULT_SAMPLE,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    reference_date: dt.date | None = None,
) -> RedactStats:
    """Redact ``source`` into ``target`` (same format); raises ``InputError`` for bad input.

    ``target`` appears only when the whole file was redacted (mode 0600); on any failure
    nothing is left beside it. Birth-date columns are aged on ``reference_date`` (default
    today) to tell whether they hold minors' data.
    """
    if source.is_dir():
        raise InputError("is a directory; redact takes one file", where=str(source))
    if not source.is_file():
        raise InputError("no such file", where=str(source))
    if target.exists() and target.resolve() == source.resolve():
        raise InputError("output must not be the input file", where=str(target))
    name = source.name.lower()
    if name.endswith(EXCEL_SUFFIXES):
        raise InputError("redacting .xlsx is not supported; save it as CSV first", where=str(source))
    tabular_input = name.endswith(TABULAR_SUFFIXES)
    if not tabular_input and name.endswith(".gz"):
        try:
            why = compressed_problem(source)  # an archive, a compressed binary or JSON array: not text
        except DiscoveryError as exc:
            raise InputError(str(exc), where=str(source)) from None
        if why is not None:
            raise InputError(why, where=str(source))
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
                    reference_date=reference_date,
                )
            else:
                # Compressed when OUT is named .gz (app.log.gz into app.masked.log.gz), as tables.
                with _compressed(raw, target.name.lower().endswith(".gz")) as stream:
                    stats = redact_text_file(source, stream, analyzer=analyzer, redactor=redactor)
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
    reference_date: dt.date | None,
) -> RedactStats:
    stats = RedactStats()

    def classify(tables: list[TableSample]) -> dict[str, Change]:
        return _classify(
            tables, stats, redactor, analyzer=analyzer, min_confidence=min_confidence, reference_date=reference_date
        )

    fmt = tabular.file_format(source)
    other = PerFinding(redactor, analyzer, stats)
    if fmt == "parquet":
        raw.close()  # pyarrow writes the file by its path
        tables = sample_table_file(source, source=str(source), sample=sample)
        whole = classify(tables)
        redact_parquet(source, temp, whole=whole, other=other, stats=stats, removes=redactor.policy == "remove")
        stats.notes.extend(other.notes())
        return stats
    with _compressed(raw, zipped) as stream:
        if fmt in tabular.DELIMITERS:
            # The column names as the redaction reads them; the sample must name columns alike.
            encoding = table_encoding(source)
            delimiter = tabular.DELIMITERS[fmt]
            if fmt == "csv":
                delimiter = sniff_delimiter(source, encoding=encoding, default=delimiter)
            out = text_out(source, stream, encoding)
            names, records = csv_records(source, delimiter=delimiter, encoding=encoding, prefer=prefer(out.codec))
            tables = sample_table_file(source, source=str(source), sample=sample, tolerant=True)
            if not {c.name for t in tables for c in t.columns} <= set(names):
                # A block sample takes the first line for the header: this file has title rows.
                tables = sample_table_file(source, source=str(source), sample=sample, tolerant=True, full=True)
            whole = classify(tables)
            headerless = any(t.headerless for t in tables)
            if headerless:
                # The first row is data (it held PI): its cells are column_1, column_2... as the
                # scan names them, and are transformed like the rows below.
                whole = {name: whole[f"column_{i + 1}"] for i, name in enumerate(names) if f"column_{i + 1}" in whole}
                stats.notes.extend(n for t in tables for n in t.notes)
            redact_csv(
                records, names, out, delimiter=delimiter, whole=whole, other=other, stats=stats, headerless=headerless
            )
            stats.notes.extend(other.notes())
            return stats
        tables = sample_table_file(source, source=str(source), sample=sample, tolerant=fmt == "jsonl")
        whole = classify(tables)
        if fmt == "jsonl":
            redact_jsonl(source, stream, whole=whole, other=other, stats=stats)
        else:
            redact_json(source, stream, whole=whole, other=other, stats=stats)
    stats.notes.extend(other.notes())
    return stats


def _classify(
    tables: list[TableSample],
    stats: RedactStats,
    redactor: Redactor,
    *,
    analyzer: Analyzer,
    min_confidence: float,
    reference_date: dt.date | None,
) -> dict[str, Change]:
    """The columns transformed whole, by name; every other value is redacted per finding (not
    only in the columns the sample flagged: one phone number in row 2500 of a remarks column
    the sample missed must not stay in clear).

    A column with two ``values`` entries (a birth-date column that also holds minors' data) is
    transformed by its first, main entity: a date stays shaped like a date."""
    for table in tables:
        # Every age or birth-date column of people is masked whole for MINOR_UNDER_14, a child in
        # the sample or not: one outside it must not stay in clear (see piguard.discover.minors).
        stats.columns.extend(
            classify_table(
                table,
                analyzer=analyzer,
                min_confidence=min_confidence,
                reference_date=reference_date,
                every_age_column=True,
            )
        )
    whole: dict[str, Change] = {}
    for col in stats.columns:
        if col.kind == "values" and col.column not in whole:
            whole[col.column] = whole_change(redactor, col.entity)
    return whole


def _compressed(raw: IO[bytes], zipped: bool) -> IO[bytes]:
    """``raw``, gzip-compressed when OUT is named ``.gz`` (no file name or time in the header)."""
    if zipped:
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0))
    return raw
