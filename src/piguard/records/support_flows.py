"""Guarded flows around the records: statistics, break-glass, and virtual-number resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from piguard.db.locking import get_for_update
from piguard.errors import ConflictError, NotFoundError, PiguardError, UnknownContextError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.localtime import beijing_date
from piguard.minimize import handles
from piguard.minimize.views import CdcStatisticsView, StatisticsCell
from piguard.policy import breakglass
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef, Subject
from piguard.policy.purposes import parse_purpose
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, Guarded, denied, record_event, refuse, subject_of

MIN_CELL = 5  # cells under five deaths are suppressed (re-identification risk)
STATISTICS_CONTEXT = "cdc_statistics"  # the one screen of the statistics route


def statistics_query(district: str | None, closed_only: bool) -> str | None:
    """The filters of a statistics request as its access event records them."""
    parts = ([f"district={district}"] if district else []) + (["closed_only=true"] if closed_only else [])
    return ";".join(parts) or None


def statistics(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    purpose: str | None,
    district: str | None = None,
    context: str | None = None,
    closed_only: bool = False,
) -> Guarded[CdcStatisticsView]:
    """Deaths by district, month and ICD-10 chapter over a full grid: every count under 5, zero too, suppressed."""
    at = guard.clock()
    draft = EventDraft(action="read", resource_type="statistics", query=statistics_query(district, closed_only))
    try:
        draft.purpose = parse_purpose(purpose)
        if context and context != STATISTICS_CONTEXT:  # checked after the purpose, as on the dispatch routes
            raise UnknownContextError(
                f"unknown display context for this resource; expected {STATISTICS_CONTEXT}", where="context"
            )
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    decision = guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action="read_statistics",
            resource=ResourceRef("Statistics", "deaths"),
            purpose=draft.purpose,
            display_context=STATISTICS_CONTEXT,
        )
    )
    if not decision.allowed:
        return refuse(session, principal, draft, denied(decision), at, decision)
    # City-wide counts: the grid's districts and months must not depend on the district asked.
    counts = records.death_statistics(session=session)
    last = _last_month(beijing_date(at), closed_only=closed_only)
    cells = statistics_grid(counts, district=district, last_month=last, open_end=not closed_only)
    view = CdcStatisticsView(min_cell=MIN_CELL, closed_only=closed_only, cells=cells)
    draft.fields = ["statistics.deaths_by_district_month_chapter"]
    draft.result_count = len(cells)
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Guarded(value=view, event=event, decision=decision)


def statistics_grid(
    counts: list[tuple[str, str, str, int]], *, district: str | None, last_month: str, open_end: bool = True
) -> list[StatisticsCell]:
    """Every chapter cell of every district and month, 0-4 suppressed alike, so an empty cell looks like a small one.

    ``counts`` are the city-wide non-empty cells. The districts are those any death was counted in
    (or the one asked); the months run from the city's first counted month to ``last_month`` (and
    on to a later month with deaths when ``open_end``: a clock behind the data must not drop them).
    """
    if not counts:
        return []
    found = {(d, m, c): n for d, m, c, n in counts}
    districts = [district] if district else sorted({d for d, _, _, _ in counts})
    first = min(m for _, m, _, _ in counts)
    months = _months(first, max([last_month, *(m for _, m, _, _ in counts)]) if open_end else last_month)
    return [_cell(d, m, c, found.get((d, m, c), 0)) for d in districts for m in months for c in records.ICD10_CHAPTERS]


def _cell(district: str, month: str, chapter: str, deaths: int) -> StatisticsCell:
    small = deaths < MIN_CELL
    return StatisticsCell(
        district=district, month=month, cause_chapter=chapter, deaths=None if small else deaths, suppressed=small
    )


def _last_month(today: date, *, closed_only: bool) -> str:
    """The last month shown: this Beijing month, or the one before it when only months that ended are asked."""
    if closed_only:
        today = today.replace(day=1) - timedelta(days=1)
    return today.strftime("%Y-%m")


def _months(first: str, last: str) -> list[str]:
    """The months ``YYYY-MM`` from ``first`` to ``last``, both included (none when ``first`` is later)."""
    year, month = int(first[:4]), int(first[5:7])
    out: list[str] = []
    while (label := f"{year:04d}-{month:02d}") <= last:
        out.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True, slots=True)
class GrantInfo:
    """A break-glass grant as returned to its holder."""

    grant_id: str
    report_id: str
    purpose: str
    expires_at: datetime
    review_status: str


# An id that names no record, as the policy sees it: no institution, no district, no relationship.
_NO_RECORD = {"hospital": "-", "district": "-", "status": "certified"}


def _breakglass_request(subject: Subject, resource: ResourceRef, purpose: str) -> AccessRequest:
    """The policy question of a break-glass request (one for known and unknown ids, so their refusals agree)."""
    return AccessRequest(
        subject=subject,
        action="breakglass",
        resource=resource,
        purpose=purpose,
        display_context="hospital_certifier",
        breakglass=True,
    )


def _refuse_unknown_report(
    session: Session, principal: Principal, draft: EventDraft, decision: Decision, at: datetime
) -> Guarded[GrantInfo]:
    """Refuse an id that names no record exactly as a record the role may not break into (403, same reason).

    Only a role the policy would grant a record with no institution, district or relationship (a
    physician, a nurse: break-glass does not depend on the record) gets a 404: the grant it would
    get for any existing record tells it which ids exist anyway. The ledger notes there was no record.
    """
    error: PiguardError = NotFoundError("death report not found") if decision.allowed else denied(decision)
    error.ledger_note = "no such record"
    return refuse(session, principal, draft, error, at, None if decision.allowed else decision)


def request_breakglass(
    *, session: Session, guard: Guard, principal: Principal, report_id: str, purpose: str | None, reason: str
) -> Guarded[GrantInfo]:
    """Open emergency access to one record for a limited time; always flagged for review."""
    at = guard.clock()
    draft = EventDraft(action="breakglass", resource_type="death_report", resource_id=report_id[:64])
    try:
        draft.purpose = parse_purpose(purpose)
        text = breakglass.validate_request(purpose=draft.purpose, reason=reason)
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    subject = subject_of(session=session, principal=principal, at=at)
    record = records.get_report_record(session=session, report_id=report_id)
    if record is None:
        unknown = ResourceRef("DeathReport", report_id[:64], _NO_RECORD)
        decision = guard.engine.decide(_breakglass_request(subject, unknown, draft.purpose))
        return _refuse_unknown_report(session, principal, draft, decision, at)
    draft.subject_id = record.subject_id
    resource = ResourceRef("DeathReport", record.id, records.report_resource_attrs(record))
    decision = guard.engine.decide(_breakglass_request(subject, resource, draft.purpose))
    if not decision.allowed:
        return refuse(session, principal, draft, denied(decision), at, decision)
    # The person's account row, locked: two requests at once must not both find no open grant.
    get_for_update(session, Account, principal.account_id)
    open_until = breakglass.live_until(session=session, account_id=principal.account_id, report_id=record.id, at=at)
    if open_until is not None:
        # One open grant per person and record: a second would only multiply the reviews.
        until = open_until.isoformat(timespec="minutes")
        return refuse(
            session, principal, draft, ConflictError(f"a break-glass grant for this record is open until {until}"), at
        )
    row = breakglass.grant(
        session=session,
        account_id=principal.account_id,
        report_id=record.id,
        purpose=draft.purpose,
        reason=text,
        at=at,
        lifetime=timedelta(minutes=guard.settings.breakglass_minutes),
    )
    # The stated reason goes to the grant (reviewed later), not to the ledger, which holds no free text.
    event = record_event(
        session,
        principal,
        draft,
        at=at,
        outcome="allowed",
        reason=f"{','.join(decision.policy_ids)}: grant {row.id} pending review",
    )
    info = GrantInfo(row.id, record.id, draft.purpose, row.expires_at, row.review_status)
    return Guarded(value=info, event=event, decision=decision)


# Connecting a call to a relative or a caller: the one purpose a resolution is decided and recorded under.
RESOLVE_PURPOSE = "TREAT"


def resolve_handle(*, session: Session, guard: Guard, principal: Principal, handle: str) -> Guarded[str]:
    """The telephony bridge turns a live virtual number into the real one; every resolution is recorded."""
    at = guard.clock()
    draft = EventDraft(action="resolve_handle", resource_type="contact", purpose=RESOLVE_PURPOSE)
    decision = guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action="resolve_handle",
            resource=ResourceRef("Handle", handle[:32] or "-"),
            purpose=RESOLVE_PURPOSE,
            display_context="telephony",
        )
    )
    if not decision.allowed or "handles:resolve" not in principal.scopes:
        if decision.allowed:
            decision = type(decision)(
                False, decision.policy_ids, decision.context_name, ("API key lacks scope handles:resolve",)
            )
        return refuse(session, principal, draft, denied(decision), at, decision)
    try:
        found, phone = handles.resolve(session=session, handle=handle, at=at)
    except NotFoundError as exc:
        return _refuse_dead_handle(session, principal, draft, exc, at, decision, handle)
    _bind_draft(draft, found)
    draft.fields = ["contact.phone"]
    event = record_event(
        session,
        principal,
        draft,
        at=at,
        outcome="allowed",
        reason=f"{','.join(decision.policy_ids)}: handle issued to {found.viewer_id}",
    )
    if phone is None:
        return Guarded(value=None, event=event, decision=decision, error=NotFoundError("no number behind this handle"))
    return Guarded(value=phone, event=event, decision=decision)


def _bind_draft(draft: EventDraft, found: handles.HandleBinding) -> None:
    """Name the record and person behind a handle in its resolution's event."""
    draft.resource_type = found.resource_type
    draft.resource_id = found.resource_id
    draft.subject_id = found.subject_id


def _refuse_dead_handle(
    session: Session,
    principal: Principal,
    draft: EventDraft,
    error: NotFoundError,
    at: datetime,
    decision: Decision,
    handle: str,
) -> Guarded[str]:
    """Refuse a handle that does not resolve (404, no number); an expired or revoked one is tied to its holder.

    A call to a number after it expired is what a passed-on handle looks like (a marketer dials
    late), so the denied event names the record, the deceased and the person it was issued to,
    as an allowed resolution does. An unknown handle names nothing: there is nobody to name.
    """
    try:
        found = handles.binding(session=session, handle=handle)
    except NotFoundError:
        return refuse(session, principal, draft, error, at)
    _bind_draft(draft, found)
    error.ledger_note = f"handle issued to {found.viewer_id}"
    return refuse(session, principal, draft, error, at, decision)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A break-glass grant awaiting or after review (no record content)."""

    grant_id: str
    account_id: str
    report_id: str
    purpose: str
    reason: str
    granted_at: datetime
    review_status: str


def pending_breakglass(*, session: Session, guard: Guard, principal: Principal) -> Guarded[list[ReviewItem]]:
    """Break-glass grants awaiting review within the reviewer's jurisdiction (privacy officers and administrators)."""
    at = guard.clock()
    draft = EventDraft(action="read", resource_type="breakglass_review", purpose=breakglass.REVIEW_PURPOSE)
    subject = subject_of(session=session, principal=principal, at=at)
    relations = breakglass.reviewer_relations(session=session, principal=principal)
    own = {"orgs": (principal.org_id,), "districts": (subject.district,)}
    decision = guard.engine.decide(breakglass.review_request(subject, relations, "pending", own))
    if not decision.allowed:
        return refuse(session, principal, draft, denied(decision), at, decision)
    # The query keeps the grants within the jurisdiction; the policy confirms each one in one batch.
    found = breakglass.pending_review(session=session, principal=principal)
    verdicts = guard.engine.decide_many([breakglass.review_request(subject, relations, g.id, a) for g, a in found])
    items = [
        ReviewItem(g.id, g.account_id, g.report_id, g.purpose, g.reason, g.granted_at, g.review_status)
        for (g, _), verdict in zip(found, verdicts, strict=True)
        if verdict.allowed
    ]
    draft.result_count = len(items)
    draft.fields = ["breakglass.reason"]
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Guarded(value=items, event=event, decision=decision)


def review_breakglass(
    *, session: Session, guard: Guard, principal: Principal, grant_id: str, outcome: str, note: str
) -> Guarded[ReviewItem]:
    """Mark a grant justified or unjustified, within the reviewer's jurisdiction; nobody reviews their own."""
    at = guard.clock()
    draft = EventDraft(
        action="update", resource_type="breakglass_review", resource_id=grant_id[:64], purpose=breakglass.REVIEW_PURPOSE
    )
    subject = subject_of(session=session, principal=principal, at=at)
    relations = breakglass.reviewer_relations(session=session, principal=principal)
    attrs = breakglass.jurisdiction_of(session=session, grant_id=grant_id)
    decision = guard.engine.decide(breakglass.review_request(subject, relations, grant_id, attrs))
    if not decision.allowed:
        # No forbid refused, and they review grants of their own organisation: the jurisdiction is
        # the reason (an unknown grant is refused the same way, so the refusal is no existence oracle).
        own = {"orgs": (principal.org_id,), "districts": (subject.district,)}
        reviewer = guard.engine.decide(breakglass.review_request(subject, relations, "own", own)).allowed
        why = breakglass.outside_jurisdiction() if reviewer and not decision.policy_ids else denied(decision)
        return refuse(session, principal, draft, why, at, decision)
    try:
        with session.begin_nested():
            row = breakglass.review(
                session=session, grant_id=grant_id, reviewer_id=principal.account_id, outcome=outcome, note=note, at=at
            )
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at, decision)
    if outcome == "unjustified" and row.expires_at > at:
        # The grant ends with the finding, and so do the relatives' virtual numbers it gave.
        handles.expire_issued_between(
            session=session,
            viewer_id=row.account_id,
            resource_id=row.report_id,
            start=row.granted_at,
            end=row.expires_at,
            at=at,
        )
    draft.fields = ["breakglass.review_status"]
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=f"review:{outcome}")
    item = ReviewItem(row.id, row.account_id, row.report_id, row.purpose, row.reason, row.granted_at, row.review_status)
    return Guarded(value=item, event=event, decision=decision)
