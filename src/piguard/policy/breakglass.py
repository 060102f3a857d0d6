"""Break-glass grants: emergency access to one record for one hour, reviewed afterwards within a jurisdiction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, literal, or_, select
from sqlalchemy.orm import Session

from piguard.db.locking import get_for_update
from piguard.errors import AccessDenied, ConflictError, InputError, NotFoundError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.policy.models import BreakGlassGrant
from piguard.policy.pdp import AccessRequest, ResourceRef, Subject
from piguard.records.models import DeathReport

MIN_REASON_CHARS = 20
PURPOSES = ("BTG", "ETREAT")
REVIEW_OUTCOMES = ("justified", "unjustified")
#: The display context the review is decided in (policy ``breakglass-review``), and its purpose.
REVIEW_CONTEXT = "breakglass_review"
REVIEW_PURPOSE = "HOPERAT"
#: The policy id of a refusal outside the reviewer's jurisdiction (as for cases and requests).
JURISDICTION = "jurisdiction"


def validate_request(*, purpose: str, reason: str) -> str:
    """Check purpose and reason; returns the reason with its runs of whitespace made one space."""
    if purpose not in PURPOSES:
        raise InputError("break-glass purpose must be BTG or ETREAT", where="purpose")
    text = " ".join(reason.split())  # padding with spaces states no reason
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
        BreakGlassGrant.review_status != "unjustified",  # a review found it unjustified: it ends there
    )


def active_ends_query(*, account_id: Any, report_id: Any, at: Any) -> Select[Any]:
    """``MARKER`` with the grant's end, once per live grant (to combine with the relationships' ends)."""
    return active_query(account_id=account_id, report_id=report_id, at=at).add_columns(BreakGlassGrant.expires_at)


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
            BreakGlassGrant.review_status != "unjustified",
        )
        .order_by(BreakGlassGrant.expires_at.desc())
        .limit(1)
    )


def _concerned() -> Select[BreakGlassGrant, str, str]:
    """Grants with the organisations they concern: the grantee's and the record's certifying institution."""
    return (
        select(BreakGlassGrant, Account.org_id, DeathReport.hospital_org_id)
        .outerjoin(Account, Account.id == BreakGlassGrant.account_id)
        .outerjoin(DeathReport, DeathReport.id == BreakGlassGrant.report_id)
    )


def reviewer_relations(*, session: Session, principal: Principal) -> frozenset[str]:
    """The reviewer's relations as the review policy sees them (``oversight_body`` or none)."""
    return scope.relations(session=session, principal=principal)


def jurisdiction_of(*, session: Session, grant_id: str) -> dict[str, Any]:
    """The policy attributes ``orgs`` and ``districts`` of a grant (an unknown grant: none)."""
    row = session.execute(_concerned().where(BreakGlassGrant.id == grant_id)).first()
    return scope.of_orgs(session, [row[1], row[2]] if row is not None else [])


def pending_review(*, session: Session, principal: Principal) -> list[tuple[BreakGlassGrant, dict[str, Any]]]:
    """Unreviewed grants within the reviewer's jurisdiction, oldest first, each with its policy attributes.

    The query keeps the grants whose grantee's organisation or record's institution lies within
    ``scope.jurisdiction_orgs`` (the policy's rule as SQL); the policy then confirms each row.
    """
    query = _concerned().where(BreakGlassGrant.review_status == "pending")
    within = scope.jurisdiction_orgs(session=session, principal=principal)
    if within is not None:
        query = query.where(or_(Account.org_id.in_(within), DeathReport.hospital_org_id.in_(within)))
    rows = session.execute(query.order_by(BreakGlassGrant.granted_at, BreakGlassGrant.id)).all()
    districts = scope.districts_of(session, [org for _, grantee, record in rows for org in (grantee, record)])
    return [(grant, scope.attrs_of([grantee, record], districts)) for grant, grantee, record in rows]


def review_request(subject: Subject, relations: frozenset[str], grant_id: str, attrs: dict[str, Any]) -> AccessRequest:
    """The policy question for reviewing one grant (with the reviewer's own organisation: reviewing at all)."""
    return AccessRequest(
        subject=subject,
        action="read_audit",
        resource=ResourceRef("AuditLog", grant_id, attrs),
        purpose=REVIEW_PURPOSE,
        display_context=REVIEW_CONTEXT,
        relationships=relations,
    )


def outside_jurisdiction() -> AccessDenied:
    """The refusal of a review outside the reviewer's jurisdiction (it names no organisation or record)."""
    return AccessDenied(
        "the break-glass grant concerns organisations outside your jurisdiction", policy_ids=(JURISDICTION,)
    )


def review(
    *, session: Session, grant_id: str, reviewer_id: str, outcome: str, note: str, at: datetime
) -> BreakGlassGrant:
    """Record the review of a grant; the grantee cannot review their own.

    A grant found unjustified while it is still open ends at once (``active_query`` passes over
    it); the caller ends the virtual numbers it gave.
    """
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
