"""Core-level reads for the guarded hot path, inside the caller's ORM transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def core_execute(session: Session, statement: Executable, params: Mapping[str, Any]) -> CursorResult[Any]:
    """Run a Core statement on the session's connection, after flushing pending ORM changes.

    The ORM execution layer (entity adaptation, identity map, events) costs more than SQLite
    needs to answer the guarded path's small indexed reads, so those go straight to Core; the
    explicit flush keeps the ORM's autoflush guarantee (the read sees this transaction's writes).
    """
    session.flush()
    return session.connection().execute(statement, dict(params))
