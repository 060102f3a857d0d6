"""Redacting Parquet files by record batches, keeping schema, row groups and compression."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from piguard.discover.redact.common import CHUNK_ROWS, RedactStats
from piguard.discover.redact.policy import Change
from piguard.discover.redact.values import PerFinding, redact_value, scalar_text, value_texts
from piguard.errors import DiscoveryError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["redact_parquet"]

# Rows per Parquet record batch, and the output held back to keep a row group whole.
_PARQUET_BATCH_ROWS = 8192
_MAX_BUFFERED_BYTES = 64 * 1024 * 1024


class _RetypeError(Exception):
    """A column got a redacted value its type cannot hold: it must be written as text."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


def redact_parquet(
    source: Path, temp: Path, *, whole: dict[str, Change], other: PerFinding, stats: RedactStats, removes: bool
) -> None:
    """Parquet by record batches, never the whole file: schema (types, metadata, field order),
    row groups (up to 64 MiB each, held back until complete), compression and format version
    kept. A column whose values are replaced by text (masked, hashed, pseudonymised) is
    written as text; removed values are nulls of the old type. When an unflagged column of
    numbers turns out to hold PI (a phone number as an int), it is made text and the file is
    written again."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DiscoveryError(f"not a readable Parquet file ({type(exc).__name__})") from None
    schema = parquet.schema_arrow
    retyped: dict[str, pa.DataType] = {}
    for field_ in schema:
        new_type = _retype(field_.type, field_.name, whole, removes)
        if not new_type.equals(field_.type):
            retyped[field_.name] = new_type
    while True:
        try:
            _write_parquet(parquet, temp, retyped, whole=whole, other=other, stats=stats, removes=removes)
            break
        except _RetypeError as exc:
            as_text = _stringify(schema.field(exc.column).type)
            if exc.column in retyped and retyped[exc.column].equals(as_text):
                raise DiscoveryError(f"Parquet column {exc.column}: its redacted values fit no type") from None
            retyped[exc.column] = as_text
            stats.reset_counts()
            other.keys_changed = other.key_clashes = 0
    for field_ in schema:
        if field_.name in retyped and _shown(retyped[field_.name]) != _shown(field_.type):
            stats.notes.append(
                f"Parquet column {field_.name} was {field_.type}, is now {retyped[field_.name]}: "
                "its redacted values are text"
            )


def _write_parquet(
    parquet: Any,
    temp: Path,
    retyped: dict[str, pa.DataType],
    *,
    whole: dict[str, Change],
    other: PerFinding,
    stats: RedactStats,
    removes: bool,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet.schema_arrow
    meta = parquet.metadata
    fields = []
    for field_ in schema:
        if field_.name in retyped or (removes and field_.name in whole):
            # Removed values are nulls; a retyped column may hold them (its struct fields do).
            new_type = retyped.get(field_.name, field_.type)
            field_ = pa.field(field_.name, new_type, nullable=True, metadata=field_.metadata)
        fields.append(field_)
    metadata = dict(schema.metadata or {})
    if retyped:
        metadata.pop(b"pandas", None)  # it records the old types
    out_schema = pa.schema(fields, metadata=metadata or None)
    options: dict[str, Any] = {"version": meta.format_version}
    if meta.num_row_groups and meta.row_group(0).num_columns:
        group = meta.row_group(0)
        used = {group.column(i).compression for i in range(group.num_columns)}
        if len(used) == 1:
            options["compression"] = _PARQUET_CODECS.get(used.pop(), "snappy")
    try:
        writer = pq.ParquetWriter(str(temp), out_schema, **options)
    except (ValueError, pa.ArrowException):
        writer = pq.ParquetWriter(str(temp), out_schema)
    with writer:
        for group in range(meta.num_row_groups):
            pending: list[pa.RecordBatch] = []
            size = 0
            for batch in _batches(parquet, group):
                out = _redact_batch(batch, out_schema, retyped, whole=whole, other=other, stats=stats)
                pending.append(out)
                size += out.nbytes
                if size >= _MAX_BUFFERED_BYTES:
                    _flush(writer, pending, out_schema)
                    pending, size = [], 0
            _flush(writer, pending, out_schema)


def _shown(arrow_type: Any) -> str:
    """A type as the note shows it; a field only made nullable (for removed values) is no change."""
    return str(arrow_type).replace(" not null", "")


_PARQUET_CODECS = {
    "UNCOMPRESSED": "none",
    "SNAPPY": "snappy",
    "GZIP": "gzip",
    "BROTLI": "brotli",
    "ZSTD": "zstd",
    "LZ4": "lz4",
    "LZ4_RAW": "lz4",
}


def _batches(parquet: Any, group: int) -> Iterator[Any]:
    try:
        yield from parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[group], use_threads=False)
    except Exception as exc:  # corrupt pages surface as several pyarrow types
        raise DiscoveryError(f"not a readable Parquet file ({type(exc).__name__} in row group {group})") from None


def _flush(writer: Any, pending: list[Any], schema: Any) -> None:
    """One row group of the batches held back (the input's row group, unless it was split)."""
    import pyarrow as pa

    if pending:
        table = pa.Table.from_batches(pending, schema=schema)
        writer.write_table(table, row_group_size=max(1, table.num_rows))


def _redact_batch(
    batch: Any,
    schema: Any,
    retyped: dict[str, pa.DataType],
    *,
    whole: dict[str, Change],
    other: PerFinding,
    stats: RedactStats,
) -> Any:
    import pyarrow as pa

    stats.rows += batch.num_rows
    arrays = []
    for field_, column in zip(schema, batch.columns, strict=True):
        name = field_.name
        if name not in whole and name not in retyped and not _may_hold_pi(column.type):
            arrays.append(column)
            continue
        values = column.to_pylist()
        new_values: list[Any] = []
        changed = 0
        for start in range(0, len(values), CHUNK_ROWS):
            chunk = values[start : start + CHUNK_ROWS]
            if name not in whole:
                other.prefetch(t for v in chunk for t in value_texts(v, name, whole))
            for value in chunk:
                new, count = redact_value(value, name, whole, other)
                changed += count
                new_values.append(new)
        stats.values_changed += changed
        if name in retyped:
            arrays.append(pa.array([_fit(v, field_.type) for v in new_values], type=field_.type))
        elif not changed:
            arrays.append(column)
        else:
            try:
                arrays.append(pa.array(new_values, type=field_.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                raise _RetypeError(name) from None  # (the message would quote a value)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _may_hold_pi(arrow_type: Any) -> bool:
    """Whether values of this type are analysed: not flags, bytes or nulls."""
    import pyarrow as pa

    types = pa.types
    return not (
        types.is_boolean(arrow_type)
        or types.is_null(arrow_type)
        or types.is_binary(arrow_type)
        or types.is_large_binary(arrow_type)
        or types.is_fixed_size_binary(arrow_type)
    )


def _is_text_type(arrow_type: Any) -> bool:
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(arrow_type):
        return _is_text_type(arrow_type.value_type)
    return bool(types.is_string(arrow_type) or types.is_large_string(arrow_type) or types.is_string_view(arrow_type))


def _stringify(arrow_type: Any) -> Any:
    """``arrow_type`` with every value that can be redacted as text (flags, bytes and nulls
    stay; lists, structs and maps keep their shape)."""
    import pyarrow as pa

    types = pa.types
    if _is_text_type(arrow_type) or not _may_hold_pi(arrow_type):
        return arrow_type
    if types.is_dictionary(arrow_type):
        return _stringify(arrow_type.value_type)
    if types.is_struct(arrow_type):
        return pa.struct([pa.field(f.name, _stringify(f.type), nullable=True, metadata=f.metadata) for f in arrow_type])
    if types.is_map(arrow_type):
        # Keys can hold personal information too: a redacted key is text.
        return pa.map_(_stringify(arrow_type.key_type), _stringify(arrow_type.item_type))
    if types.is_large_list(arrow_type):
        return pa.large_list(_stringify(arrow_type.value_type))
    if types.is_list(arrow_type) or types.is_fixed_size_list(arrow_type):
        return pa.list_(_stringify(arrow_type.value_type))
    return pa.string()


def _retype(arrow_type: Any, path: str, whole: dict[str, Change], removes: bool) -> Any:
    """The type a column (or struct field) at ``path`` is written with: text where it is
    transformed whole (nulls of its own type when values are removed), else its own."""
    import pyarrow as pa

    if path in whole:
        return arrow_type if removes else _stringify(arrow_type)
    if pa.types.is_struct(arrow_type):
        children = []
        for f in arrow_type:
            child = f"{path}.{f.name}"
            nullable = f.nullable or any(w == child or w.startswith(child + ".") for w in whole)
            children.append(pa.field(f.name, _retype(f.type, child, whole, removes), nullable, f.metadata))
        return pa.struct(children)
    return arrow_type


def _fit(value: Any, arrow_type: Any) -> Any:
    """``value`` shaped for ``arrow_type`` (from ``_stringify``): scalars where it holds text as text."""
    import pyarrow as pa

    types = pa.types
    if value is None:
        return None
    if _is_text_type(arrow_type):
        return value if isinstance(value, str) else scalar_text(value)
    if types.is_struct(arrow_type) and isinstance(value, dict):
        return {f.name: _fit(value.get(f.name), f.type) for f in arrow_type}
    if types.is_map(arrow_type) and isinstance(value, list):
        return [(_fit(k, arrow_type.key_type), _fit(v, arrow_type.item_type)) for k, v in value]
    if (types.is_list(arrow_type) or types.is_large_list(arrow_type)) and isinstance(value, list):
        return [_fit(v, arrow_type.value_type) for v in value]
    return value
