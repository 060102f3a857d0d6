"""The certifier's side of a relative's correction request: see it, correct or decline each item, list them.

The certifier acts in the display context ``family_correction`` (policies ``family-correction-review``
and ``family-correction-decide``): a physician holding this request's live ``family_correction``
referral (``corrections.refer``), in the report's own institution. They see the items (field,
value asked for, the relative's reason), not the requester's name or the documents the officer
checked, and never the record itself. Correcting an item changes only that item's field to the
value asked for, through the records correction service (``records.service.correct_report``: the
field's rule, the identity checks, reason and old value kept), recorded as the workflow step it is
(an ``update`` event on the death report, reason ``workflow:correct_report;family_request:<id>:item:<n>``)
and linked to the item; the item's decision is a second event about the deceased. A refused step
leaves nothing behind but its denied event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.oversight.common import Outcome
from piguard.oversight.family import corrections, rules, service
from piguard.oversight.family.flows import guarded
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.report_events import record_report_change
from piguard.oversight.family.schemas import CorrectionReview, ItemOut
from piguard.policy.pdp import AccessRequest, ResourceRef
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, subject_of

CONTEXT = "family_correction"
MIN_CORRECTION_REASON = 10
MAX_REASON = 400
WORKFLOW_STEP = "correct_report"  # the report's correction step, as records.workflow_flows names it


def _relations(session: Session, principal: Principal, request_id: str, at: datetime) -> frozenset[str]:
    """``family_correction`` when the principal holds this request's live referral, with their oversight relations.

    Only the referral counts: the certifier's own ``certifier`` relationship to the record, or a
    referral for another request, does not open this one.
    """
    held = corrections.holds_referral(session, account_id=principal.account_id, request_id=request_id, at=at)
    own = frozenset({corrections.RELATIONSHIP}) if held else frozenset()
    return own | scope.relations(session=session, principal=principal)


def review_of(request: FamilyRequest) -> CorrectionReview:
    """The certifier's view of a correction request."""
    rules.check_document(request.kind, "correction")
    return CorrectionReview.model_validate(
        {
            "request_id": request.id,
            "report_id": request.report_id,
            "relationship": request.relationship,
            "received_at": request.received_at,
            "due_at": request.due_at,
            "state": request.state,
            "items": [ItemOut.model_validate(row) for row in request.items],
        }
    )


def review(*, session: Session, guard: Guard, principal: Principal, request_id: str) -> Outcome[CorrectionReview]:
    """The correction request as its certifier sees it."""
    draft = EventDraft(
        action="read", resource_type=service.RESOURCE, resource_id=request_id[:64], fields=["family_request.items"]
    )
    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=request_id,
        draft=draft,
        work=lambda _at: review_of(service.get(session, request_id)),
        record_read=True,
        context=CONTEXT,
        relations=_relations(session, principal, request_id, guard.clock()),
    )


def _reason(reason: str, minimum: int, *, told: bool = False) -> str:
    """The decision's reason; one ``told`` to the family holds no phone, ID or document number."""
    text = reason.strip()
    if len(text) < minimum:
        raise InputError(f"state the reason in at least {minimum} characters", where="reason")
    if len(text) > MAX_REASON:
        raise InputError(f"must be at most {MAX_REASON} characters", where="reason")
    return rules.check_no_number(text, where="reason") if told else text


def _correct(
    session: Session, principal: Principal, request: FamilyRequest, row: FamilyRequestItem, text: str, at: datetime
) -> list[str]:
    """Correct the item's field (and nothing else) to the value asked for; the ids of the corrections made.

    A value the field's rule or the identity checks refuse is 422 naming the item, not ``value``.
    """
    before = corrections.correction_ids(session, request.report_id)
    try:
        report = records.correct_report(
            session=session,
            report_id=request.report_id,
            account_id=principal.account_id,
            field=row.field,
            value=row.value,
            reason=f"family request {request.id} item {row.position}: {text}",
            at=at,
        )
    except InputError as exc:
        raise InputError(f"item {row.position} ({row.field}) cannot be corrected: {exc.reason}", where="item") from exc
    reason = f"workflow:{WORKFLOW_STEP};{corrections.referral(request.id)}:item:{row.position}"
    record_report_change(session, principal, report, field=f"report.{row.field}", reason=reason, at=at)
    return sorted(corrections.correction_ids(session, request.report_id) - before)


def decide(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    request_id: str,
    position: int,
    correct: bool,
    reason: str,
) -> Outcome[ItemOut]:
    """Correct item ``position`` through the report's correction workflow, or decline it (the family is told why)."""
    draft = EventDraft(action="update", resource_type=service.RESOURCE, resource_id=request_id[:64])

    def work(at: datetime) -> ItemOut:
        request, row = service.claim_item(session, request_id, position)
        corrections.check_decider(session, principal.account_id, request.report_id)
        if correct:
            text = _reason(reason, MIN_CORRECTION_REASON)
            corrections.check_not_corrected_elsewhere(session, request, row)
            ids = _correct(session, principal, request, row, text, at)
            corrections.decide(row, outcome="corrected", by=principal.account_id, at=at, reason=text, made=ids)
        else:
            text = _reason(reason, rules.MIN_DECISION_CHARS, told=True)
            corrections.decide(row, outcome="declined", by=principal.account_id, at=at, reason=text, made=[])
        session.flush()
        service.record_decision(session, principal, request, row, at=at)
        return ItemOut.model_validate(row)

    return guarded(
        session,
        guard,
        principal,
        action="manage_family_request",
        request_id=request_id,
        draft=draft,
        work=work,
        record_read=False,
        context=CONTEXT,
        relations=_relations(session, principal, request_id, guard.clock()),
    )


def referrals(*, session: Session, guard: Guard, principal: Principal) -> Outcome[list[CorrectionReview]]:
    """The correction requests awaiting this certifier's decision, oldest due first."""
    draft = EventDraft(action="search", resource_type=service.RESOURCE, query="referred")

    def work(at: datetime) -> list[CorrectionReview]:
        found = corrections.referred(session, account_id=principal.account_id, at=at)
        subject = subject_of(session=session, principal=principal, at=at)
        decisions = guard.engine.decide_many(
            [
                AccessRequest(
                    subject=subject,
                    action="read_family_request",
                    resource=ResourceRef("FamilyRequest", row.id, {"orgs": (org,), "districts": (district,)}),
                    purpose=rules.PURPOSE,
                    display_context=CONTEXT,
                    relationships=frozenset({corrections.RELATIONSHIP}),  # the query joined on it
                )
                for row, org, district in found
            ]
        )
        rows = [row for (row, _, _), decision in zip(found, decisions, strict=True) if decision.allowed]
        draft.result_count = len(rows)
        return [review_of(row) for row in rows]

    # May this person review any correction at all? Asked as for a request about their own
    # institution's record that they certified (as the reports search's best case).
    return guarded(
        session,
        guard,
        principal,
        action="read_family_request",
        request_id=None,
        draft=draft,
        work=work,
        record_read=True,
        context=CONTEXT,
        attrs={"orgs": (principal.org_id,), "districts": ()},
        relations=frozenset({corrections.RELATIONSHIP}),
    )
