"""Break-glass: emergency access to one record for one hour, with a stated reason, reviewed later."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import ULID_PATTERN, PathId
from piguard.api.purpose import fixed_purpose
from piguard.records import support_flows

router = APIRouter()
# Reviewing emergency accesses is healthcare operations (as ``support_flows`` records it); a
# break-glass request declares its own purpose in its body.
REVIEW_PURPOSE = fixed_purpose("HOPERAT", "breakglass_review")


class BreakGlassRequest(BaseModel):
    """What the clinician states before breaking the glass."""

    model_config = ConfigDict(extra="forbid")

    # Only the shape is checked here: the purpose and the reason's length are the service's rules,
    # so a refused break-glass (an unknown purpose, a reason under 20 characters) is recorded in
    # the ledger like every other attempt, not dropped as a validation error.
    # An opaque id like every path id: anything else names no record and must not reach the ledger.
    report_id: str = Field(pattern=ULID_PATTERN, description="Opaque id: a 26-character ULID.")
    purpose: str = Field(max_length=64, description="BTG or ETREAT")
    reason: str = Field(max_length=1000, description="Why, in at least 20 characters")


class BreakGlassGrantOut(BaseModel):
    """The grant: one record, until ``expires_at``, pending review."""

    grant_id: str
    report_id: str
    purpose: str
    expires_at: datetime
    review_status: str


@router.post("/breakglass", response_model=BreakGlassGrantOut, status_code=201)
def break_glass(
    body: BreakGlassRequest, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> BreakGlassGrantOut:
    """Open emergency access to one record; always recorded and flagged for review."""
    with session.begin():
        outcome = support_flows.request_breakglass(
            session=session,
            guard=guard,
            principal=principal,
            report_id=body.report_id,
            purpose=body.purpose,
            reason=body.reason,
        )
    grant = outcome.unwrap()
    return BreakGlassGrantOut(
        grant_id=grant.grant_id,
        report_id=grant.report_id,
        purpose=grant.purpose,
        expires_at=grant.expires_at,
        review_status=grant.review_status,
    )


class ReviewItemOut(BaseModel):
    """A break-glass grant for review."""

    grant_id: str
    account_id: str
    report_id: str
    purpose: str
    reason: str
    granted_at: datetime
    review_status: str


class ReviewIn(BaseModel):
    """The reviewer's verdict."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["justified", "unjustified"]
    note: str = Field(min_length=5, max_length=1000)


@router.get("/breakglass/pending", response_model=list[ReviewItemOut], dependencies=[REVIEW_PURPOSE])
def pending(session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> list[ReviewItemOut]:
    """Grants awaiting review (privacy officers and administrators)."""
    with session.begin():
        outcome = support_flows.pending_breakglass(session=session, guard=guard, principal=principal)
    return [ReviewItemOut(**asdict(item)) for item in outcome.unwrap()]


@router.post("/breakglass/{grant_id}/review", response_model=ReviewItemOut, dependencies=[REVIEW_PURPOSE])
def review(
    grant_id: PathId, body: ReviewIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ReviewItemOut:
    """Record whether an emergency access was justified."""
    with session.begin():
        outcome = support_flows.review_breakglass(
            session=session, guard=guard, principal=principal, grant_id=grant_id, outcome=body.outcome, note=body.note
        )
    return ReviewItemOut(**asdict(outcome.unwrap()))
