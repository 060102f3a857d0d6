"""Guarded ambulance-terminal (MDT) flows: the crew's call list and the call display."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from piguard.errors import PiguardError
from piguard.identity.schemas import Principal
from piguard.minimize import handles
from piguard.minimize.contexts import disclosed_fields, parse_context, project
from piguard.minimize.views import AmbulanceMdtView
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef
from piguard.policy.purposes import parse_purpose
from piguard.records import service as records
from piguard.records.guard import (
    MDT_HANDLE_LIFETIME,
    EventDraft,
    Guard,
    Guarded,
    denied,
    handle_issuer,
    record_event,
    refuse,
    refuse_unknown,
    subject_of,
)
from piguard.records.schemas import DispatchRecord


def _grace(guard: Guard) -> timedelta:
    return timedelta(minutes=guard.settings.mdt_grace_minutes)


def _request(
    session: Session, guard: Guard, principal: Principal, record: DispatchRecord, action: str, purpose: str
) -> AccessRequest:
    at = guard.clock()
    return AccessRequest(
        subject=subject_of(session=session, principal=principal, at=at),
        action=action,
        resource=ResourceRef(
            "Dispatch", record.id, records.dispatch_resource_attrs(record, at=at, grace=_grace(guard))
        ),
        purpose=purpose,
        display_context="ambulance_mdt",
        relationships=records.relationships_for(
            session=session, account_id=principal.account_id, resource_type="dispatch", resource_id=record.id, at=at
        ),
    )


def _no_number(*, target: str, phone: str | None) -> str | None:
    """The handle issuer of a closed call: no virtual number."""
    return None


def _best_case(session: Session, guard: Guard, principal: Principal, purpose: str) -> Decision:
    """The decision for the most favourable call imaginable: open, of the caller's centre, with them as crew."""
    at = guard.clock()
    return guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action="search",
            resource=ResourceRef(
                "Dispatch", "-", {"org": principal.org_id, "district": "-", "open": True, "in_grace": False}
            ),
            purpose=purpose,
            display_context="ambulance_mdt",
            relationships=frozenset({"crew"}),
        )
    )


def _view(
    session: Session, guard: Guard, principal: Principal, record: DispatchRecord, purpose: str
) -> AmbulanceMdtView:
    at = guard.clock()
    # A closed call's caller is not reachable through the crew any more: in the grace period the
    # display stays, without a virtual number (the ones issued went dark at close).
    issuer = (
        _no_number
        if record.closed_at
        else handle_issuer(session, principal, record, purpose, at + MDT_HANDLE_LIFETIME, at)
    )
    view = project(record, context="ambulance_mdt", viewer=principal, handles=issuer, pseudonym_key=guard.secret)
    assert isinstance(view, AmbulanceMdtView)
    return view


def display(
    *, session: Session, guard: Guard, principal: Principal, dispatch_id: str, purpose: str | None
) -> Guarded[AmbulanceMdtView]:
    """The MDT display of one call, for its assigned crew while open (plus grace)."""
    at = guard.clock()
    draft = EventDraft(action="read", resource_type="dispatch", resource_id=dispatch_id[:64])
    try:
        draft.purpose = parse_purpose(purpose)
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    record = records.get_dispatch_record(session=session, dispatch_id=dispatch_id)
    if record is None:
        unknown = ResourceRef(
            "Dispatch", dispatch_id[:64], {"org": "-", "district": "-", "open": True, "in_grace": False}
        )
        return refuse_unknown(session, guard, principal, draft, resource=unknown, display="ambulance_mdt", at=at)
    decision = guard.engine.decide(_request(session, guard, principal, record, "read", draft.purpose))
    if not decision.allowed:
        return refuse(session, principal, draft, denied(decision), at, decision)
    view = _view(session, guard, principal, record, draft.purpose)
    draft.fields = disclosed_fields(view)
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Guarded(value=view, event=event, decision=decision)


def list_visible(
    *, session: Session, guard: Guard, principal: Principal, purpose: str | None, context: str | None = None
) -> Guarded[list[AmbulanceMdtView]]:
    """The calls the caller may see now: a crew's assigned calls, or a dispatcher's open calls."""
    at = guard.clock()
    draft = EventDraft(action="search", resource_type="dispatch", query="assigned")
    try:
        draft.purpose = parse_purpose(purpose)
        parse_context(context, role=principal.role, kind="dispatch")
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    if principal.role == "dispatcher":
        found = records.list_dispatches(session=session, candidate_ids=None, org_id=principal.org_id, open_only=True)
    else:
        candidates = records.related_ids_query(account_id=principal.account_id, resource_type="dispatch", at=at)
        found = records.list_dispatches(session=session, candidate_ids=candidates, org_id=None, open_only=False)
    decisions = guard.engine.decide_many(
        [_request(session, guard, principal, rec, "search", draft.purpose) for rec in found]
    )
    # As for death-report searches: a purpose or role that no call could be shown for is a
    # refusal, recorded as one, not an empty "allowed" list.
    if decisions and not any(decision.allowed for decision in decisions):
        return refuse(session, principal, draft, denied(decisions[0]), at, decisions[0])
    if not decisions:
        probe = _best_case(session, guard, principal, draft.purpose)
        if not probe.allowed:
            return refuse(session, principal, draft, denied(probe), at, probe)
    views: list[AmbulanceMdtView] = []
    fields: set[str] = set()
    policy_ids: set[str] = set()
    for rec, decision in zip(found, decisions, strict=True):
        if decision.allowed:
            view = _view(session, guard, principal, rec, draft.purpose)
            views.append(view)
            fields.update(disclosed_fields(view))
            policy_ids.update(decision.policy_ids)
    draft.fields = sorted(fields)
    draft.result_count = len(views)
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(sorted(policy_ids)))
    return Guarded(value=views, event=event)


def close_call(*, session: Session, guard: Guard, dispatch_id: str) -> None:
    """Close a call: crew access ends after the grace period, and the caller's handles go dark now."""
    at = guard.clock()
    records.advance_dispatch(session=session, dispatch_id=dispatch_id, status="closed", at=at, grace=_grace(guard))
    handles.expire_for_resource(session=session, resource_id=dispatch_id, at=at)
