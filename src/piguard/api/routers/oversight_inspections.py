"""Inspections and rectification follow-up over HTTP: thin doors over ``oversight.inspections.flows``.

Every route opens one transaction; a refusal (policy, follow-up rules) is recorded in the ledger
and committed before it is returned as problem+json (403 with the reason, 409, 422 naming the field).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import PathId
from piguard.api.purpose import fixed_purpose
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.journal import PURPOSE
from piguard.oversight.inspections.schemas import (
    CloseIn,
    CorrectionIn,
    EvidenceIn,
    ExtensionIn,
    FindingIn,
    ItemDetail,
    ItemIn,
    ItemOut,
    RecommendationIn,
    RecommendationOut,
    ReinspectionIn,
    Reproduction,
    ReviewIn,
    SpotCheckDetail,
    SpotCheckIn,
    SpotCheckOut,
)

# Each route's records, by the path segment naming them (as the inspection flows record them).
RESOURCES = {"recommendations": "recommendation", "rectifications": "rectification", "spot-checks": "spot_check"}
router = APIRouter(dependencies=[fixed_purpose(PURPOSE, RESOURCES)])
Id = PathId
OrgQuery = Annotated[str | None, Query(max_length=26)]
Status = Literal["open", "awaiting_review", "rejected", "overdue", "verified"]


class RecommendationList(BaseModel):
    """Recommendations, newest first."""

    count: int
    items: list[RecommendationOut]


class ItemList(BaseModel):
    """Rectification items, earliest deadline first, with the status computed now."""

    count: int
    items: list[ItemOut]


class SpotCheckList(BaseModel):
    """Spot checks, newest first."""

    count: int
    items: list[SpotCheckOut]


class ItemsIn(BaseModel):
    """Further rectification items for a recommendation."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn]


# --- recommendations ----------------------------------------------------------------------------


@router.post("/recommendations", response_model=RecommendationOut, status_code=201)
def create_recommendation(
    body: RecommendationIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> RecommendationOut:
    """Record a recommendation (procuratorial, audit finding, inspection) and its rectification items."""
    with session.begin():
        outcome = flows.create_recommendation(session=session, guard=guard, principal=principal, data=body)
    return outcome.unwrap()


@router.get("/recommendations", response_model=RecommendationList)
def list_recommendations(
    session: SessionDep, guard: GuardDep, principal: PrincipalDep, org: OrgQuery = None
) -> RecommendationList:
    """Recommendations within the inspector's jurisdiction, optionally those concerning one organisation."""
    with session.begin():
        outcome = flows.list_recommendations(session=session, guard=guard, principal=principal, org_id=org)
    found = outcome.unwrap()
    return RecommendationList(count=len(found), items=found)


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationOut)
def get_recommendation(
    recommendation_id: Id, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> RecommendationOut:
    """One recommendation with its items and corrections."""
    with session.begin():
        outcome = flows.get_recommendation(
            session=session, guard=guard, principal=principal, recommendation_id=recommendation_id
        )
    return outcome.unwrap()


@router.post("/recommendations/{recommendation_id}/items", response_model=RecommendationOut, status_code=201)
def add_items(
    recommendation_id: Id, body: ItemsIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> RecommendationOut:
    """Add rectification items to a recommendation."""
    with session.begin():
        outcome = flows.add_items(
            session=session, guard=guard, principal=principal, recommendation_id=recommendation_id, items=body.items
        )
    return outcome.unwrap()


@router.post("/recommendations/{recommendation_id}/corrections", response_model=RecommendationOut, status_code=201)
def correct_recommendation(
    recommendation_id: Id, body: CorrectionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> RecommendationOut:
    """Correct a field of a recommendation (a new entry; the original stays)."""
    with session.begin():
        outcome = flows.correct(
            session=session,
            guard=guard,
            principal=principal,
            target_type="recommendation",
            target_id=recommendation_id,
            data=body,
        )
    value = outcome.unwrap()
    assert isinstance(value, RecommendationOut)
    return value


# --- rectification items ------------------------------------------------------------------------


@router.get("/rectifications", response_model=ItemList)
def list_rectifications(
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    status: Status | None = None,
    owner: OrgQuery = None,
    responsible: Annotated[str | None, Query(max_length=26)] = None,
    escalated_to: OrgQuery = None,
) -> ItemList:
    """Items with their status now (inspectors: those within their jurisdiction; a responsible person: their own)."""
    with session.begin():
        outcome = flows.list_items(
            session=session,
            guard=guard,
            principal=principal,
            status=status,
            owner_org_id=owner,
            responsible_id=responsible,
            escalated_to=escalated_to,
        )
    found = outcome.unwrap()
    return ItemList(count=len(found), items=found)


@router.get("/rectifications/overdue", response_model=ItemList)
def overdue(session: SessionDep, guard: GuardDep, principal: PrincipalDep, escalated_to: OrgQuery = None) -> ItemList:
    """Items past their deadline (a health commission's inspectors: those escalated to it, by default)."""
    with session.begin():
        outcome = flows.list_items(
            session=session, guard=guard, principal=principal, escalated_to=escalated_to, overdue_only=True
        )
    found = outcome.unwrap()
    return ItemList(count=len(found), items=found)


@router.get("/rectifications/{item_id}", response_model=ItemDetail)
def get_rectification(item_id: Id, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> ItemDetail:
    """One item with its evidence, verdicts, deadline extensions and corrections."""
    with session.begin():
        outcome = flows.get_item(session=session, guard=guard, principal=principal, item_id=item_id)
    return outcome.unwrap()


@router.post("/rectifications/{item_id}/evidence", response_model=ItemDetail, status_code=201)
def submit_evidence(
    item_id: Id, body: EvidenceIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ItemDetail:
    """The responsible person submits evidence (description and the document's SHA-256 or reference)."""
    with session.begin():
        outcome = flows.submit_evidence(session=session, guard=guard, principal=principal, item_id=item_id, data=body)
    return outcome.unwrap()


def _review(
    item_id: str, evidence_id: str, decision: str, body: ReviewIn, session: SessionDep, guard: GuardDep,
    principal: PrincipalDep,
) -> ItemDetail:  # fmt: skip
    with session.begin():
        outcome = flows.review_evidence(
            session=session,
            guard=guard,
            principal=principal,
            item_id=item_id,
            evidence_id=evidence_id,
            decision=decision,
            data=body,
        )
    return outcome.unwrap()


@router.post("/rectifications/{item_id}/evidence/{evidence_id}/verify", response_model=ItemDetail)
def verify(
    item_id: Id, evidence_id: Id, body: ReviewIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ItemDetail:
    """An inspector verifies evidence with a reason (never their own)."""
    return _review(item_id, evidence_id, "verified", body, session, guard, principal)


@router.post("/rectifications/{item_id}/evidence/{evidence_id}/reject", response_model=ItemDetail)
def reject(
    item_id: Id, evidence_id: Id, body: ReviewIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ItemDetail:
    """An inspector rejects evidence with a reason."""
    return _review(item_id, evidence_id, "rejected", body, session, guard, principal)


@router.post("/rectifications/{item_id}/deadline", response_model=ItemDetail, status_code=201)
def extend_deadline(
    item_id: Id, body: ExtensionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ItemDetail:
    """Extend an item's deadline (a new, later deadline and the reason)."""
    with session.begin():
        outcome = flows.extend_deadline(session=session, guard=guard, principal=principal, item_id=item_id, data=body)
    return outcome.unwrap()


@router.post("/rectifications/{item_id}/corrections", response_model=ItemDetail, status_code=201)
def correct_rectification(
    item_id: Id, body: CorrectionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ItemDetail:
    """Correct a field of an item (description, required evidence, responsible person)."""
    with session.begin():
        outcome = flows.correct(
            session=session,
            guard=guard,
            principal=principal,
            target_type="rectification",
            target_id=item_id,
            data=body,
        )
    value = outcome.unwrap()
    assert isinstance(value, ItemDetail)
    return value


# --- spot checks --------------------------------------------------------------------------------


@router.post("/spot-checks", response_model=SpotCheckDetail, status_code=201)
def create_spot_check(
    body: SpotCheckIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> SpotCheckDetail:
    """Draw a seeded, reproducible sample (the seed recorded) and produce the check list."""
    with session.begin():
        outcome = flows.create_spot_check(session=session, guard=guard, principal=principal, data=body)
    return outcome.unwrap()


@router.get("/spot-checks", response_model=SpotCheckList)
def list_spot_checks(
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    org: OrgQuery = None,
    status: Literal["scheduled", "in_progress", "reinspection_scheduled", "closed"] | None = None,
) -> SpotCheckList:
    """Spot checks within the inspector's jurisdiction, optionally of one organisation or in one status."""
    with session.begin():
        outcome = flows.list_spot_checks(session=session, guard=guard, principal=principal, org_id=org, status=status)
    found = outcome.unwrap()
    return SpotCheckList(count=len(found), items=found)


@router.get("/spot-checks/{check_id}", response_model=SpotCheckDetail)
def get_spot_check(check_id: Id, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> SpotCheckDetail:
    """A check's list with each item's standing finding, all findings and its history."""
    with session.begin():
        outcome = flows.get_spot_check(session=session, guard=guard, principal=principal, check_id=check_id)
    return outcome.unwrap()


@router.get("/spot-checks/{check_id}/reproduction", response_model=Reproduction)
def reproduce(check_id: Id, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> Reproduction:
    """Re-draw the sample from the recorded criteria and seed; says whether it is the recorded list."""
    with session.begin():
        outcome = flows.reproduce_spot_check(session=session, guard=guard, principal=principal, check_id=check_id)
    return outcome.unwrap()


@router.post("/spot-checks/{check_id}/findings", response_model=SpotCheckDetail, status_code=201)
def record_finding(
    check_id: Id, body: FindingIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> SpotCheckDetail:
    """Record the inspector's finding on one item (``corrects_id`` to correct an earlier one)."""
    with session.begin():
        outcome = flows.record_finding(session=session, guard=guard, principal=principal, check_id=check_id, data=body)
    return outcome.unwrap()


@router.post("/spot-checks/{check_id}/reinspections", response_model=SpotCheckDetail, status_code=201)
def schedule_reinspection(
    check_id: Id, body: ReinspectionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> SpotCheckDetail:
    """Schedule the next inspection round after unsatisfactory findings."""
    with session.begin():
        outcome = flows.schedule_reinspection(
            session=session,
            guard=guard,
            principal=principal,
            check_id=check_id,
            scheduled_for=body.scheduled_for,
            reason=body.reason,
        )
    return outcome.unwrap()


@router.post("/spot-checks/{check_id}/close", response_model=SpotCheckDetail)
def close(
    check_id: Id, body: CloseIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> SpotCheckDetail:
    """Close the check as satisfactory (every item found satisfactory or not applicable)."""
    with session.begin():
        outcome = flows.close_spot_check(
            session=session, guard=guard, principal=principal, check_id=check_id, reason=body.reason
        )
    return outcome.unwrap()
