"""Guarded reads and searches of death reports (ARCHITECTURE.md access path)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.orm import Session

from piguard.errors import PiguardError
from piguard.identity.schemas import Principal
from piguard.minimize.contexts import disclosed_fields, parse_context, project
from piguard.policy import breakglass
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef, Subject
from piguard.policy.purposes import parse_purpose
from piguard.records import service as records
from piguard.records.guard import (
    REPORT_HANDLE_LIFETIME,
    EventDraft,
    Guard,
    Guarded,
    denied,
    handle_issuer,
    record_event,
    refuse,
    refuse_unknown,
    report_access_facts,
    subject_of,
)


def read_report(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    report_id: str,
    purpose: str | None,
    context: str | None = None,
) -> Guarded[BaseModel]:
    """Read one death report through the principal's display context."""
    at = guard.clock()
    draft = EventDraft(action="read", resource_type="death_report", resource_id=report_id[:64])
    try:
        draft.purpose = parse_purpose(purpose)
        display = parse_context(context, role=principal.role, kind="report")
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    if draft.purpose in ("BTG", "ETREAT") and context is None:
        display = "hospital_certifier"
    record = records.get_report_record(session=session, report_id=report_id)
    if record is None:
        unknown = ResourceRef("DeathReport", report_id[:64], {"hospital": "-", "district": "-", "status": "certified"})
        return refuse_unknown(session, guard, principal, draft, resource=unknown, display=display, at=at)
    draft.subject_id = record.subject_id
    facts = report_access_facts(session=session, account_id=principal.account_id, report_id=record.id, at=at)
    kinds, glass = facts.kinds, facts.breakglass
    request = AccessRequest(
        subject=subject_of(session=session, principal=principal, at=at),
        action="read",
        resource=ResourceRef("DeathReport", record.id, records.report_resource_attrs(record)),
        purpose=draft.purpose,
        display_context=display,
        relationships=kinds,
        breakglass=glass,
    )
    decision = guard.engine.decide(request)
    if not decision.allowed:
        return refuse(session, principal, draft, denied(decision), at, decision)
    expires = at + REPORT_HANDLE_LIFETIME
    if set(decision.policy_ids) <= {breakglass.READ_POLICY}:
        # Opened by a grant alone: the relatives' virtual numbers end with the grant, not 72 h later.
        expires = min(expires, facts.breakglass_end or at)
    elif facts.relationships_end is not None:
        # Every task behind the read ends (a coder's assignment, a presented code): so do its numbers.
        expires = min(expires, facts.relationships_end)
    view = project(
        record,
        context=display,
        viewer=principal,
        handles=handle_issuer(session, principal, record, draft.purpose, expires, at),
        pseudonym_key=guard.secret,
    )
    draft.fields = disclosed_fields(view)
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Guarded(value=view, event=event, decision=decision)


# Every task relationship a death report can give, and every state it passes through.
_REPORT_RELATIONSHIPS = frozenset({"certifier", "attending", "crew", "coder", "registrar", "funeral", "investigator"})
_REPORT_STATES = ("draft", "certified", "reported", "coded")


def _best_case(guard: Guard, subject: Subject, purpose: str, display: str) -> Decision:
    """The decision for the most favourable report imaginable: own institution, every relationship.

    If even that is refused, the role may not search in this screen for this purpose at all.
    """
    refused: Decision | None = None
    for status in _REPORT_STATES:
        resource = ResourceRef(
            "DeathReport", "-", {"hospital": subject.org_id, "district": subject.district, "status": status}
        )
        decision = guard.engine.decide(
            AccessRequest(
                subject=subject,
                action="search",
                resource=resource,
                purpose=purpose,
                display_context=display,
                relationships=_REPORT_RELATIONSHIPS,
            )
        )
        if decision.allowed:
            return decision
        refused = refused or decision
    assert refused is not None
    return refused


def search_reports(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    q: str | None,
    district: str | None,
    purpose: str | None,
    context: str | None = None,
    limit: int = 50,
) -> Guarded[list[BaseModel]]:
    """Search the reports the principal may read: candidates come only from live relationships."""
    at = guard.clock()
    query_text = ";".join(f"{k}={v}" for k, v in (("q", q), ("district", district)) if v)
    draft = EventDraft(action="search", resource_type="death_report", query=query_text or None)
    try:
        draft.purpose = parse_purpose(purpose)
        display = parse_context(context, role=principal.role, kind="report")
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    subject = subject_of(session=session, principal=principal, at=at)
    candidates = records.related_ids_query(account_id=principal.account_id, resource_type="death_report", at=at)
    found = records.search_reports(session=session, candidate_ids=candidates, q=q, district=district, limit=limit)
    facts = [
        report_access_facts(session=session, account_id=principal.account_id, report_id=rec.id, at=at) for rec in found
    ]
    requests = [
        AccessRequest(
            subject=subject,
            action="search",
            resource=ResourceRef("DeathReport", rec.id, records.report_resource_attrs(rec)),
            purpose=draft.purpose,
            display_context=display,
            relationships=fact.kinds,
        )
        for rec, fact in zip(found, facts, strict=True)
    ]
    decisions = guard.engine.decide_many(requests)
    if decisions and not any(decision.allowed for decision in decisions):
        # Every record found is refused (a purpose or screen the role may not use, lapsed
        # training): that is a refusal, recorded as one, not an empty "allowed" search.
        return refuse(session, principal, draft, denied(decisions[0]), at, decisions[0])
    if not decisions:
        # Nothing matched: refuse all the same when no record the principal could hold would be
        # allowed in this screen for this purpose, so a probe is a refusal whatever is stored.
        probe = _best_case(guard, subject, draft.purpose, display)
        if not probe.allowed:
            return refuse(session, principal, draft, denied(probe), at, probe)
    views: list[BaseModel] = []
    fields: set[str] = set()
    policy_ids: set[str] = set()
    for rec, decision, fact in zip(found, decisions, facts, strict=True):
        if not decision.allowed:
            continue
        # A worklist's numbers end with the viewer's tasks on each record, as a single read's do.
        expires = min(at + REPORT_HANDLE_LIFETIME, fact.relationships_end or at + REPORT_HANDLE_LIFETIME)
        view = project(
            rec,
            context=display,
            viewer=principal,
            handles=handle_issuer(session, principal, rec, draft.purpose, expires, at),
            pseudonym_key=guard.secret,
        )
        views.append(view)
        fields.update(disclosed_fields(view))
        draft.result_subject_ids.append(rec.subject_id)
        policy_ids.update(decision.policy_ids)
    draft.fields = sorted(fields)
    draft.result_count = len(views)
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(sorted(policy_ids)))
    return Guarded(value=views, event=event)
