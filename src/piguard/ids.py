"""Opaque identifiers: ULIDs, never sequential."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    """A new opaque, time-sortable, unguessable id (26-char ULID)."""
    return str(ULID())
