"""Row locks that also hold on SQLite, whose plain reads take no lock at all."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from piguard.db.base import Base

M = TypeVar("M", bound=Base)


def get_for_update(session: Session, model: type[M], ident: str) -> M | None:
    """The row, read afresh after taking its lock for the rest of the transaction (None if absent).

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks, and a state read
    before another writer commits would be acted on stale; so a no-op UPDATE first takes the
    database's write lock, waiting for any writer about to commit, and the read after it sees that
    writer's changes. Either way an object the session already held is refreshed.
    """
    if session.get_bind().dialect.name == "sqlite":
        key = inspect(model).primary_key[0]
        session.execute(
            update(model).where(key == ident).values({key.name: key}).execution_options(synchronize_session=False)
        )
        return session.get(model, ident, populate_existing=True)
    return session.get(model, ident, with_for_update=True, populate_existing=True)
