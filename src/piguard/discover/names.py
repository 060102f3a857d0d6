"""Column names that are data: JSON keys holding personal information, a header that is a row.

A JSON object keyed by phone numbers (``{"contacts": {"13812345678": "张三"}}``) names its
columns after the numbers, and a CSV file without a header row names them after its first
row. Before its columns are classified, ``prepare_table`` analyses the names as free text:

* JSON keys (``TableSample.names == "keys"``): a key holding personal information is shown
  as ``<key>`` in column paths (``contacts.<key>``), the columns under such keys at one place
  are merged into one, and the keys themselves are reported (``KeyFinding``) without a value;
* a header (``names == "header"``) with a cell holding personal information is read as the
  first data row: the columns become ``column_1``, ``column_2``… and a note says so.

A name is a column name first: a word that names a child (``患儿姓名``, ``患儿年龄``,
``newborn_weight``) says what the column holds, it is nobody's data, so ``name_findings``
leaves it out of both decisions (and of the redaction of headers and keys).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass

from piguard.discover.analyzer import Analyzer
from piguard.discover.findings import Finding
from piguard.discover.recognizers.generic.minors import MINOR_ENTITY, is_child_word
from piguard.discover.sources.base import ColumnSample, TableSample, merge_dtype
from piguard.discover.sources.rows import unique_names

#: How a key holding personal information is shown in a column path.
KEY = "<key>"
#: Values kept for a column merged from many keys (the classifier samples them anyway).
_MAX_MERGED_VALUES = 10_000
HEADERLESS_NOTE = (
    "the first row held personal information: it was read as a data row "
    "(the file has no header row; columns are named column_1, column_2, ...)"
)


@dataclass(frozen=True, slots=True)
class KeyFinding:
    """Keys at one place of a JSON table that hold an entity: how many of the distinct keys there."""

    column: str
    entity: str
    score: float
    matched: int
    keys: int
    examples: tuple[str, ...]


def name_findings(name: str, findings: list[Finding]) -> list[Finding]:
    """The findings of a column name or key that are data in it: a word naming a child is not."""
    return [f for f in findings if not (f.entity == MINOR_ENTITY and is_child_word(name[f.start : f.end]))]


def masked_path(path: tuple[str, ...], personal: Container[str]) -> str:
    """The dotted column name of ``path`` with each key holding personal information as ``<key>``."""
    return ".".join(KEY if key in personal else key for key in path)


def prepare_table(table: TableSample, analyzer: Analyzer) -> list[KeyFinding]:
    """Read names that are data as data (in place); returns the keys found to hold PI."""
    if table.names == "header":
        _headerless(table, analyzer)
        return []
    if table.names == "keys":
        return _mask_keys(table, analyzer)
    return []


def _analysed(analyzer: Analyzer, texts: list[str]) -> dict[str, list[Finding]]:
    """Findings of each distinct non-blank text."""
    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    return {t: name_findings(t, hits) for t, hits in zip(distinct, analyzer.analyze_many(distinct), strict=True)}


def _headerless(table: TableSample, analyzer: Analyzer) -> None:
    """A header holding personal information is the first row of a file without one."""
    cells = list(table.header) if table.header is not None else [c.name for c in table.columns]
    found = _analysed(analyzer, [cell.strip() for cell in cells])
    if not any(found.values()):
        return
    position = {name: i for i, name in enumerate(unique_names(cells))}
    by_index: dict[int, ColumnSample] = {}
    extra: list[ColumnSample] = []
    for column in table.columns:
        index = position.get(column.name)
        if index is None:
            extra.append(column)  # not from the header (cannot happen for CSV): kept as is
        else:
            by_index[index] = column
    columns: list[ColumnSample] = []
    for index, cell in enumerate(cells):
        column = by_index.get(index) or ColumnSample(name="")
        column.name = f"column_{index + 1}"
        if cell.strip():
            column.values.insert(0, cell.strip())
        columns.append(column)
    table.columns = [*columns, *extra]
    table.rows_sampled += 1
    if table.rows_total is not None:
        table.rows_total += 1
    table.headerless = True
    table.notes.append(HEADERLESS_NOTE)


def _mask_keys(table: TableSample, analyzer: Analyzer) -> list[KeyFinding]:
    """Mask keys holding personal information in column names; merge the columns under them."""
    paths = {id(c): c.path or (c.name,) for c in table.columns}
    found = _analysed(analyzer, [key for path in paths.values() for key in path])
    personal = {key: hits for key, hits in found.items() if hits}
    if not personal:
        return []
    merged: dict[str, ColumnSample] = {}
    for column in table.columns:
        path = paths[id(column)]
        name = masked_path(path, personal) if any(k in personal for k in path) else column.name
        into = merged.get(name)
        if into is None:
            merged[name] = ColumnSample(
                name=name, dtype=column.dtype, comment=column.comment, values=list(column.values), path=column.path
            )
        else:
            into.dtype = merge_dtype(into.dtype, column.dtype)
            into.values.extend(column.values[: max(0, _MAX_MERGED_VALUES - len(into.values))])
    table.columns = list(merged.values())
    return _key_findings(list(paths.values()), personal)


def _key_findings(paths: list[tuple[str, ...]], personal: dict[str, list[Finding]]) -> list[KeyFinding]:
    """Per place (``contacts.<key>``) and entity: how many distinct keys there hold it."""
    keys_at: defaultdict[str, dict[str, None]] = defaultdict(dict)
    for path in paths:
        for i, key in enumerate(path):
            keys_at[masked_path(path[:i], personal)][key] = None
    out: list[KeyFinding] = []
    for parent, keys in keys_at.items():
        scores: defaultdict[str, list[float]] = defaultdict(list)
        examples: defaultdict[str, list[str]] = defaultdict(list)
        for key in keys:
            best: dict[str, float] = {}
            for hit in personal.get(key, []):
                best[hit.entity] = max(hit.score, best.get(hit.entity, 0.0))
            for entity, score in best.items():
                scores[entity].append(score)
                if len(examples[entity]) < 3:
                    examples[entity].append(key)
        column = f"{parent}.{KEY}" if parent else KEY
        for entity, values in sorted(scores.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            out.append(
                KeyFinding(column, entity, sum(values) / len(values), len(values), len(keys), tuple(examples[entity]))
            )
    return out
