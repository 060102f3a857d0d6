"""Blocks of coded events -> Arrow record batches with the FORMATS.md section 1 columns.

Strings are produced without a Python loop per event: small vocabularies and per-chunk unique
ids become dictionary-encoded columns, and event ids and RFC 3339 times are built as
fixed-width byte matrices with numpy.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from piguard.interchange.events import EVENT_COLUMNS, ROLES
from piguard.simulate.columns import (
    ACTIONS,
    CALLER_BASE,
    FIELDSETS,
    INPATIENT_BASE,
    OTHER_CALL_BASE,
    OUTCOMES,
    PURPOSES,
    REASONS,
    RTYPES,
    Block,
)
from piguard.simulate.world import World

Extras = list[tuple[str, int, tuple[str, ...]]]
_FIELD_NAMES = sorted({name for fields in FIELDSETS for name in fields})
_FIELD_LEN = np.array([len(f) for f in FIELDSETS], np.int64)
_FIELD_TABLE = np.full((len(FIELDSETS), max(_FIELD_LEN)), -1, np.int32)
for _k, _fields in enumerate(FIELDSETS):
    _FIELD_TABLE[_k, : len(_fields)] = [_FIELD_NAMES.index(f) for f in _fields]


def event_schema(*, text_times: bool) -> pa.Schema:
    """Arrow schema of the events file (times as text for CSV/JSONL, timestamps for Parquet)."""
    dict_str = pa.dictionary(pa.int32(), pa.string())
    types: dict[str, pa.DataType] = {name: dict_str for name in EVENT_COLUMNS}
    types["event_id"] = pa.string()
    types["time"] = pa.string() if text_times else pa.timestamp("s", tz="+08:00")
    types["fields"] = pa.list_(dict_str)
    types["result_count"] = pa.int64()
    types["result_subject_ids"] = pa.list_(pa.string())
    return pa.schema([(name, types[name]) for name in EVENT_COLUMNS])


def fixed_width(matrix: np.ndarray) -> pa.Array:
    """A string array from an (n, width) uint8 matrix of ASCII bytes."""
    n, width = matrix.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + 48).astype(np.uint8)


def event_ids(first: int, n: int) -> pa.Array:
    """Ids ``e00000000001``... for ``n`` events numbered from ``first``."""
    matrix = np.empty((n, 12), np.uint8)
    matrix[:, 0] = ord("e")
    matrix[:, 1:] = _digits(np.arange(first, first + n, dtype=np.int64), 11)
    return fixed_width(matrix)


def rfc3339(w: World, t: np.ndarray) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS+08:00`` for seconds ``t`` from the simulation start."""
    day = t // 86400
    low = int(day.min()) if len(t) else 0
    dates = np.frombuffer("".join(
        f"{(w.city.start + timedelta(days=k)).date().isoformat()}"
        for k in range(low, int(day.max()) + 1 if len(t) else 1)).encode(), np.uint8).reshape(-1, 10)
    tod = t % 86400
    matrix = np.empty((len(t), 25), np.uint8)
    matrix[:, :10] = dates[day - low]
    matrix[:, 10] = ord("T")
    matrix[:, 11:13] = _digits(tod // 3600, 2)
    matrix[:, 13] = ord(":")
    matrix[:, 14:16] = _digits(tod // 60 % 60, 2)
    matrix[:, 16] = ord(":")
    matrix[:, 17:19] = _digits(tod % 60, 2)
    matrix[:, 19:] = np.frombuffer(b"+08:00", np.uint8)
    return fixed_width(matrix)


def _dict(indices: np.ndarray, values: list[str] | tuple[str, ...], null: np.ndarray | None = None,
          ) -> pa.Array:
    mask = null if null is not None and null.any() else None
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32), mask=mask),
                                          pa.array(values, pa.string()))


def _coded(values: np.ndarray, render: Any) -> pa.Array:
    # Unique values of the chunk rendered once each; null where value < 0.
    null = values < 0
    uniques, inverse = np.unique(np.where(null, -1, values), return_inverse=True)
    names = [render(int(u)) if u >= 0 else "" for u in uniques]
    return _dict(inverse.reshape(-1), names, null)


def subject_name(w: World, subj: int) -> str:
    """The subject id string of a coded subject."""
    if subj < INPATIENT_BASE:
        return w.death_ids[subj]
    if subj < CALLER_BASE:
        return f"pi{subj - INPATIENT_BASE:010d}"
    rest = subj - CALLER_BASE
    return f"pc{rest // 100_000:04d}{rest % 100_000:05d}"


def resource_name(w: World, rtype: int, res: int) -> str:
    """The resource id string of a coded (resource type, resource) pair."""
    kind = RTYPES[rtype]
    if kind == "dispatch":
        if res < OTHER_CALL_BASE:
            return w.dispatch_ids[res]
        rest = res - OTHER_CALL_BASE
        return f"dq{rest // 100_000:04d}{rest % 100_000:05d}"
    if kind == "encounter":
        return "enc-" + subject_name(w, res)
    if kind == "contact":
        return "ct-" + w.report_ids[res]
    if kind == "person":
        return w.death_ids[res]
    return w.report_ids[res]


def to_batch(w: World, b: Block, *, first_id: int, extras: Extras, text_times: bool
             ) -> pa.RecordBatch:
    """Render one time-sorted block as an events record batch."""
    c = b.cols
    n = len(b)
    user = c["user"].astype(np.int64)
    org = w.org_at(user, c["t"])
    terminal = np.where(c["terminal"] == -2, w.workstation[user], c["terminal"])
    session = np.where(c["session"] >= 0, c["session"], user * 100_000 + c["t"] // 86400)
    key = c["rtype"].astype(np.int64) << 40 | np.maximum(c["res"], 0)
    key = np.where(c["res"] < 0, -1, key)
    if text_times:
        time: pa.Array = rfc3339(w, c["t"])
    else:
        epoch = int(w.city.start.timestamp())
        time = pa.array(c["t"] + epoch, pa.int64()).cast(pa.timestamp("s", tz="+08:00"))
    fields_len = _FIELD_LEN[c["fields"]]
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(fields_len, out=offsets[1:])
    flat = _FIELD_TABLE[c["fields"]]
    flat = flat[flat >= 0]
    fields = pa.ListArray.from_arrays(
        pa.array(offsets), _dict(flat, _FIELD_NAMES), mask=pa.array(fields_len == 0))
    extra = c["extra"]
    has = extra >= 0
    query = _coded(np.where(has, extra, -1), lambda k: extras[k][0])
    counts = np.zeros(n, np.int64)
    counts[has] = [extras[int(k)][1] for k in extra[has]]
    count = pa.array(counts, pa.int64(), mask=~has)
    ids_len = np.array([len(extras[k][2]) if k >= 0 else 0 for k in extra[has]], np.int64)
    lengths = np.zeros(n, np.int64)
    lengths[has] = ids_len
    id_offsets = np.zeros(n + 1, np.int32)
    np.cumsum(lengths, out=id_offsets[1:])
    id_values = [s for k in extra[has] for s in extras[int(k)][2]]
    result_ids = pa.ListArray.from_arrays(pa.array(id_offsets), pa.array(id_values, pa.string()),
                                          mask=pa.array(lengths == 0))
    columns = {
        "event_id": event_ids(first_id, n),
        "time": time,
        "user_id": _dict(user, w.staff_ids),
        "role": _dict(w.role[user], ROLES),
        "org_id": _dict(org, w.org_ids),
        "terminal_id": _dict(np.maximum(terminal, 0), w.terminals, terminal < 0),
        "session_id": _coded(session, lambda s: f"ss{s // 100_000:06d}{s % 100_000:05d}"),
        "source_ip": _dict(np.maximum(terminal, 0), w.terminal_ip, terminal < 0),
        "action": _dict(c["action"], ACTIONS),
        "resource_type": _dict(c["rtype"], RTYPES, c["rtype"] == 0),
        "resource_id": _coded(key, lambda k: resource_name(w, k >> 40, k & ((1 << 40) - 1))),
        "subject_id": _coded(c["subj"], lambda s: subject_name(w, s)),
        "fields": fields,
        "purpose": _dict(c["purpose"], PURPOSES, c["purpose"] == 0),
        "outcome": _dict(c["outcome"], OUTCOMES),
        "reason": _dict(c["reason"], REASONS, c["reason"] == 0),
        "query": query,
        "result_count": count,
        "result_subject_ids": result_ids,
    }
    return pa.RecordBatch.from_arrays([columns[name] for name in EVENT_COLUMNS],
                                      schema=event_schema(text_times=text_times))
