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
import pyarrow.compute as pc

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


def event_schema(*, text_times: bool) -> pa.Schema:
    """Arrow schema of the events file (times as text for CSV/JSONL, timestamps for Parquet)."""
    dict_str = pa.dictionary(pa.int32(), pa.string())
    types: dict[str, pa.DataType] = {name: dict_str for name in EVENT_COLUMNS}
    types["event_id"] = pa.string()
    types["time"] = pa.string() if text_times else pa.timestamp("s", tz="+08:00")
    types["fields"] = pa.list_(pa.string())
    types["query"] = pa.string()
    types["result_count"] = pa.int64()
    types["result_subject_ids"] = pa.list_(pa.string())
    return pa.schema([(name, types[name]) for name in EVENT_COLUMNS])


def fixed_width(matrix: np.ndarray) -> pa.Array:
    """A string array from an (n, width) uint8 matrix of ASCII bytes."""
    n, width = matrix.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


_QUADS = np.array(
    [[48 + k // 1000, 48 + k // 100 % 10, 48 + k // 10 % 10, 48 + k % 10] for k in range(10_000)], np.uint8
)
# The same four ASCII bytes as one 32-bit word each: one gather per four digits.
_QUAD_WORDS = _QUADS.view(np.uint32).reshape(-1)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    # ASCII digits, four at a time through a lookup table of 32-bit words (far fewer
    # divisions and copies than per digit); returns an (n, width) view of right-aligned digits.
    words = -(-width // 4)
    out = np.empty((len(values), words), np.uint32)
    rest = values.astype(np.int64)
    for k in range(words - 1, -1, -1):
        if k:
            rest, quad = np.divmod(rest, 10_000)
        else:
            quad = rest % 10_000
        out[:, k] = _QUAD_WORDS[quad]
    return out.view(np.uint8).reshape(len(values), words * 4)[:, words * 4 - width :]


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
    dates = np.frombuffer(
        "".join(
            f"{(w.city.start + timedelta(days=k)).date().isoformat()}"
            for k in range(low, int(day.max()) + 1 if len(t) else 1)
        ).encode(),
        np.uint8,
    ).reshape(-1, 10)
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


def _dict(indices: np.ndarray, values: Any, null: np.ndarray | None = None) -> pa.Array:
    mask = null if null is not None and null.any() else None
    dictionary = values if isinstance(values, pa.Array) else _vocabulary(values)
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32, copy=False), mask=mask), dictionary)


_VOCABULARIES: dict[tuple[str, ...], pa.Array] = {}


def _vocabulary(values: Any) -> pa.Array:
    # The small fixed vocabularies (tuples of the columns module) converted once, not per batch.
    if isinstance(values, tuple):
        if values not in _VOCABULARIES:
            _VOCABULARIES[values] = pa.array(values, pa.string())
        return _VOCABULARIES[values]
    return pa.array(values, pa.string())


def _coded(values: np.ndarray, render: Any) -> pa.Array:
    # Unique values of the chunk rendered once each (``render`` gets the sorted non-negative
    # uniques and returns their strings); null where value < 0. The uniques are found by
    # hashing (Arrow's dictionary_encode), then sorted: the same dictionary and indices as a
    # sort-based np.unique, at a fraction of the cost for large chunks.
    null = values < 0
    has_null = bool(null.any())
    keys = np.where(null, -1, values) if has_null else values
    encoded = pc.dictionary_encode(pa.array(keys, pa.int64()))
    found = encoded.dictionary.to_numpy()
    order = np.argsort(found)
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    uniques = found[order]
    inverse = rank[encoded.indices.to_numpy()]
    valid = uniques >= 0
    names = render(uniques[valid]) if valid.any() else pa.array([], pa.string())
    if not valid.all():  # the -1 slot comes first in the sorted uniques
        names = pa.concat_arrays([pa.array([""], pa.string()), names])
    return _dict(inverse, names, null if has_null else None)


def _prefixed(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    matrix = np.empty((len(values), len(prefix) + width), np.uint8)
    matrix[:, : len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    matrix[:, len(prefix) :] = _digits(values.astype(np.int64), width)
    return fixed_width(matrix)


def _cached(w: World, name: str, values: list[str]) -> pa.Array:
    if name not in w.arrays:
        w.arrays[name] = pa.array(values, pa.string())
    return w.arrays[name]


def _cached_fieldsets(w: World) -> pa.Array:
    # The FIELDSETS as Arrow lists, the empty set as null (an event without fields has none).
    if "fieldsets" not in w.arrays:
        w.arrays["fieldsets"] = pa.array([list(f) if f else None for f in FIELDSETS], pa.list_(pa.string()))
    return w.arrays["fieldsets"]


def warm(w: World) -> None:
    """Convert the world's id lists to Arrow once, before worker threads render batches."""
    for name in ("staff_ids", "org_ids", "terminals", "terminal_ip", "death_ids", "dispatch_ids", "report_ids"):
        _cached(w, name, getattr(w, name))
    _cached_fieldsets(w)


def render_subjects(w: World, subj: np.ndarray) -> pa.Array:
    """Subject id strings of sorted subject codes (deaths, inpatients, callers)."""
    parts = []
    deaths = subj[subj < INPATIENT_BASE]
    if len(deaths):
        parts.append(_cached(w, "death_ids", w.death_ids).take(pa.array(deaths)))
    inpatients = subj[(subj >= INPATIENT_BASE) & (subj < CALLER_BASE)]
    if len(inpatients):
        parts.append(_prefixed("pi", inpatients - INPATIENT_BASE, 10))
    callers = subj[subj >= CALLER_BASE]
    if len(callers):
        parts.append(_prefixed("pc", callers - CALLER_BASE, 9))
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def render_resources(w: World, keys: np.ndarray) -> pa.Array:
    """Resource id strings of sorted (resource type << 40 | resource) codes."""
    rtype = keys >> 40
    res = keys & ((1 << 40) - 1)
    parts = []
    for code, kind in enumerate(RTYPES):
        mine = res[rtype == code]
        if not len(mine):
            continue
        if kind == "dispatch":
            own = mine[mine < OTHER_CALL_BASE]
            if len(own):
                parts.append(_cached(w, "dispatch_ids", w.dispatch_ids).take(pa.array(own)))
            other = mine[mine >= OTHER_CALL_BASE]
            if len(other):
                parts.append(_prefixed("dq", other - OTHER_CALL_BASE, 9))
        elif kind == "encounter":
            parts.append(pc.binary_join_element_wise("enc-", render_subjects(w, mine), ""))
        elif kind == "contact":
            reports = _cached(w, "report_ids", w.report_ids).take(pa.array(mine))
            parts.append(pc.binary_join_element_wise("ct-", reports, ""))
        elif kind == "person":
            parts.append(_cached(w, "death_ids", w.death_ids).take(pa.array(mine)))
        else:
            parts.append(_cached(w, "report_ids", w.report_ids).take(pa.array(mine)))
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def subject_name(w: World, subj: int) -> str:
    """The subject id string of one coded subject."""
    return str(render_subjects(w, np.array([subj], np.int64))[0].as_py())


def to_batch(w: World, b: Block, *, first_id: int, extras: Extras, text_times: bool) -> pa.RecordBatch:
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
    # Plain strings inside the list: pyarrow cannot read list<dictionary> back in batches.
    # Each event's list is one of the few FIELDSETS: one Arrow take copies them per event.
    fields = _cached_fieldsets(w).take(pa.array(c["fields"].astype(np.int32)))
    extra = c["extra"]
    has = extra >= 0
    # Plain (not dictionary) text: a dictionary column with few values and many nulls did not
    # write byte-identical Parquet from run to run. Only the few rows with details are looked at.
    used, position = np.unique(extra[has], return_inverse=True)
    texts = pa.array([extras[int(k)][0] for k in used], pa.string())
    slot = np.zeros(n, np.int64)
    slot[has] = position.reshape(-1)
    query = texts.take(pa.array(slot, mask=~has)) if len(used) else pa.nulls(n, pa.string())
    counts = np.zeros(n, np.int64)
    counts[has] = [extras[int(k)][1] for k in extra[has]]
    count = pa.array(counts, pa.int64(), mask=~has)
    ids_len = np.array([len(extras[k][2]) if k >= 0 else 0 for k in extra[has]], np.int64)
    lengths = np.zeros(n, np.int64)
    lengths[has] = ids_len
    id_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=id_offsets[1:])
    id_offsets = id_offsets.astype(np.int32)
    id_values = [s for k in extra[has] for s in extras[int(k)][2]]
    result_ids = pa.ListArray.from_arrays(
        pa.array(id_offsets), pa.array(id_values, pa.string()), mask=pa.array(lengths == 0)
    )
    columns = {
        "event_id": event_ids(first_id, n),
        "time": time,
        "user_id": _dict(user, _cached(w, "staff_ids", w.staff_ids)),
        "role": _dict(w.role[user], ROLES),
        "org_id": _dict(org, _cached(w, "org_ids", w.org_ids)),
        "terminal_id": _dict(np.maximum(terminal, 0), _cached(w, "terminals", w.terminals), terminal < 0),
        "session_id": _coded(session, lambda s: _prefixed("ss", s, 11)),
        "source_ip": _dict(np.maximum(terminal, 0), _cached(w, "terminal_ip", w.terminal_ip), terminal < 0),
        "action": _dict(c["action"], ACTIONS),
        "resource_type": _dict(c["rtype"], RTYPES, c["rtype"] == 0),
        "resource_id": _coded(key, lambda k: render_resources(w, k)),
        "subject_id": _coded(c["subj"], lambda s: render_subjects(w, s)),
        "fields": fields,
        "purpose": _dict(c["purpose"], PURPOSES, c["purpose"] == 0),
        "outcome": _dict(c["outcome"], OUTCOMES),
        "reason": _dict(c["reason"], REASONS, c["reason"] == 0),
        "query": query,
        "result_count": count,
        "result_subject_ids": result_ids,
    }
    return pa.RecordBatch.from_arrays(
        [columns[name] for name in EVENT_COLUMNS], schema=event_schema(text_times=text_times)
    )
