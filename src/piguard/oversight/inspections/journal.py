"""Writing one inspection entry: its digest, its ledger event, in the caller's transaction.

The ledger holds no free text: an entry's reason and description stay in its table, and the
ledger event's reason carries the SHA-256 of the entry's canonical JSON, so anyone holding the
signed log can check that the stored entry is the one that was recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import rfc8785
from sqlalchemy.orm import Session

from piguard.identity.schemas import Principal
from piguard.ids import new_id
from piguard.records.guard import EventDraft, record_event

PURPOSE = "HOPERAT"  # inspection and rectification follow-up are healthcare operations
_NOT_DIGESTED = ("ledger_event_id", "digest")
R = TypeVar("R")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def content(row: Any) -> dict[str, Any]:
    """The digested content of an entry: every column but its ledger link and digest."""
    return {
        column.key: _plain(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in _NOT_DIGESTED
    }


def digest_of(row: Any) -> str:
    """SHA-256 (hex) of the entry's RFC 8785 canonical JSON."""
    return hashlib.sha256(rfc8785.dumps(content(row))).hexdigest()


def write(
    session: Session,
    row: R,
    *,
    principal: Principal,
    at: datetime,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    what: str,
) -> R:
    """Stamp ``row`` (id, author, server time, digest), append its ledger event and insert it."""
    entry: Any = row
    if entry.id is None:
        entry.id = new_id()
    entry.created_by = principal.account_id
    entry.created_at = at
    entry.digest = digest_of(entry)
    draft = EventDraft(
        action=action,
        resource_type=resource_type,
        resource_id=resource_id or entry.id,
        purpose=PURPOSE,
        fields=[f"{resource_type}.{what}"],
    )
    event = record_event(
        session,
        principal,
        draft,
        at=at,
        outcome="allowed",
        reason=f"{resource_type} {what} {entry.id}; sha256={entry.digest}",
    )
    entry.ledger_event_id = event.event_id
    session.add(entry)
    session.flush()
    return row


def verify(*, session: Session, models: Sequence[type[Any]]) -> list[str]:
    """Recompute every entry's digest and find it in its ledger event; the problems found (empty: intact)."""
    from sqlalchemy import func, select

    from piguard.ledger import service as ledger

    rows: list[Any] = []
    for model in models:
        rows.extend(session.scalars(select(model).execution_options(populate_existing=True)))
    if not rows:
        return []
    since = min(
        session.scalar(select(func.min(model.created_at))) or datetime.max.replace(tzinfo=UTC) for model in models
    )
    reasons = {
        event.event_id: event.reason or ""
        for event in ledger.iter_events(session=session, time_from=since)
        if event.resource_type in ("recommendation", "rectification", "spot_check")
    }
    problems: list[str] = []
    for row in rows:
        where = f"{row.__tablename__} {row.id}"
        digest = digest_of(row)
        if digest != row.digest:
            problems.append(f"{where}: content changed after it was recorded (digest differs)")
        reason = reasons.get(row.ledger_event_id)
        if reason is None:
            problems.append(f"{where}: its ledger event {row.ledger_event_id} is missing")
        elif f"sha256={row.digest}" not in reason:
            problems.append(f"{where}: the ledger event records a different digest")
    return problems
