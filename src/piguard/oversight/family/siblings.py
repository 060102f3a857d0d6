"""Other relatives' requests about the same death report: what their items already did."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem


def other_item(
    session: Session,
    request: FamilyRequest,
    *,
    field: str,
    outcome: str,
    kind: str | None = None,
    unanswered: bool = False,
) -> tuple[str, int] | None:
    """(request id, item position) of the first other request's item about this report with ``field`` and ``outcome``.

    ``kind`` narrows to requests of that kind; ``unanswered`` to requests still being received.
    """
    query = (
        select(FamilyRequestItem.request_id, FamilyRequestItem.position)
        .join(FamilyRequest, FamilyRequest.id == FamilyRequestItem.request_id)
        .where(
            FamilyRequest.report_id == request.report_id,
            FamilyRequest.id != request.id,
            FamilyRequestItem.field == field,
            FamilyRequestItem.outcome == outcome,
        )
        .order_by(FamilyRequest.received_at, FamilyRequest.id)
        .limit(1)
    )
    if kind is not None:
        query = query.where(FamilyRequest.kind == kind)
    if unanswered:
        query = query.where(FamilyRequest.state == "received")
    found = session.execute(query).first()
    return None if found is None else (str(found.request_id), int(found.position))
