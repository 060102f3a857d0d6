"""Fast RFC 8785 (JCS) canonical JSON of access events: the exact bytes of the ledger leaf.

``AccessEvent.canonical_json`` (the rfc8785 package) costs ~100 us per event, more than the
whole rest of an append. An event record holds only ASCII keys, strings, lists of strings
and small integers; for those, JCS is exactly JSON with sorted keys, no spaces and no ASCII
escaping (JSON's and JCS's string escapes agree: quote, backslash and control characters, with
the same short forms and lowercase ``\\u00xx``). Anything else falls back to the rfc8785 package; a
property test checks both give identical bytes.
"""

from __future__ import annotations

from datetime import datetime
from json.encoder import encode_basestring  # the C version when available
from typing import Any

import rfc8785

from piguard.errors import InputError
from piguard.interchange.events import EVENT_COLUMNS, AccessEvent

MAX_SAFE_INTEGER = 2**53 - 1
# JCS orders members by UTF-16 code units; for these ASCII names that is plain sorting.
_ORDER = tuple(sorted(EVENT_COLUMNS))
_quote = encode_basestring  # escapes exactly: quote, backslash, control characters


def _member(name: str, value: Any) -> str | None:
    if value is None or value == ():
        return None  # absent optional fields are omitted, as ``AccessEvent.to_record`` does
    kind = type(value)
    if kind is str:
        return f'"{name}":{_quote(value)}'
    if kind is tuple:
        if not all(type(item) is str for item in value):
            raise _FallbackError
        return f'"{name}":[{",".join(_quote(item) for item in value)}]'
    if kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _FallbackError
        return f'"{name}":{value}'
    if isinstance(value, datetime):
        return f'"{name}":{_quote(value.isoformat())}'
    raise _FallbackError


class _FallbackError(Exception):
    """A value outside the fast path's types: use the reference implementation."""


def canonical_event(event: AccessEvent) -> bytes:
    """The RFC 8785 canonical JSON of ``event`` (identical to ``event.canonical_json()``)."""
    values = event.__dict__
    try:
        members = [m for name in _ORDER if (m := _member(name, values[name])) is not None]
        return ("{" + ",".join(members) + "}").encode("utf-8")
    except (_FallbackError, UnicodeEncodeError):
        pass  # e.g. a lone surrogate: let the reference implementation decide
    try:
        return event.canonical_json()
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        # e.g. an integer beyond I-JSON's 2**53 - 1: no canonical form exists, so no leaf either.
        raise InputError(f"event cannot be canonicalised ({type(exc).__name__})", where="event") from None
