"""Shared parts of every guarded flow: the guard, the outcome type, event recording, the subject.

Every flow appends exactly one access event, allowed or denied, and never commits: the door
wraps the call in ``with session.begin():`` and raises ``Guarded.error`` only after the commit,
so a refusal is recorded as surely as a disclosure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import BindParameter, bindparam, select, union_all
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.base import utcnow
from piguard.db.prepared import Prepared
from piguard.errors import AccessDenied, NotFoundError, PiguardError
from piguard.identity.schemas import Principal
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.minimize import handles
from piguard.policy import breakglass
from piguard.policy.pdp import AccessRequest, Decision, PolicyEngine, ResourceRef, Subject
from piguard.records import service as records
from piguard.records.schemas import DispatchRecord, ReportRecord

T = TypeVar("T")
REPORT_HANDLE_LIFETIME = timedelta(hours=72)
MDT_HANDLE_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Guard:
    """What every guarded call needs besides the session: policy, settings, keys, the clock."""

    engine: PolicyEngine
    settings: Settings
    secret: bytes
    now: datetime | None = None

    def clock(self) -> datetime:
        """The request's single notion of 'now'."""
        return self.now or utcnow()


@dataclass(frozen=True, slots=True)
class Guarded(Generic[T]):
    """The outcome of a guarded call: the view (if allowed), the decision and the recorded event."""

    value: T | None
    event: AccessEvent
    decision: Decision | None = None
    error: PiguardError | None = None

    @property
    def allowed(self) -> bool:
        """Whether the access was granted."""
        return self.error is None

    def unwrap(self) -> T:
        """The value, or the refusal as an exception (call after the transaction committed)."""
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


@dataclass(slots=True)
class EventDraft:
    """The fields of the access event a flow is about to record."""

    action: str
    resource_type: str | None = None
    resource_id: str | None = None
    subject_id: str | None = None
    purpose: str | None = None
    fields: list[str] = field(default_factory=list)
    query: str | None = None
    result_count: int | None = None
    result_subject_ids: list[str] = field(default_factory=list)


def record_event(
    session: Session, principal: Principal, draft: EventDraft, *, at: datetime, outcome: str, reason: str
) -> AccessEvent:
    """Append the access event of this request to the ledger (in the caller's transaction)."""
    event = AccessEvent(
        event_id=new_id(),
        time=at,
        user_id=principal.account_id,
        role=principal.role,
        org_id=principal.org_id,
        terminal_id=principal.terminal_id,
        session_id=principal.session_id,
        source_ip=principal.source_ip,
        action=draft.action,
        resource_type=draft.resource_type,
        resource_id=draft.resource_id,
        subject_id=draft.subject_id,
        fields=tuple(draft.fields),
        purpose=draft.purpose,
        outcome="allowed" if outcome == "allowed" else "denied",
        reason=reason[:500],
        query=draft.query,
        result_count=draft.result_count,
        result_subject_ids=tuple(draft.result_subject_ids),
    )
    ledger.append(session=session, event=event)
    return event


def refuse(
    session: Session,
    principal: Principal,
    draft: EventDraft,
    error: PiguardError,
    at: datetime,
    decision: Decision | None = None,
) -> Guarded[T]:
    """Record a refusal and return it; the door raises it after the commit."""
    reason = error.reason if isinstance(error, AccessDenied) else str(error)
    if decision is not None and decision.policy_ids:
        reason = f"{','.join(decision.policy_ids)}: {reason}"
    if error.ledger_note:
        reason = f"{reason} ({error.ledger_note})"
    event = record_event(session, principal, draft, at=at, outcome="denied", reason=reason)
    return Guarded(value=None, event=event, decision=decision, error=error)


def refuse_unknown(
    session: Session,
    guard: Guard,
    principal: Principal,
    draft: EventDraft,
    *,
    resource: ResourceRef,
    display: str,
    at: datetime,
) -> Guarded[T]:
    """Refuse an id that names no record as a record without any relationship would be refused.

    A 404 for a missing id and a 403 for an existing one would tell anyone which ids exist (ids
    travel in exports, letters and handle registers). The ledger notes that there was no record.
    """
    decision = guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action=draft.action,
            resource=resource,
            purpose=draft.purpose or "",
            display_context=display,
            relationships=frozenset(),
        )
    )
    error: PiguardError = NotFoundError("not found") if decision.allowed else denied(decision)
    error.ledger_note = "no such record"
    return refuse(session, principal, draft, error, at, None if decision.allowed else decision)


def subject_of(*, session: Session, principal: Principal, at: datetime) -> Subject:
    """The principal as the policy sees it (jurisdiction and level from the organisation)."""
    if principal.district is not None and principal.org_level is not None:
        district, level = principal.district, principal.org_level  # loaded at authentication
    else:
        org = records.get_organisation(session=session, org_id=principal.org_id)
        district, level = org.district, org.level
    trained = principal.training_valid_until is not None and principal.training_valid_until > at
    return Subject(
        account_id=principal.account_id,
        role=principal.role,
        org_id=principal.org_id,
        district=district,
        org_level=level,
        training_ok=trained or principal.kind == "service",
        kind=principal.kind,
    )


def denied(decision: Decision) -> AccessDenied:
    """The policy's refusal as an exception carrying its reason and policy ids."""
    return AccessDenied(decision.reason, policy_ids=decision.policy_ids)


def handle_issuer(
    session: Session,
    principal: Principal,
    record: ReportRecord | DispatchRecord,
    purpose: str,
    expires: datetime,
    at: datetime,
) -> handles.HandleIssuer:
    """Issue virtual numbers bound to this viewer, record and purpose."""
    resource_type = "dispatch" if isinstance(record, DispatchRecord) else "death_report"
    subject = record.subject_id if isinstance(record, ReportRecord) else None

    live: dict[str, tuple[str, datetime]] | None = None

    def issue(*, target: str, phone: str | None) -> str | None:
        nonlocal live
        if not phone:
            return None
        if live is None:
            live = handles.live_handles(
                session=session, viewer_id=principal.account_id, resource_id=record.id, purpose=purpose, at=at
            )
        return handles.issue(
            live=live,
            session=session,
            viewer_id=principal.account_id,
            resource_type=resource_type,
            resource_id=record.id,
            subject_id=subject,
            target=target,
            purpose=purpose,
            expires_at=expires,
            at=at,
        )

    return issue


def _access_facts_statement() -> Any:
    # Built once: constructing and cache-keying the statement per request costs more than running it.
    moment: BindParameter[datetime] = bindparam("at")
    kinds = records.relationship_ends_query(
        account_id=bindparam("account_id"), resource_type="death_report", resource_id=bindparam("report_id"), at=moment
    )
    glass = breakglass.active_ends_query(
        account_id=bindparam("account_id"), report_id=bindparam("report_id"), at=moment
    )
    facts = union_all(kinds, glass).subquery()
    return select(*facts.c)


_ACCESS_FACTS = Prepared(_access_facts_statement())


@dataclass(frozen=True, slots=True)
class AccessFacts:
    """What an account holds to a report at an instant: live relationships, a grant, and when they end."""

    kinds: frozenset[str]
    breakglass: bool
    relationships_end: datetime | None  # the latest end of the live relationships; None: one is open-ended
    breakglass_end: datetime | None  # the latest end of the live grants; None without one


def report_access_facts(*, session: Session, account_id: str, report_id: str, at: datetime) -> AccessFacts:
    """The account's live relationships to a report and break-glass grants, with their ends (one query)."""
    params = {"account_id": account_id, "report_id": report_id, "at": at}
    kinds: set[str] = set()
    ends: list[datetime | None] = []
    grants: list[datetime] = []
    for kind, end in _ACCESS_FACTS.rows(session, params):
        if kind == breakglass.MARKER:
            grants.append(end)
        else:
            kinds.add(kind)
            ends.append(end)
    open_ended = not ends or None in ends
    return AccessFacts(
        kinds=frozenset(kinds),
        breakglass=bool(grants),
        relationships_end=None if open_ended else max(end for end in ends if end is not None),
        breakglass_end=max(grants) if grants else None,
    )
