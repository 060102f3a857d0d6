"""Break-glass grants: emergency access to one record for one hour, always reviewed afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import Session

from piguard.db.locking import get_for_update
from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.policy.models import BreakGlassGrant

MIN_REASON_CHARS = 20
PURPOSES = ("BTG", "ETREAT")
REVIEW_OUTCOMES = ("justified", "unjustified")


def validate_request(*, purpose: str, reason: str) -> str:
    """Check purpose and reason; returns the reason stripped."""
    if purpose not in PURPOSES:
        raise InputError("break-glass purpose must be BTG or ETREAT", where="purpose")
    text = reason.strip()
    if len(text) < MIN_REASON_CHARS:
        raise InputError(f"state a reason of at least {MIN_REASON_CHARS} characters", where="reason")
    return text


def grant(
    *,
    session: Session,
    account_id: str,
    report_id: str,
    purpose: str,
    reason: str,
    at: datetime,
    lifetime: timedelta,
) -> BreakGlassGrant:
    """Create a grant (pending review) for one record."""
    row = BreakGlassGrant(
        account_id=account_id,
        report_id=report_id,
        purpose=purpose,
        reason=reason,
        granted_at=at,
        expires_at=at + lifetime,
    )
    session.add(row)
    session.flush()
    return row


MARKER = "__breakglass__"
#: The policy that opens a record through a grant alone (policies/clinical.cedar).
READ_POLICY = "breakglass-read"


def active_query(*, account_id: Any, report_id: Any, at: Any) -> Select[Any]:
    """A query yielding ``MARKER`` once per live grant (to combine with the relationship query)."""
    return select(literal(MARKER).label("kind")).where(
        BreakGlassGrant.account_id == account_id,
        BreakGlassGrant.report_id == report_id,
        BreakGlassGrant.granted_at <= at,
        BreakGlassGrant.expires_at > at,
    )


def active(*, session: Session, account_id: str, report_id: str, at: datetime) -> bool:
    """Whether the account holds a live grant for this record."""
    return session.scalar(active_query(account_id=account_id, report_id=report_id, at=at)) is not None


def live_until(*, session: Session, account_id: str, report_id: str, at: datetime) -> datetime | None:
    """When the account's live grants for this record end (the latest), or None without one."""
    return session.scalar(
        select(BreakGlassGrant.expires_at)
        .where(
            BreakGlassGrant.account_id == account_id,
            BreakGlassGrant.report_id == report_id,
            BreakGlassGrant.granted_at <= at,
            BreakGlassGrant.expires_at > at,
        )
        .order_by(BreakGlassGrant.expires_at.desc())
        .limit(1)
    )


def pending_review(*, session: Session) -> Sequence[BreakGlassGrant]:
    """Grants nobody has reviewed yet, oldest first."""
    return session.scalars(
        select(BreakGlassGrant).where(BreakGlassGrant.review_status == "pending").order_by(BreakGlassGrant.granted_at)
    ).all()


def review(
    *, session: Session, grant_id: str, reviewer_id: str, outcome: str, note: str, at: datetime
) -> BreakGlassGrant:
    """Record the review of a grant; the grantee cannot review their own."""
    row = get_for_update(session, BreakGlassGrant, grant_id)  # one review, even if two reviewers click at once
    if row is None:
        raise NotFoundError("break-glass grant not found")
    if outcome not in REVIEW_OUTCOMES:
        raise InputError("outcome must be justified or unjustified", where="outcome")
    if row.account_id == reviewer_id:
        raise ConflictError("nobody reviews their own break-glass use")
    if row.review_status != "pending":
        raise ConflictError("this grant has already been reviewed")
    row.review_status = outcome
    row.reviewed_by = reviewer_id
    row.reviewed_at = at
    row.review_note = note.strip()[:1000]
    return row
