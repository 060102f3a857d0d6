"""Virtual contact handles: issue per (viewer, record, target, purpose), resolve only via the bridge."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from piguard.db.base import utcnow
from piguard.db.prepared import Prepared
from piguard.errors import NotFoundError
from piguard.minimize.models import ContactHandle
from piguard.records.models import Dispatch, Relative

HANDLE_PREFIX = "95"  # a virtual-number range; never a real subscriber prefix
HANDLE_DIGITS = 10


class HandleIssuer(Protocol):
    """Issues a virtual contact number for one target of the record being projected."""

    def __call__(self, *, target: str, phone: str | None) -> str | None: ...


@dataclass(frozen=True, slots=True)
class HandleBinding:
    """To whom and for what a handle was issued (for leak tracing)."""

    handle: str
    viewer_id: str
    resource_type: str
    resource_id: str
    subject_id: str | None
    target: str
    purpose: str
    issued_at: datetime
    expires_at: datetime


_LIVE = Prepared(
    select(ContactHandle.target, ContactHandle.handle, ContactHandle.expires_at).where(
        ContactHandle.viewer_id == bindparam("viewer_id"),
        ContactHandle.resource_id == bindparam("resource_id"),
        ContactHandle.purpose == bindparam("purpose"),
        ContactHandle.expires_at > bindparam("at"),
    )
)


def live_handles(
    *, session: Session, viewer_id: str, resource_id: str, purpose: str, at: datetime
) -> dict[str, tuple[str, datetime]]:
    """The viewer's live handles on one record for one purpose with their ends, by target (one query per view)."""
    params = {"viewer_id": viewer_id, "resource_id": resource_id, "purpose": purpose, "at": at}
    return {str(target): (str(handle), expires) for target, handle, expires in _LIVE.rows(session, params)}


def issue(
    *,
    session: Session,
    viewer_id: str,
    resource_type: str,
    resource_id: str,
    subject_id: str | None,
    target: str,
    purpose: str,
    expires_at: datetime,
    at: datetime | None = None,
    live: dict[str, tuple[str, datetime]] | None = None,
) -> str:
    """The viewer's handle for this target, reusing a live one so a screen refresh keeps the number.

    A reused number ends no later than ``expires_at``: when the viewer's basis for the record now
    ends sooner (a task ending, a grant), so does the number it already held. ``live`` is the
    result of ``live_handles`` for this viewer, record and purpose, when the caller already has it.
    """
    now = at or utcnow()
    if live is None:
        live = live_handles(session=session, viewer_id=viewer_id, resource_id=resource_id, purpose=purpose, at=now)
    if target in live:
        value, ends = live[target]
        if expires_at < ends:
            session.execute(update(ContactHandle).where(ContactHandle.handle == value).values(expires_at=expires_at))
            live[target] = (value, expires_at)
        return value
    value = _new_handle(session)
    session.add(
        ContactHandle(
            handle=value,
            viewer_id=viewer_id,
            resource_type=resource_type,
            resource_id=resource_id,
            subject_id=subject_id,
            target=target,
            purpose=purpose,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    live[target] = (value, expires_at)
    return value


def _new_handle(session: Session) -> str:
    while True:
        value = HANDLE_PREFIX + "".join(secrets.choice("0123456789") for _ in range(HANDLE_DIGITS))
        if session.scalar(select(ContactHandle.id).where(ContactHandle.handle == value)) is None:
            return value


def binding(*, session: Session, handle: str) -> HandleBinding:
    """Who a handle was issued to (expired ones too); NotFoundError when unknown."""
    row = session.scalar(select(ContactHandle).where(ContactHandle.handle == handle.strip()))
    if row is None:
        raise NotFoundError("unknown handle")
    return _binding(row)


def _binding(row: ContactHandle) -> HandleBinding:
    return HandleBinding(
        handle=row.handle,
        viewer_id=row.viewer_id,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        subject_id=row.subject_id,
        target=row.target,
        purpose=row.purpose,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
    )


def resolve(*, session: Session, handle: str, at: datetime | None = None) -> tuple[HandleBinding, str | None]:
    """The real number behind a live handle (the caller records the resolution); expired handles fail."""
    found = binding(session=session, handle=handle)
    if found.expires_at <= (at or utcnow()):
        raise NotFoundError("handle expired")
    if found.target == "caller":
        dispatch = session.get(Dispatch, found.resource_id)
        return found, dispatch.caller_phone if dispatch else None
    if found.target.startswith("relative:"):
        relative = session.get(Relative, found.target.split(":", 1)[1])
        return found, relative.phone if relative else None
    return found, None


def list_bindings(*, session: Session, since: datetime | None = None) -> list[HandleBinding]:
    """Every handle issued (optionally since a time), for the leak tracer's handles file."""
    query = select(ContactHandle).order_by(ContactHandle.issued_at)
    if since is not None:
        query = query.where(ContactHandle.issued_at >= since)
    return [_binding(row) for row in session.scalars(query)]


def expire_for_resource(*, session: Session, resource_id: str, at: datetime) -> None:
    """End every handle of a record now (a call closed: its caller's number goes dark)."""
    session.execute(
        update(ContactHandle)
        .where(ContactHandle.resource_id == resource_id, ContactHandle.expires_at > at)
        .values(expires_at=at)
    )


def expire_issued_between(
    *, session: Session, viewer_id: str, resource_id: str, start: datetime, end: datetime, at: datetime
) -> int:
    """End now the viewer's live handles on a record that were issued in ``[start, end)`` and end by ``end``.

    These are the numbers a break-glass grant alone gave (they end with it); numbers a task
    relationship gave live longer and are kept. Returns how many were ended.
    """
    result = session.execute(
        update(ContactHandle)
        .where(
            ContactHandle.viewer_id == viewer_id,
            ContactHandle.resource_id == resource_id,
            ContactHandle.issued_at >= start,
            ContactHandle.issued_at < end,
            ContactHandle.expires_at <= end,
            ContactHandle.expires_at > at,
        )
        .values(expires_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)
