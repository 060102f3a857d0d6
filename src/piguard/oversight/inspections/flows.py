"""Guarded inspection flows: the policy decides, the services act, the ledger records.

Each flow asks the Cedar policy (``read_inspection``, ``manage_inspection``, ``submit_evidence``
on a ``Recommendation``, ``Rectification`` or ``SpotCheck``) before doing anything; the
"responsible" relationship is set only for an item's responsible person. A refusal, by the
policy or by the rules, is recorded as a denied access event and returned; the door commits and
only then raises it. Changes run in a savepoint, so a refused change leaves only its denied event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, PiguardError
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.oversight.common import Outcome
from piguard.oversight.inspections import jurisdiction, service, spotchecks
from piguard.oversight.inspections.journal import PURPOSE
from piguard.oversight.inspections.schemas import (
    CorrectionIn,
    EvidenceIn,
    ExtensionIn,
    FindingIn,
    ItemDetail,
    ItemIn,
    ItemOut,
    RecommendationIn,
    RecommendationOut,
    Reproduction,
    ReviewIn,
    SpotCheckDetail,
    SpotCheckIn,
    SpotCheckOut,
)
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, Guarded, denied, record_event, refuse, subject_of

T = TypeVar("T")
CONTEXT = "oversight"
RESPONSIBLE = frozenset({"responsible"})
_TYPES = {"recommendation": "Recommendation", "rectification": "Rectification", "spot_check": "SpotCheck"}


def _decide(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    relationships: frozenset[str],
    at: datetime,
    attrs: dict[str, Any] | None = None,
) -> Decision:
    """The policy's decision; a spot check carries its jurisdiction (``attrs``, else the stored check's)."""
    if resource_type == "spot_check":
        if attrs is None:
            attrs = jurisdiction.of_check(session, resource_id)
        relationships = relationships | scope.relations(session=session, principal=principal)
    return guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action=action,
            resource=ResourceRef(_TYPES[resource_type], resource_id, attrs or {}),
            purpose=PURPOSE,
            display_context=CONTEXT,
            relationships=relationships,
        )
    )


def _refusal(decision: Decision, action: str, principal: Principal, resource_type: str) -> AccessDenied:
    if decision.policy_ids:  # a forbid (the training gate) says why itself
        return denied(decision)
    if resource_type == "spot_check" and principal.role in ("privacy_officer", "admin"):
        return AccessDenied("the spot check's organisation is outside your jurisdiction", policy_ids=("jurisdiction",))
    if action == "submit_evidence":
        reason = "only the item's responsible person may submit evidence for it"
    elif action == "manage_inspection":
        reason = "only inspectors (privacy officers and administrators) may do this"
    else:
        reason = "only inspectors and an item's responsible person may see inspection records"
    return AccessDenied(reason, policy_ids=decision.policy_ids)


def _refused(
    session: Session, principal: Principal, draft: EventDraft, error: PiguardError, at: datetime, decision: Decision
) -> PiguardError:
    refused: Guarded[None] = refuse(session, principal, draft, error, at, decision)
    return refused.error or error


def _change(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    action: str,
    draft: EventDraft,
    work: Callable[[datetime], T],
    relationships: frozenset[str] = frozenset(),
    attrs: dict[str, Any] | None = None,
) -> Outcome[T]:
    """Run one change under the policy, in a savepoint; refusals are recorded as denied events.

    ``attrs``: a new spot check's jurisdiction (a stored one's is looked up).
    """
    at = guard.clock()
    draft.purpose = PURPOSE
    assert draft.resource_type is not None
    decision = _decide(
        session,
        guard,
        principal,
        action=action,
        resource_type=draft.resource_type,
        resource_id=draft.resource_id or "new",
        relationships=relationships,
        at=at,
        attrs=attrs,
    )
    if not decision.allowed:
        refusal = _refusal(decision, action, principal, draft.resource_type)
        return Outcome(None, _refused(session, principal, draft, refusal, at, decision), decision)
    try:
        with session.begin_nested():
            value = work(at)
    except PiguardError as exc:
        return Outcome(None, _refused(session, principal, draft, exc, at, decision), decision)
    return Outcome(value, None, decision)


def _read(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    draft: EventDraft,
    work: Callable[[datetime], T],
    relationships: frozenset[str] = frozenset(),
    count: Callable[[T], int] | None = None,
    keep: Callable[[Any], bool] | None = None,
) -> Outcome[T]:
    """Run one read under ``read_inspection`` and record it (allowed or denied).

    ``keep``: for a list, which entries the principal may see (their jurisdiction).
    """
    at = guard.clock()
    draft.purpose = PURPOSE
    assert draft.resource_type is not None
    decision = _decide(
        session,
        guard,
        principal,
        action="read_inspection",
        resource_type=draft.resource_type,
        resource_id=draft.resource_id or "all",
        relationships=relationships,
        at=at,
    )
    if not decision.allowed:
        refusal = _refusal(decision, "read_inspection", principal, draft.resource_type)
        return Outcome(None, _refused(session, principal, draft, refusal, at, decision), decision)
    try:
        value = work(at)
        if keep is not None and isinstance(value, list):
            value = cast(T, [entry for entry in value if keep(entry)])
    except PiguardError as exc:
        return Outcome(None, _refused(session, principal, draft, exc, at, decision), decision)
    if count is not None:
        draft.result_count = count(value)
    record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Outcome(value, None, decision)


def _is_responsible(session: Session, principal: Principal, item_id: str) -> frozenset[str]:
    found = service.responsible_for(session=session, account_id=principal.account_id, item_id=item_id)
    return RESPONSIBLE if item_id in found else frozenset()


# --- recommendations ----------------------------------------------------------------------------


def create_recommendation(
    *, session: Session, guard: Guard, principal: Principal, data: RecommendationIn
) -> Outcome[RecommendationOut]:
    """Record a recommendation with its rectification items."""

    def work(at: datetime) -> RecommendationOut:
        row = service.create_recommendation(session=session, principal=principal, at=at, data=data)
        return service.recommendation_detail(session=session, recommendation_id=row.id, at=at)

    draft = EventDraft(action="create", resource_type="recommendation")
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


def add_items(
    *, session: Session, guard: Guard, principal: Principal, recommendation_id: str, items: list[ItemIn]
) -> Outcome[RecommendationOut]:
    """Add rectification items to a recommendation."""

    def work(at: datetime) -> RecommendationOut:
        service.add_items(session=session, principal=principal, at=at, recommendation_id=recommendation_id, items=items)
        return service.recommendation_detail(session=session, recommendation_id=recommendation_id, at=at)

    draft = EventDraft(action="create", resource_type="rectification", resource_id=recommendation_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


def list_recommendations(
    *, session: Session, guard: Guard, principal: Principal, org_id: str | None = None
) -> Outcome[list[RecommendationOut]]:
    """Recommendations, newest first (inspectors)."""
    draft = EventDraft(action="search", resource_type="recommendation", query=f"org={org_id}" if org_id else None)
    return _read(
        session,
        guard,
        principal,
        draft=draft,
        count=len,
        work=lambda at: service.list_recommendations(session=session, at=at, org_id=org_id),
    )


def get_recommendation(
    *, session: Session, guard: Guard, principal: Principal, recommendation_id: str
) -> Outcome[RecommendationOut]:
    """One recommendation with its items (inspectors)."""
    draft = EventDraft(action="read", resource_type="recommendation", resource_id=recommendation_id[:64])
    return _read(
        session,
        guard,
        principal,
        draft=draft,
        work=lambda at: service.recommendation_detail(session=session, recommendation_id=recommendation_id, at=at),
    )


def correct(
    *, session: Session, guard: Guard, principal: Principal, target_type: str, target_id: str, data: CorrectionIn
) -> Outcome[RecommendationOut | ItemDetail]:
    """Correct a field of a recommendation or an item (a new entry; the original stays)."""

    def work(at: datetime) -> RecommendationOut | ItemDetail:
        service.correct(
            session=session, principal=principal, at=at, target_type=target_type, target_id=target_id, data=data
        )
        if target_type == "recommendation":
            return service.recommendation_detail(session=session, recommendation_id=target_id, at=at)
        return service.item_detail(session=session, item_id=target_id, at=at)

    draft = EventDraft(action="update", resource_type=target_type, resource_id=target_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


# --- rectification items ------------------------------------------------------------------------


def list_items(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    status: str | None = None,
    owner_org_id: str | None = None,
    responsible_id: str | None = None,
    escalated_to: str | None = None,
    overdue_only: bool = False,
) -> Outcome[list[ItemOut]]:
    """Items with their computed status: all for inspectors, one's own items for a responsible person.

    The overdue listing of a health commission's inspector defaults to the items escalated to it.
    """
    at = guard.clock()
    subject = subject_of(session=session, principal=principal, at=at)
    inspector = guard.engine.decide(
        AccessRequest(subject, "read_inspection", ResourceRef("Rectification", "all"), PURPOSE, CONTEXT)
    ).allowed
    if overdue_only:
        status = "overdue"
        if escalated_to is None and inspector:
            org = records.get_organisation(session=session, org_id=principal.org_id)
            escalated_to = org.id if org.org_type == "health_commission" else None
    own = not inspector and bool(service.responsible_for(session=session, account_id=principal.account_id))
    query = ";".join(
        f"{k}={v}"
        for k, v in (("status", status), ("owner", owner_org_id), ("responsible", responsible_id), ("to", escalated_to))
        if v
    )
    draft = EventDraft(action="search", resource_type="rectification", query=query or None)
    return _read(
        session,
        guard,
        principal,
        draft=draft,
        count=len,
        relationships=RESPONSIBLE if own else frozenset(),
        work=lambda now: service.list_items(
            session=session,
            at=now,
            status=status,
            owner_org_id=owner_org_id,
            responsible_id=principal.account_id if own else responsible_id,
            escalated_to=escalated_to,
        ),
    )


def get_item(*, session: Session, guard: Guard, principal: Principal, item_id: str) -> Outcome[ItemDetail]:
    """One item with its evidence, verdicts, extensions and corrections."""
    draft = EventDraft(action="read", resource_type="rectification", resource_id=item_id[:64])
    return _read(
        session,
        guard,
        principal,
        draft=draft,
        relationships=_is_responsible(session, principal, item_id),
        work=lambda at: service.item_detail(session=session, item_id=item_id, at=at),
    )


def submit_evidence(
    *, session: Session, guard: Guard, principal: Principal, item_id: str, data: EvidenceIn
) -> Outcome[ItemDetail]:
    """The responsible person submits evidence for their item."""

    def work(at: datetime) -> ItemDetail:
        service.submit_evidence(session=session, principal=principal, at=at, item_id=item_id, data=data)
        return service.item_detail(session=session, item_id=item_id, at=at)

    draft = EventDraft(action="update", resource_type="rectification", resource_id=item_id[:64])
    return _change(
        session,
        guard,
        principal,
        action="submit_evidence",
        draft=draft,
        work=work,
        relationships=_is_responsible(session, principal, item_id),
    )


def review_evidence(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    item_id: str,
    evidence_id: str,
    decision: str,
    data: ReviewIn,
) -> Outcome[ItemDetail]:
    """An inspector verifies or rejects evidence with a reason (never their own, never as the owner)."""

    def work(at: datetime) -> ItemDetail:
        service.review_evidence(
            session=session,
            principal=principal,
            at=at,
            item_id=item_id,
            evidence_id=evidence_id,
            decision=decision,
            data=data,
        )
        return service.item_detail(session=session, item_id=item_id, at=at)

    draft = EventDraft(action="update", resource_type="rectification", resource_id=item_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


def extend_deadline(
    *, session: Session, guard: Guard, principal: Principal, item_id: str, data: ExtensionIn
) -> Outcome[ItemDetail]:
    """An inspector extends an item's deadline (a new entry with the reason)."""

    def work(at: datetime) -> ItemDetail:
        service.extend_deadline(session=session, principal=principal, at=at, item_id=item_id, data=data)
        return service.item_detail(session=session, item_id=item_id, at=at)

    draft = EventDraft(action="update", resource_type="rectification", resource_id=item_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


# --- spot checks --------------------------------------------------------------------------------


def create_spot_check(
    *, session: Session, guard: Guard, principal: Principal, data: SpotCheckIn
) -> Outcome[SpotCheckDetail]:
    """Draw a seeded sample and fix the check list."""

    def work(at: datetime) -> SpotCheckDetail:
        check = spotchecks.create(session=session, principal=principal, at=at, data=data)
        return spotchecks.detail(session=session, check_id=check.id)

    draft = EventDraft(action="create", resource_type="spot_check")
    attrs = jurisdiction.of_org(session, data.org_id)
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work, attrs=attrs)


def list_spot_checks(
    *, session: Session, guard: Guard, principal: Principal, org_id: str | None = None, status: str | None = None
) -> Outcome[list[SpotCheckOut]]:
    """Spot checks within the inspector's jurisdiction, newest first."""
    draft = EventDraft(action="search", resource_type="spot_check", query=f"org={org_id}" if org_id else None)

    def keep(check: SpotCheckOut) -> bool:
        attrs = jurisdiction.of_org(session, check.org_id)
        return _decide(
            session,
            guard,
            principal,
            action="read_inspection",
            resource_type="spot_check",
            resource_id=check.id,
            relationships=frozenset(),
            at=guard.clock(),
            attrs=attrs,
        ).allowed

    return _read(
        session,
        guard,
        principal,
        draft=draft,
        count=len,
        keep=keep,
        work=lambda _: spotchecks.list_checks(session=session, org_id=org_id, status=status),
    )


def get_spot_check(*, session: Session, guard: Guard, principal: Principal, check_id: str) -> Outcome[SpotCheckDetail]:
    """A spot check's list, findings and history (inspectors)."""
    draft = EventDraft(action="read", resource_type="spot_check", resource_id=check_id[:64])
    return _read(
        session, guard, principal, draft=draft, work=lambda _: spotchecks.detail(session=session, check_id=check_id)
    )


def reproduce_spot_check(
    *, session: Session, guard: Guard, principal: Principal, check_id: str
) -> Outcome[Reproduction]:
    """Re-draw a spot check from its criteria and seed and say whether the list is the same."""
    draft = EventDraft(action="read", resource_type="spot_check", resource_id=check_id[:64], query="reproduce")
    return _read(
        session, guard, principal, draft=draft, work=lambda _: spotchecks.reproduce(session=session, check_id=check_id)
    )


def record_finding(
    *, session: Session, guard: Guard, principal: Principal, check_id: str, data: FindingIn
) -> Outcome[SpotCheckDetail]:
    """Record (or correct) the finding on one item."""

    def work(at: datetime) -> SpotCheckDetail:
        spotchecks.record_finding(session=session, principal=principal, at=at, check_id=check_id, data=data)
        return spotchecks.detail(session=session, check_id=check_id)

    draft = EventDraft(action="update", resource_type="spot_check", resource_id=check_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


def schedule_reinspection(
    *, session: Session, guard: Guard, principal: Principal, check_id: str, scheduled_for: date, reason: str
) -> Outcome[SpotCheckDetail]:
    """Schedule the next round after unsatisfactory findings."""

    def work(at: datetime) -> SpotCheckDetail:
        spotchecks.schedule_reinspection(
            session=session, principal=principal, at=at, check_id=check_id, scheduled_for=scheduled_for, reason=reason
        )
        return spotchecks.detail(session=session, check_id=check_id)

    draft = EventDraft(action="update", resource_type="spot_check", resource_id=check_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


def close_spot_check(
    *, session: Session, guard: Guard, principal: Principal, check_id: str, reason: str
) -> Outcome[SpotCheckDetail]:
    """Close a check as satisfactory."""

    def work(at: datetime) -> SpotCheckDetail:
        spotchecks.close(session=session, principal=principal, at=at, check_id=check_id, reason=reason)
        return spotchecks.detail(session=session, check_id=check_id)

    draft = EventDraft(action="update", resource_type="spot_check", resource_id=check_id[:64])
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work)


def verify_entries(*, session: Session, guard: Guard, principal: Principal) -> Outcome[list[str]]:
    """Check every inspection entry against its digest and ledger event (inspectors); the problems found."""
    draft = EventDraft(action="read", resource_type="rectification", query="verify-entries")
    return _read(session, guard, principal, draft=draft, work=lambda _: service.verify_entries(session=session))


# --- the command line ---------------------------------------------------------------------------
