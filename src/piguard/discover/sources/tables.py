"""Table files: CSV/TSV, JSON/JSONL (gzip too), Parquet via ``interchange.tabular``; Excel.

``interchange.tabular`` is the project's one reader of these formats; this module only picks
how to read (a uniform sample of the lines of a large file, ``sampling``, or every row into
the reservoir), the text encoding (UTF-8 or GB 18030, as for text files) and flattens nested
JSON into columns. A scan (``tolerant=True``) reads a CSV/TSV/JSONL file that is not sampled
by line with ``rows`` instead, which passes over malformed rows and says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from piguard.discover.sources import sampling
from piguard.discover.sources.base import (
    SAMPLE_SEED,
    ColumnSample,
    RowProblems,
    SkippedRows,
    TableSample,
    columns_from_rows,
)
from piguard.discover.sources.rows import (
    CsvHead,
    csv_rows,
    json_array_items,
    jsonl_rows,
    sniff_delimiter,
    table_encoding,
    unique_names,
)
from piguard.discover.sources.text import sniff_encoding
from piguard.errors import DiscoveryError, InterchangeError
from piguard.interchange import tabular

TABULAR_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tsv.gz",
    ".json",
    ".jsonl",
    ".jsonl.gz",
    ".parquet",
)
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# Nested JSON deeper than this is kept as one JSON text column.
_MAX_FLATTEN_DEPTH = 4
# Leading rows of a sheet searched for its header (title rows above it are passed over).
_HEADER_SEARCH_ROWS = 10


def is_table_file(path: Path) -> bool:
    """Whether ``path`` is read as a table (by extension)."""
    name = path.name.lower()
    return name.endswith(TABULAR_SUFFIXES) or name.endswith(EXCEL_SUFFIXES)


def sample_table_file(
    path: Path, *, source: str, sample: int, tolerant: bool = False, full: bool = False
) -> list[TableSample]:
    """Row samples of the table(s) in ``path`` (one per sheet for Excel).

    Raises ``DiscoveryError`` naming the place and reason for malformed or unreadable files.
    With ``tolerant`` (a scan), a malformed CSV/TSV row or JSONL line is passed over and
    counted in the sample's ``skipped_rows``; only a file that is not such a table (no header,
    no readable row, more malformed rows than good ones) raises. With ``full`` (and
    ``tolerant``), a large CSV/TSV/JSONL file is read in full rather than sampled by line.
    A JSON array is read one item at a time.
    """
    if path.name.lower().endswith(EXCEL_SUFFIXES):
        return list(_sample_excel(path, source=source, sample=sample))
    fmt = tabular.file_format(path)
    infer = fmt in ("json", "jsonl", "parquet")
    if tolerant and fmt in ("csv", "tsv", "jsonl"):
        return [_sample_tolerant(path, fmt, source=source, sample=sample, full=full)]
    encoding = "utf-8"
    if fmt != "parquet" and not path.name.lower().endswith(".gz"):
        encoding = sniff_encoding(path)  # raises DiscoveryError for binary content
    paths: _Paths = {}

    def sampled_table(columns: Any, sampled: int, total: int | None, names: str) -> list[TableSample]:
        return [
            TableSample(
                source=source,
                table=path.name,
                columns=_with_paths(columns, paths),
                rows_sampled=sampled,
                rows_total=total,
                names=names,
            )
        ]

    if fmt == "json":
        # Item by item: a JSON array is never held whole (``json_array_items`` bounds an item).
        items = (_flatten(item, paths=paths) for item in json_array_items(path, encoding=encoding))
        columns, sampled, total = columns_from_rows(items, sample=sample, infer_types=True)
        return sampled_table(columns, sampled, total, "keys")
    names = _NAMES.get(fmt, "schema")
    try:
        fast = sampling.sample_rows(path, size=sample, seed=SAMPLE_SEED, encoding=encoding)
        if fast is not None:
            sampled_rows, known_total = fast
            columns, sampled, _ = columns_from_rows(
                (_flatten(r.data, paths=paths) for r in sampled_rows), sample=sample, infer_types=infer
            )
            return sampled_table(columns, sampled, known_total, names)
        rows = (_flatten(row.data, paths=paths) for row in tabular.read_rows(path, encoding=encoding))
        columns, sampled, total = columns_from_rows(rows, sample=sample, infer_types=infer)
    except InterchangeError as exc:
        # The reader's message already names file:line; we keep only the reason and place.
        raise DiscoveryError(_where(exc, path)) from None
    return sampled_table(columns, sampled, total, names)


def _sample_tolerant(path: Path, fmt: str, *, source: str, sample: int, full: bool = False) -> TableSample:
    """A CSV/TSV/JSONL sample that passes over malformed rows (a scan of users' exports).

    A large file is sampled by line when its sampled lines parse (lines that do not are
    passed over there: they cannot be told from pieces of multi-line records, and are not
    counted); otherwise every line is read, decoded on its own (UTF-8, else GB 18030).
    """
    encoding = table_encoding(path)  # raises DiscoveryError for binary content
    infer = fmt == "jsonl"
    delimiter = tabular.DELIMITERS.get(fmt, ",")
    if fmt == "csv":
        delimiter = sniff_delimiter(path, encoding=encoding, default=delimiter)
    fast = None
    # UTF-16 lines are not split at newline bytes; the line sampler knows "," only.
    if not full and not encoding.startswith("utf-16") and delimiter == tabular.DELIMITERS.get(fmt, ","):
        try:
            fast = sampling.sample_rows(path, size=sample, seed=SAMPLE_SEED, encoding=encoding)
        except InterchangeError:
            fast = None  # a malformed line in a line sample: read every line, noting bad ones
    paths: _Paths = {}
    names = _NAMES[fmt]
    if fast is not None:
        sampled_rows, known_total = fast
        columns, sampled, _ = columns_from_rows(
            (_flatten(r.data, paths=paths) for r in sampled_rows), sample=sample, infer_types=infer
        )
        return TableSample(
            source=source,
            table=path.name,
            columns=_with_paths(columns, paths),
            rows_sampled=sampled,
            rows_total=known_total,
            names=names,
        )
    problems = RowProblems()
    head = CsvHead()
    if fmt == "jsonl":
        rows: Iterator[dict[str, Any]] = jsonl_rows(path, encoding=encoding, problems=problems)
    else:
        rows = csv_rows(path, delimiter=delimiter, encoding=encoding, problems=problems, head=head)
    columns, sampled, total = columns_from_rows(
        (_flatten(r, paths=paths) for r in rows), sample=sample, infer_types=infer
    )
    skipped = None
    if problems.count:
        skipped = SkippedRows(source=source, table=path.name, count=problems.count, lines=tuple(problems.named))
    return TableSample(
        source=source,
        table=path.name,
        columns=_with_paths(columns, paths),
        rows_sampled=sampled,
        rows_total=total,
        skipped_rows=skipped,
        names=names,
        header=tuple(head.fields) if fmt != "jsonl" else None,
        titles=tuple(head.titles),
    )


def _where(exc: InterchangeError, path: Path) -> str:
    """``malformed file at line 3: reason``; the caller names the file itself."""
    where = exc.where or ""
    suffix = where[len(str(path)) :] if where.startswith(str(path)) else ""
    if suffix.startswith(":"):
        place = f" at line {suffix[1:]}"
    elif suffix.startswith("@"):
        place = f" at byte {suffix[1:]}"
    elif suffix.startswith("#row"):
        place = f" at row {suffix[4:]}"
    elif suffix.startswith("["):
        place = f" at item {suffix.strip('[]')}"
    else:
        place = ""
    return f"malformed file{place}: {exc.reason}"


#: Where a table's column names come from, by file format (see ``TableSample.names``).
_NAMES = {"csv": "header", "tsv": "header", "json": "keys", "jsonl": "keys"}
#: Column name -> the JSON keys it was made of; bounded like the column list of a sample.
_Paths = dict[str, tuple[str, ...]]
_MAX_PATHS = 8192


def _flatten(
    data: dict[str, Any], prefix: str = "", depth: int = 0, *, paths: _Paths | None = None, keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Nested JSON objects become dotted columns (``relative.phone``); ``paths`` records the
    keys each name was made of (a key may hold a dot, or personal information)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        where = (*keys, str(key))
        if isinstance(value, dict) and depth < _MAX_FLATTEN_DEPTH:
            out.update(_flatten(value, f"{name}.", depth + 1, paths=paths, keys=where))
            continue
        if paths is not None and name not in paths and len(paths) < _MAX_PATHS:
            paths[name] = where
        if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
            out[name] = "; ".join(str(v) for v in value if v is not None) or None
        elif isinstance(value, dict | list):
            import json

            out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = value
    return out


def _with_paths(columns: list[ColumnSample], paths: _Paths) -> list[ColumnSample]:
    """``columns`` with the JSON keys of their names filled in (where known)."""
    for column in columns:
        column.path = paths.get(column.name)
    return columns


def _title_rows(rows: list[tuple[Any, ...]]) -> int:
    """How many rows above a sheet's header are titles (``死亡患者登记表`` merged over it).

    A title or a merged group label fills fewer cells than the header below it, and both are
    text; a data row holds numbers or dates, or is not fuller than the header.
    """

    def filled(row: tuple[Any, ...]) -> list[Any]:
        return [cell for cell in row if cell is not None and str(cell).strip()]

    skip = 0
    while skip + 1 < len(rows):
        this, below = filled(rows[skip]), filled(rows[skip + 1])
        if not (len(this) < len(below) and all(isinstance(cell, str) for cell in (*this, *below))):
            break
        skip += 1
    return skip


def _sample_excel(path: Path, *, source: str, sample: int) -> Iterator[TableSample]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DiscoveryError(f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            lead = list(islice(rows, _HEADER_SEARCH_ROWS))
            if not lead:
                continue
            skip = _title_rows(lead)
            header_row = lead[skip]
            rows = chain(lead[skip + 1 :], rows)
            # Two columns with one name (电话, 电话) must stay two: names are made unique.
            cells = ["" if cell is None else str(cell) for cell in header_row]
            header = unique_names(cells)
            dicts = (
                {name: value for name, value in zip(header, values, strict=False) if value is not None}
                for values in rows
            )
            columns, sampled, total = columns_from_rows(dicts, sample=sample, infer_types=True)
            yield TableSample(
                source=source,
                table=f"{path.name}#{sheet.title}",
                columns=columns,
                rows_sampled=sampled,
                rows_total=total,
                names="header",
                header=tuple(cells),
            )
    finally:
        workbook.close()
