"""The certifier's side of a relative's correction request: see it, correct or decline each item, list them.

The certifier acts in the display context ``family_correction`` (policies ``family-correction-review``
and ``family-correction-decide``): a physician holding a live ``certifier`` relationship to the
request's death report, in the report's own institution. They see the items (field, value asked
for, the relative's reason), not the requester's name or the documents the officer checked. A
correction is made through the report's own correction workflow
(``records.workflow_flows.correct_report``: the certifier only, reason and old value kept, its own
ledger event), linked to the item; the item's decision is a second event about the deceased. A
refused step leaves nothing behind but its denied event.
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
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.family.schemas import CorrectionReview, ItemOut
from piguard.policy.pdp import AccessRequest, ResourceRef
from piguard.records import service as records
from piguard.records import workflow_flows
from piguard.records.guard import EventDraft, Guard, subject_of

CONTEXT = "family_correction"
MIN_CORRECTION_REASON = 10
MAX_REASON = 400


def _relations(session: Session, principal: Principal, request_id: str, at: datetime) -> frozenset[str]:
    """The principal's live relationships to the request's death report (the certifier's, for one)."""
    row = session.get(FamilyRequest, request_id)
    if row is None:
        return frozenset()
    kinds = records.relationships_for(
        session=session, account_id=principal.account_id, resource_type="death_report", resource_id=row.report_id, at=at
    )
    return kinds | scope.relations(session=session, principal=principal)


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


def _reason(reason: str, minimum: int) -> str:
    text = reason.strip()
    if len(text) < minimum:
        raise InputError(f"state the reason in at least {minimum} characters", where="reason")
    if len(text) > MAX_REASON:
        raise InputError(f"must be at most {MAX_REASON} characters", where="reason")
    return text


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
        if correct:
            text = _reason(reason, MIN_CORRECTION_REASON)
            before = corrections.correction_ids(session, request.report_id)
            made = workflow_flows.correct_report(
                session=session,
                guard=guard,
                principal=principal,
                report_id=request.report_id,
                field=row.field,
                value=row.value,
                reason=f"family request {request.id} item {position}: {text}",
            )
            if made.error is not None:
                raise made.error  # its savepoint, and so its denied event, go with ours; ours is recorded
            ids = sorted(corrections.correction_ids(session, request.report_id) - before)
            corrections.decide(row, outcome="corrected", by=principal.account_id, at=at, reason=text, made=ids)
        else:
            text = _reason(reason, rules.MIN_DECISION_CHARS)
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
