"""The entries table's copied columns (``event_id``, ``time_us``, ``user_id``, ``subject_id``).

Appends copy these fields of each event beside its leaf so that selections can be made in SQL.
Nothing in the Merkle tree covers them: whoever can write to the database can edit them, to
hide an event from a selection or to attribute it to someone else. So they are checked against
the leaf (the hashed canonical JSON), which the tree and the signed checkpoints do cover:

- ``agrees``: a fast check used on every row that ``audit verify`` and selections read; it is
  sound (True only if every column equals the leaf's value) but may say False for a leaf that
  is not in canonical form, so ``differing`` then decides exactly;
- ``suspect_sql``: the same sound test evaluated by the database over rows a selection does not
  return, so that a row whose column was edited to move it out of the selection still comes back
  (and is then refused).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C version when available: JCS's string escapes
from typing import Any

COLUMNS = ("event_id", "time_us", "user_id", "subject_id")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: SQLite's date functions keep milliseconds only: its test of ``time_us`` tolerates this much.
SQLITE_TIME_TOLERANCE_US = 2_000
#: Selections widen their time bounds in SQL by this much (more than SQLite's error) and apply the
#: exact bounds to the checked columns, so a row whose time was edited by less than the tolerance
#: is still read, and refused.
TIME_MARGIN_US = 5_000
_TIME_KEY = b'"time":"'
_SUBJECT_KEY = b'"subject_id":'
_EVENT_KEY = b'"event_id":'
#: ``event_id`` follows only ``action`` in a canonical leaf: it starts within this many bytes.
_EVENT_WITHIN = 100


def _us(text: str) -> int:
    delta = datetime.fromisoformat(text) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _encoded(value: str) -> bytes:
    return encode_basestring(value).encode()


def agrees(data: bytes, event_id: Any, time_us: Any, user_id: Any, subject_id: Any) -> bool:
    """Whether the columns certainly equal the leaf's values (False: undecided, see ``differing``).

    In JSON an unescaped quote only delimits strings, so ``"user_id":`` can only be a key, and the
    encoded value after it, closing quote included, is the whole value: finding it proves
    equality. A canonical leaf's members are sorted, so each is looked for where it must be:
    ``user_id`` last, ``time`` just before it, ``subject_id`` before that, ``event_id`` second
    (a few bytes from either end instead of a scan of the whole leaf). The time is parsed and
    compared in microseconds.
    """
    if type(event_id) is not str or type(user_id) is not str or type(time_us) is not int:
        return False
    user = b'"user_id":' + _encoded(user_id) + b"}"
    if not data.endswith(user):
        return False
    time_at = data.rfind(_TIME_KEY, 0, len(data) - len(user))
    time_end = data.find(b'"', time_at + len(_TIME_KEY))
    if time_at < 0 or time_end < 0:
        return False
    subject_at = data.rfind(_SUBJECT_KEY, 0, time_at)
    if subject_id is None:
        if subject_at >= 0:
            return False
    elif (
        type(subject_id) is not str
        or subject_at < 0
        or not data.startswith(_encoded(subject_id), subject_at + len(_SUBJECT_KEY))
    ):
        return False
    event_at = data.find(_EVENT_KEY, 0, _EVENT_WITHIN)
    if event_at < 0 or not data.startswith(_encoded(event_id), event_at + len(_EVENT_KEY)):
        return False
    try:
        return _us(data[time_at + len(_TIME_KEY) : time_end].decode("ascii")) == time_us
    except (UnicodeDecodeError, ValueError, OverflowError):
        return False


def leaf_values(data: bytes) -> tuple[Any, Any, Any, Any] | None:
    """The leaf's own ``(event_id, time_us, user_id, subject_id)``; None if it cannot be read."""
    try:
        record = json.loads(data)
        time = record.get("time") if isinstance(record, dict) else None
        if not isinstance(time, str):
            return None
        return record.get("event_id"), _us(time), record.get("user_id"), record.get("subject_id")
    except (ValueError, RecursionError, OverflowError):
        return None


def differing(data: bytes, event_id: Any, time_us: Any, user_id: Any, subject_id: Any) -> list[str]:
    """The names of the columns that differ from the leaf's values (all of them if it is unreadable)."""
    if agrees(data, event_id, time_us, user_id, subject_id):
        return []
    leaf = leaf_values(data)
    if leaf is None:
        return list(COLUMNS)
    stored = (event_id, time_us, user_id, subject_id)
    return [name for name, mine, theirs in zip(COLUMNS, stored, leaf, strict=True) if mine != theirs]


# SQL: true when the column may differ from the leaf. NULLs and unreadable leaves count as suspect
# (a NULL test result would silently let a row through). As in ``agrees``, each member is looked
# for where a canonical leaf has it: ``user_id`` is its last member, ``subject_id`` lies within its
# last ``TAIL`` bytes and ``time`` within ``TIME_TAIL``, ``event_id`` within its first ``HEAD``; a leaf laid out
# otherwise is merely suspect (read and decided exactly), except that a NULL subject is looked
# for in the whole leaf (its absence must be certain).
TAIL = 300
TIME_TAIL = 200
HEAD = 300
_SQLITE_DATA = "CAST(data AS BLOB)"
_SQLITE_TAIL = f"substr({_SQLITE_DATA}, -{TAIL})"
_SQLITE_TIME_TAIL = f"substr({_SQLITE_DATA}, -{TIME_TAIL})"
_SQLITE_USER = "CAST('\"user_id\":' || json_quote(user_id) || '}' AS BLOB)"
_SQLITE_TIME_TEXT = (
    f'CAST(substr({_SQLITE_TIME_TAIL}, instr({_SQLITE_TIME_TAIL}, CAST(\'"time":"\' AS BLOB)) + 8, 40) AS TEXT)'
)
_SQLITE_TIME = f"substr({_SQLITE_TIME_TEXT}, 1, instr({_SQLITE_TIME_TEXT}, '\"') - 1)"
_SQLITE = {
    "event_id": (
        f"coalesce(instr(substr({_SQLITE_DATA}, 1, {HEAD}), CAST('\"event_id\":' || json_quote(event_id) AS BLOB)), 0)"
        " = 0"
    ),
    "user_id": f"substr({_SQLITE_DATA}, -length({_SQLITE_USER})) IS NOT {_SQLITE_USER}",
    "subject_id": (
        f"CASE WHEN subject_id IS NULL THEN instr({_SQLITE_DATA}, CAST('\"subject_id\":' AS BLOB)) > 0 "
        f"ELSE coalesce(instr({_SQLITE_TAIL}, CAST('\"subject_id\":' || json_quote(subject_id) AS BLOB)), 0) = 0 END"
    ),
    # julianday() of the time text (up to its closing quote) keeps milliseconds only: a tolerance.
    "time_us": (
        f"coalesce(abs(time_us - CAST(round((julianday({_SQLITE_TIME}) - 2440587.5) * 86400000000.0) AS INTEGER))"
        f" <= {SQLITE_TIME_TOLERANCE_US}, 0) = 0"
    ),
}
_PG_TAIL = f"substring(data FROM greatest(length(data) - {TAIL - 1}, 1))"
_PG_TIME_TAIL = f"substring(data FROM greatest(length(data) - {TIME_TAIL - 1}, 1))"
_PG_USER = "convert_to('\"user_id\":' || to_json(user_id)::text || '}', 'UTF8')"
_PG_TIME = (
    f"split_part(encode(substring({_PG_TIME_TAIL} "
    f"FROM position('\\x2274696d65223a22'::bytea IN {_PG_TIME_TAIL}) + 8 FOR 40), 'escape'), '\"', 1)"
)
_RFC3339 = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z)$'"
_PG = {
    "event_id": (
        f"coalesce(position(convert_to('\"event_id\":' || to_json(event_id)::text, 'UTF8') "
        f"IN substring(data FROM 1 FOR {HEAD})), 0) = 0"
    ),
    "user_id": f"substring(data FROM greatest(length(data) - length({_PG_USER}) + 1, 1)) IS DISTINCT FROM {_PG_USER}",
    "subject_id": (
        "CASE WHEN subject_id IS NULL THEN position('\\x227375626a6563745f6964223a'::bytea IN data) > 0 "
        f"ELSE coalesce(position(convert_to('\"subject_id\":' || to_json(subject_id)::text, 'UTF8') IN {_PG_TAIL}), 0)"
        " = 0 END"
    ),
    # Exact to the microsecond; text that is not an RFC 3339 time is suspect (never cast: an error).
    "time_us": (
        f"CASE WHEN {_PG_TIME} ~ {_RFC3339} "
        f"THEN time_us IS DISTINCT FROM (extract(epoch FROM ({_PG_TIME})::timestamptz) * 1000000)::bigint "
        "ELSE true END"
    ),
}
#: SQL for the leaf's local date (the 10 bytes after ``"time":"`` in its tail) and whether it was found.
LEAF_DATE = {
    "sqlite": (
        f'substr({_SQLITE_TIME_TAIL}, instr({_SQLITE_TIME_TAIL}, CAST(\'"time":"\' AS BLOB)) + 8, 10)',
        f'instr({_SQLITE_TIME_TAIL}, CAST(\'"time":"\' AS BLOB)) > 0',
    ),
    "postgresql": (
        f"substring({_PG_TIME_TAIL} FROM position('\\x2274696d65223a22'::bytea IN {_PG_TIME_TAIL}) + 8 FOR 10)",
        f"position('\\x2274696d65223a22'::bytea IN {_PG_TIME_TAIL}) > 0",
    ),
}


def suspect_sql(dialect: str, columns: Iterable[str]) -> str:
    """SQL true for rows whose given columns may differ from their leaf (sound: false means equal)."""
    chosen = _PG if dialect == "postgresql" else _SQLITE
    return "(" + " OR ".join(f"({chosen[name]})" for name in columns) + ")"
