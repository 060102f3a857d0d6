"""Sources of PI discovery: text files, directories, table files and database tables."""

from __future__ import annotations

from piguard.discover.sources.base import (
    DEFAULT_SAMPLE,
    ColumnSample,
    Reservoir,
    RowProblems,
    Skipped,
    SkippedRows,
    TableSample,
)
from piguard.discover.sources.database import display_url, sample_database
from piguard.discover.sources.tables import is_table_file, sample_table_file
from piguard.discover.sources.text import iter_lines, sniff_encoding
from piguard.discover.sources.walk import DEFAULT_MAX_BYTES, FileItem, iter_files

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_SAMPLE",
    "ColumnSample",
    "FileItem",
    "Reservoir",
    "RowProblems",
    "Skipped",
    "SkippedRows",
    "TableSample",
    "display_url",
    "is_table_file",
    "iter_files",
    "iter_lines",
    "sample_database",
    "sample_table_file",
    "sniff_encoding",
]
