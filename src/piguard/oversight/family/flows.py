"""Guarded flows for relatives' requests: the policy decides, the service acts, the ledger records.

Each flow asks Cedar (``read_family_request``/``manage_family_request`` on a ``FamilyRequest``,
purpose ``FAMRQT``, display context ``oversight``) first; answering a copy request and printing
the copy again is ``issue_family_copy`` in the ``family_copy`` display context, since the copy
discloses the record's contents; answering a deletion request is ``manage_family_request`` in
``family_erasure``, since it changes the record. The certifier's flows on a correction request
are in ``correction_flows``. A refusal, by the policy or by the request rules, is recorded as a
denied access event about the deceased and returned; the door commits, then raises it. Changes
run in a savepoint so a refused change leaves nothing behind but its denied event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, NotFoundError, PiguardError
from piguard.identity.schemas import Principal
from piguard.ledger.evidence import EvidenceSummary
from piguard.oversight import scope
from piguard.oversight.common import Outcome
from piguard.oversight.family import copies, disclosures, jurisdiction, rules, service
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.family.schemas import (
    DisclosureAccount,
    FamilyCopy,
    FamilyDocument,
    FamilyLetter,
    FamilyRequestIn,
    FamilyRequestOut,
)
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef
from piguard.records.guard import EventDraft, Guard, Guarded, denied, record_event, refuse, subject_of

T = TypeVar("T")
CONTEXT = "oversight"
COPY_ACTION = "issue_family_copy"
ERASURE_CONTEXT = "family_erasure"  # answering a deletion request: it changes the record
OFFICER_CONTEXTS = (CONTEXT, "family_copy", ERASURE_CONTEXT)


def _subject(session: Session, request_id: str | None) -> str | None:
    """The deceased a request concerns, for the denied event (None when there is no such request)."""
    if request_id is None:
        return None
    row = session.get(FamilyRequest, request_id)
    return row.subject_id if row is not None else None


def _kind(session: Session, request_id: str) -> str:
    """What a request asks for (an unknown request: as for the account; the work reports it)."""
    row = session.get(FamilyRequest, request_id)
    return row.kind if row is not None else "disclosures"


def _decide(
    session: Session,
    guard: Guard,
    principal: Principal,
    action: str,
    request_id: str,
    attrs: dict[str, Any],
    context: str,
    at: datetime,
    relations: frozenset[str] | None = None,
) -> Decision:
    """The policy's decision on ``action`` on a request, with its jurisdiction as its attributes.

    ``relations``: the principal's relationships as the policy sees them (default: oversight body or not).
    """
    return guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action=action,
            resource=ResourceRef("FamilyRequest", request_id, attrs),
            purpose=rules.PURPOSE,
            display_context=context,
            relationships=scope.relations(session=session, principal=principal) if relations is None else relations,
        )
    )


def _refusal(
    session: Session,
    guard: Guard,
    principal: Principal,
    decision: Decision,
    call: tuple[str, str, str, datetime, frozenset[str] | None],
) -> AccessDenied:
    """Why: a forbid (the training gate) says it itself; jurisdiction is named only when it is the reason.

    An officer in the officers' own contexts who is refused by no forbid is asked again as for a
    request of their own institution and district: allowed then, the record's jurisdiction was the
    reason; refused then too, it was something else (a deployment's narrower policy), and the
    policy's own reason is given. ``call``: the action, request id, context, time and relations.
    """
    action, request_id, context, at, relations = call
    officer = principal.role == "privacy_officer" and principal.kind == "human" and context in OFFICER_CONTEXTS
    if not decision.policy_ids and officer:
        own = {"orgs": (principal.org_id,), "districts": (principal.district or "",)}
        probe = _decide(session, guard, principal, action, request_id, own, context, at, relations)
        if probe.allowed:
            return AccessDenied("the record's institution is outside your jurisdiction", policy_ids=("jurisdiction",))
    return denied(decision)


def _nothing_disclosed(draft: EventDraft) -> EventDraft:
    """The draft of a refusal: a refused step disclosed nothing, whatever it would have shown (no fields, no count)."""
    draft.fields = []
    draft.result_count = None
    return draft


def guarded(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    action: str,
    request_id: str | None,
    draft: EventDraft,
    work: Callable[[datetime], T],
    record_read: bool,
    context: str = CONTEXT,
    attrs: dict[str, Any] | None = None,
    relations: frozenset[str] | None = None,
) -> Outcome[T]:
    """Run ``work`` if the policy allows ``action`` on the request (``attrs``: a new request's jurisdiction)."""
    at = guard.clock()
    draft.purpose = rules.PURPOSE
    if attrs is None:
        attrs = jurisdiction.of_request(session, request_id)
    decision = _decide(session, guard, principal, action, request_id or "new", attrs, context, at, relations)
    if draft.subject_id is None:
        draft.subject_id = _subject(session, request_id)
    if not decision.allowed:
        why = _refusal(session, guard, principal, decision, (action, request_id or "new", context, at, relations))
        refused: Guarded[None] = refuse(session, principal, _nothing_disclosed(draft), why, at, decision)
        return Outcome(None, refused.error, decision)
    try:
        with session.begin_nested():
            value = work(at)
    except PiguardError as exc:
        refusal: Guarded[None] = refuse(session, principal, _nothing_disclosed(draft), exc, at, decision)
        return Outcome(None, refusal.error, decision)
    if record_read:
        record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Outcome(value, None, decision)


def register(
    *, session: Session, guard: Guard, principal: Principal, data: FamilyRequestIn
) -> Outcome[FamilyRequestOut]:
    """Register a close relative's request (identity and relationship checked in person)."""
    draft = EventDraft(action="create", resource_type=service.RESOURCE)
    try:
        draft.subject_id = disclosures.find_report(
            session, report_id=data.report_id, certificate_no=data.certificate_no
        ).subject_id
    except NotFoundError:
        draft.subject_id = None  # the work reports it

    def work(at: datetime) -> FamilyRequestOut:
        return service.out(service.register(session=session, principal=principal, at=at, data=data), now=at)

    return guarded(
        session,
        guard,
        principal,
        action="manage_family_request",
        request_id=None,
        draft=draft,
        work=work,
        record_read=False,
        attrs=jurisdiction.of_new_request(session, report_id=data.report_id, certificate_no=data.certificate_no),
    )


def list_requests(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    state: str | None = None,
    overdue: bool = False,
    limit: int = 100,
) -> Outcome[list[FamilyRequestOut]]:
    """Requests within the officer's jurisdiction, oldest due first; optionally by state or only the overdue ones."""
    query = ";".join(part for part in (f"state={state}" if state else "", "overdue" if overdue else "") if part)
    draft = EventDraft(action="search", resource_type=service.RESOURCE, query=query or None)

    def work(at: datetime) -> list[FamilyRequestOut]:
        # The jurisdiction filters the query (before the limit); Cedar confirms the rows in one batch.
        subject = subject_of(session=session, principal=principal, at=at)
        relations = scope.relations(session=session, principal=principal)
        found = service.list_requests(
            session=session,
            state=state,
            overdue_at=at if overdue else None,
            limit=limit,
            within=scope.jurisdiction_orgs(session=session, principal=principal),
        )
        decisions = guard.engine.decide_many(
            [
                AccessRequest(
                    subject=subject,
                    action="read_family_request",
                    resource=ResourceRef("FamilyRequest", row.id, {"orgs": (org,), "districts": (district,)}),
                    purpose=rules.PURPOSE,
                    display_context=CONTEXT,
                    relationships=relations,
                )
                for row, org, district in found
            ]
        )
        rows = [row for (row, _, _), decision in zip(found, decisions, strict=True) if decision.allowed]
        draft.result_count = len(rows)
        return [service.out(row, now=at) for row in rows]

    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=None,
        draft=draft,
        work=work,
        record_read=True,
    )


def get_request(*, session: Session, guard: Guard, principal: Principal, request_id: str) -> Outcome[FamilyRequestOut]:
    """One request and where it stands."""
    draft = EventDraft(action="read", resource_type=service.RESOURCE, resource_id=request_id[:64])
    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=request_id,
        draft=draft,
        work=lambda at: service.out(service.get(session, request_id), now=at),
        record_read=True,
    )


def answer(*, session: Session, guard: Guard, principal: Principal, request_id: str) -> Outcome[FamilyDocument]:
    """Answer with the request's document (account, copy or letter); the request is then closed and the answer final.

    Answering a deletion request deletes what may be deleted, so it is decided in its own display
    context, ``family_erasure`` (policy ``family-deletion-answer``).
    """
    draft = EventDraft(action="export", resource_type=service.RESOURCE, resource_id=request_id[:64])
    kind = _kind(session, request_id)
    action, context = {
        "copy": (COPY_ACTION, copies.CONTEXT),
        "deletion": ("manage_family_request", ERASURE_CONTEXT),
    }.get(kind, ("manage_family_request", CONTEXT))
    return guarded(
        session,
        guard,
        principal,
        action=action,
        request_id=request_id,
        draft=draft,
        work=lambda at: service.answer(
            session=session, settings=guard.settings, principal=principal, at=at, request_id=request_id
        ),
        record_read=False,
        context=context,
    )


def refuse_request(
    *, session: Session, guard: Guard, principal: Principal, request_id: str, reason: str
) -> Outcome[FamilyRequestOut]:
    """Refuse a request with its ground."""
    draft = EventDraft(action="update", resource_type=service.RESOURCE, resource_id=request_id[:64])

    def work(at: datetime) -> FamilyRequestOut:
        row = service.refuse(session=session, principal=principal, at=at, request_id=request_id, reason=reason)
        return service.out(row, now=at)

    return guarded(
        session,
        guard,
        principal,
        action="manage_family_request",
        request_id=request_id,
        draft=draft,
        work=work,
        record_read=False,
    )


def issued_account(
    *, session: Session, guard: Guard, principal: Principal, request_id: str
) -> Outcome[DisclosureAccount]:
    """The answer exactly as issued (to print it again or hand it over)."""
    draft = EventDraft(
        action="read", resource_type=service.RESOURCE, resource_id=request_id[:64], fields=list(service.ACCOUNT_FIELDS)
    )
    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=request_id,
        draft=draft,
        work=lambda _at: service.issued_account(session=session, request_id=request_id),
        record_read=True,
    )


def issued_copy(*, session: Session, guard: Guard, principal: Principal, request_id: str) -> Outcome[FamilyCopy]:
    """The copy exactly as issued (to print it again); recorded with the fields it discloses."""
    draft = EventDraft(action="read", resource_type=service.RESOURCE, resource_id=request_id[:64])

    def work(_at: datetime) -> FamilyCopy:
        copy = service.issued_copy(session=session, request_id=request_id)
        draft.fields = copies.fields_of(copy)
        return copy

    return guarded(
        session,
        guard,
        principal,
        action=COPY_ACTION,
        request_id=request_id,
        draft=draft,
        work=work,
        record_read=True,
        context=copies.CONTEXT,
    )


def issued_letter(*, session: Session, guard: Guard, principal: Principal, request_id: str) -> Outcome[FamilyLetter]:
    """A correction or deletion letter exactly as issued (to print it again)."""
    draft = EventDraft(
        action="read",
        resource_type=service.RESOURCE,
        resource_id=request_id[:64],
        fields=service.letter_fields("family_request.letter"),
    )
    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=request_id,
        draft=draft,
        work=lambda _at: service.issued_letter(session=session, request_id=request_id),
        record_read=True,
    )


def reissue(
    kind: str, *, session: Session, guard: Guard, principal: Principal, request_id: str
) -> Outcome[FamilyDocument]:
    """An issued ``account``, ``copy`` or ``letter`` exactly as issued (each door's "print it again")."""
    by_kind: dict[str, Callable[..., Outcome[Any]]] = {
        "account": issued_account,
        "copy": issued_copy,
        "letter": issued_letter,
    }
    return by_kind[kind](session=session, guard=guard, principal=principal, request_id=request_id)


def export_evidence(
    *, session: Session, guard: Guard, principal: Principal, request_id: str, out: Path
) -> Outcome[EvidenceSummary]:
    """An evidence bundle with inclusion proofs: the account's lines, or a copy request's own events."""
    draft = EventDraft(action="export", resource_type=service.RESOURCE, resource_id=request_id[:64])
    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=request_id,
        draft=draft,
        work=lambda _at: service.export_evidence(
            session=session, settings=guard.settings, request_id=request_id, out_dir=out
        ),
        record_read=True,
    )
