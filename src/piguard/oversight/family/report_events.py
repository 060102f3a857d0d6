"""The ledger event of a change a relative's request made to the death report itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from piguard.identity.schemas import Principal
from piguard.oversight.family import rules
from piguard.records.guard import EventDraft, record_event
from piguard.records.models import DeathReport


def record_report_change(
    session: Session, principal: Principal, report: DeathReport, *, field: str, reason: str, at: datetime
) -> None:
    """Append the ``update`` of the death report (its field named, never its value) for the request's change."""
    draft = EventDraft(
        action="update",
        resource_type="death_report",
        resource_id=report.id,
        subject_id=report.subject_id,
        purpose=rules.PURPOSE,
        fields=[field],
    )
    record_event(session, principal, draft, at=at, outcome="allowed", reason=reason)
