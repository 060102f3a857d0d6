"""Guarded inspection flows: the policy decides, the services act, the ledger records.

Each flow asks the Cedar policy (``read_inspection``, ``manage_inspection``, ``submit_evidence``
on a ``Recommendation``, ``Rectification`` or ``SpotCheck``, with the work's jurisdiction and, for a
recommendation or item, who manages its follow-up: see ``access`` and ``issuer``) before doing
anything; the "responsible" relationship is set only for an item's responsible person. Lists
keep to the principal's jurisdiction in their query, before their limit, and the policy confirms
each row. A refusal, by the policy or by the rules, is recorded as a denied access event and
returned; the door commits and only then raises it. The event's reason starts with the ids of what
refused (``<ids>: <reason>``, as ``records.guard.refuse`` writes it): the policy's or the refusal's
own (``issuing-body``, ``jurisdiction``, ``own-evidence``), ``inspection-rules`` for any other
refusal by the inspection rules, never the policy that permitted the request. Changes run in a savepoint, so a refused
change leaves only its denied event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, PiguardError
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.oversight.common import Outcome
from piguard.oversight.inspections import access, issuer, jurisdiction, service, spotchecks
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
from piguard.policy.pdp import Decision
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, Guarded, record_event, refuse

T = TypeVar("T")
E = TypeVar("E")
RESPONSIBLE = access.RESPONSIBLE
RULES = "inspection-rules"  # the id of a refusal by the inspection rules (bad input, a conflict, not found)


def refusing_ids(error: PiguardError, decision: Decision) -> tuple[str, ...]:
    """The ids of what refused: the refusal's own, else the inspection rules' when the policy had permitted (pure).

    A default deny names no policy (as for record reads); a permitting policy is never named.
    """
    if isinstance(error, AccessDenied):
        return error.policy_ids
    return (RULES,) if decision.allowed else decision.policy_ids


def _refused(
    session: Session, principal: Principal, draft: EventDraft, error: PiguardError, at: datetime, decision: Decision
) -> PiguardError:
    # ``refuse`` prefixes the reason with the decision's ids: give it those of the refusal instead.
    refusing = replace(decision, allowed=False, policy_ids=refusing_ids(error, decision))
    refused: Guarded[None] = refuse(session, principal, draft, error, at, refusing)
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
    decided_on: str | None = None,
    assigning: bool = False,
) -> Outcome[T]:
    """Run one change under the policy, in a savepoint; refusals are recorded as denied events.

    ``attrs``: the jurisdiction (and manager) the work will have (new work, or items added); a
    stored one's is looked up. ``decided_on``: the kind of resource the policy decides on, when not
    the event's. ``assigning``: the change only names an item's responsible person.
    """
    at = guard.clock()
    draft.purpose = PURPOSE
    assert draft.resource_type is not None
    kind = decided_on or draft.resource_type
    resource_id = draft.resource_id or "new"
    if attrs is None:
        attrs = access.attrs_of(session, kind, resource_id, assigning=assigning)
    asked: dict[str, Any] = {"resource_type": kind, "resource_id": resource_id, "relationships": relationships}
    decision = access.decide(session, guard, principal, action=action, at=at, attrs=attrs, **asked)
    if not decision.allowed:
        refusal = access.explain(session, guard, principal, decision, action=action, at=at, attrs=attrs, **asked)
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
    keep: Callable[[list[Any], datetime], list[Any]] | None = None,
    attrs: dict[str, Any] | None = None,
) -> Outcome[T]:
    """Run one read under ``read_inspection`` and record it (allowed or denied).

    ``keep``: for a list, the entries the policy lets the principal see (their jurisdiction); the
    list's query has already kept to it, so this only confirms. ``attrs``: a list's jurisdiction
    (none: the question is whether the principal may read such work at all).
    """
    at = guard.clock()
    draft.purpose = PURPOSE
    assert draft.resource_type is not None
    decision = access.decide(
        session,
        guard,
        principal,
        action="read_inspection",
        resource_type=draft.resource_type,
        resource_id=draft.resource_id or "all",
        relationships=relationships,
        at=at,
        attrs=attrs,
    )
    if not decision.allowed:
        refusal = access.refusal(decision, "read_inspection", principal, draft.resource_type)
        return Outcome(None, _refused(session, principal, draft, refusal, at, decision), decision)
    try:
        value = work(at)
        if keep is not None and isinstance(value, list):
            value = cast(T, keep(value, at))
    except PiguardError as exc:
        return Outcome(None, _refused(session, principal, draft, exc, at, decision), decision)
    if count is not None:
        draft.result_count = count(value)
    record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Outcome(value, None, decision)


def _is_responsible(session: Session, principal: Principal, item_id: str) -> frozenset[str]:
    found = service.responsible_for(session=session, account_id=principal.account_id, item_id=item_id)
    return RESPONSIBLE if item_id in found else frozenset()


def _visible(
    session: Session,
    guard: Guard,
    principal: Principal,
    resource_type: str,
    found: list[E],
    entries: list[tuple[str, dict[str, Any]]],
    at: datetime,
    relationships: frozenset[str] = frozenset(),
) -> list[E]:
    """The entries of a list the policy lets the principal read, in their order."""
    allowed = access.visible(
        session, guard, principal, resource_type=resource_type, entries=entries, relationships=relationships, at=at
    )
    return [entry for entry, (entry_id, _) in zip(found, entries, strict=True) if entry_id in allowed]


# --- recommendations ----------------------------------------------------------------------------


def create_recommendation(
    *, session: Session, guard: Guard, principal: Principal, data: RecommendationIn
) -> Outcome[RecommendationOut]:
    """Record a recommendation with its rectification items."""

    def work(at: datetime) -> RecommendationOut:
        row = service.create_recommendation(session=session, principal=principal, at=at, data=data)
        return service.recommendation_detail(session=session, recommendation_id=row.id, at=at)

    draft = EventDraft(action="create", resource_type="recommendation")
    # Decided on the jurisdiction it will have: its addressee and its items' owners (else the author's),
    # and on who will manage it: recorded by an oversight body, that body; from an outside source, oversight.
    attrs = access.with_issuer(
        jurisdiction.of_new_recommendation(
            session, author_org=principal.org_id, org_id=data.org_id, owners=[item.owner_org_id for item in data.items]
        ),
        issuer.for_new(session, author_org=principal.org_id, source=data.source),
    )
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work, attrs=attrs)


def add_items(
    *, session: Session, guard: Guard, principal: Principal, recommendation_id: str, items: list[ItemIn]
) -> Outcome[RecommendationOut]:
    """Add rectification items to a recommendation."""

    def work(at: datetime) -> RecommendationOut:
        service.add_items(session=session, principal=principal, at=at, recommendation_id=recommendation_id, items=items)
        return service.recommendation_detail(session=session, recommendation_id=recommendation_id, at=at)

    draft = EventDraft(action="create", resource_type="rectification", resource_id=recommendation_id[:64])
    # Decided on the recommendation as it will be: the new items' owners join its jurisdiction; its
    # manager stays the one it has (items of an issued recommendation are the issuing body's to add;
    # those of an organisation's own audit its own officers': ``adding_items``).
    attrs = access.with_issuer(
        jurisdiction.of_recommendation(session, recommendation_id, more=[item.owner_org_id for item in items]),
        issuer.of_recommendation(session, recommendation_id),
        adding_items=True,
    )
    return _change(
        session,
        guard,
        principal,
        action="manage_inspection",
        draft=draft,
        work=work,
        attrs=attrs,
        decided_on="recommendation",
    )


def list_recommendations(
    *, session: Session, guard: Guard, principal: Principal, org_id: str | None = None
) -> Outcome[list[RecommendationOut]]:
    """Recommendations within the inspector's jurisdiction, newest first."""
    draft = EventDraft(action="search", resource_type="recommendation", query=f"org={org_id}" if org_id else None)
    within = scope.jurisdiction_orgs(session=session, principal=principal)

    def keep(found: list[RecommendationOut], at: datetime) -> list[RecommendationOut]:
        attrs = jurisdiction.of_recommendations(session, found)
        managers = issuer.of_recommendations(session, [rec.id for rec in found])
        entries = [(rec.id, access.with_issuer(attrs[rec.id], managers[rec.id])) for rec in found]
        return _visible(session, guard, principal, "recommendation", found, entries, at)

    return _read(
        session,
        guard,
        principal,
        draft=draft,
        count=len,
        keep=keep,
        attrs=access.no_scope("recommendation"),
        work=lambda at: service.list_recommendations(session=session, at=at, org_id=org_id, within=within),
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
    # Naming an item's responsible person is the owner organisation's to do, whoever manages the item.
    assigning = target_type == "rectification" and data.field == "responsible_id"
    return _change(session, guard, principal, action="manage_inspection", draft=draft, work=work, assigning=assigning)


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
    inspector = access.decide(
        session,
        guard,
        principal,
        action="read_inspection",
        resource_type="rectification",
        resource_id="all",
        relationships=frozenset(),
        at=at,
        attrs=access.no_scope("rectification"),
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
    # An inspector's items: those within their jurisdiction; a responsible person's: their own.
    within = scope.jurisdiction_orgs(session=session, principal=principal) if inspector else None
    relationships = RESPONSIBLE if own else frozenset()

    def keep(found: list[ItemOut], now: datetime) -> list[ItemOut]:
        districts = scope.districts_of(session, {item.owner_org_id for item in found})
        managers = issuer.of_recommendations(session, {item.recommendation_id for item in found})
        entries = [
            (
                item.id,
                access.with_issuer(scope.attrs_of([item.owner_org_id], districts), managers[item.recommendation_id]),
            )
            for item in found
        ]
        return _visible(session, guard, principal, "rectification", found, entries, now, relationships)

    return _read(
        session,
        guard,
        principal,
        draft=draft,
        count=len,
        relationships=relationships,
        keep=keep,
        attrs=access.no_scope("rectification"),
        work=lambda now: service.list_items(
            session=session,
            at=now,
            status=status,
            owner_org_id=owner_org_id,
            responsible_id=principal.account_id if own else responsible_id,
            escalated_to=escalated_to,
            within=within,
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
    within = scope.jurisdiction_orgs(session=session, principal=principal)

    def keep(found: list[SpotCheckOut], at: datetime) -> list[SpotCheckOut]:
        districts = scope.districts_of(session, {check.org_id for check in found})
        entries = [
            (check.id, scope.attrs_of([check.org_id] if check.org_id in districts else [], districts))
            for check in found
        ]
        return _visible(session, guard, principal, "spot_check", found, entries, at)

    return _read(
        session,
        guard,
        principal,
        draft=draft,
        count=len,
        keep=keep,
        attrs=access.no_scope("spot_check"),
        work=lambda _: spotchecks.list_checks(session=session, org_id=org_id, status=status, within=within),
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
    # Every entry in the city: the problems found name tables and ids, never content.
    return _read(
        session,
        guard,
        principal,
        draft=draft,
        attrs=access.no_scope("rectification"),
        work=lambda _: service.verify_entries(session=session),
    )


# --- the command line ---------------------------------------------------------------------------
