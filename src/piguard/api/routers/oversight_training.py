"""Training records over HTTP: thin doors over ``piguard.oversight.training.flows``.

Every route opens one transaction; a refusal is recorded in the ledger and committed before it
is returned as problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import PathId
from piguard.api.purpose import fixed_purpose
from piguard.oversight.training import flows, service
from piguard.oversight.training.schemas import (
    AttestationOut,
    CompletionIn,
    CompletionOut,
    CourseIn,
    CourseOut,
    Reminder,
    RulesText,
    TrainingStatus,
)

# Each route's records, by the path segment naming them (as the training flows record them).
RESOURCES = {
    "courses": "training_course",
    "completions": "training_completion",
    "attestations": "training_attestation",
    "rules": "training_rules",
    "status": "training_record",
    "reminders": "training_record",
}
router = APIRouter(dependencies=[fixed_purpose(service.PURPOSE, RESOURCES)])
PREFIX = "/training"


class CourseList(BaseModel):
    """The course catalogue."""

    count: int
    items: list[CourseOut]


class ReminderList(BaseModel):
    """Mandatory courses lapsing within the window (and lapsed or never passed ones)."""

    org_id: str
    days: int
    count: int
    items: list[Reminder]


class AttestIn(BaseModel):
    """The rules version being attested (must be the current one)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: str = Field(min_length=1, max_length=32)


@router.get(f"{PREFIX}/courses", response_model=CourseList)
def list_courses(session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> CourseList:
    """The course catalogue."""
    with session.begin():
        outcome = flows.list_courses(session=session, guard=guard, principal=principal)
    items = outcome.unwrap()
    return CourseList(count=len(items), items=items)


@router.post(f"{PREFIX}/courses", response_model=CourseOut, status_code=201)
def add_course(body: CourseIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> CourseOut:
    """Add a course (privacy officers and administrators)."""
    with session.begin():
        outcome = flows.add_course(session=session, guard=guard, principal=principal, data=body)
    return outcome.unwrap()


@router.post(f"{PREFIX}/completions", response_model=CompletionOut, status_code=201)
def record_completion(
    body: CompletionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> CompletionOut:
    """Record a passed course for an account."""
    with session.begin():
        outcome = flows.record_completion(session=session, guard=guard, principal=principal, data=body)
    return outcome.unwrap()


@router.get(f"{PREFIX}/rules", response_model=RulesText)
def rules(principal: PrincipalDep) -> RulesText:
    """The rules text to attest, with its version and SHA-256 (not personal data)."""
    del principal  # authenticated callers only
    return service.rules_text()


@router.post(f"{PREFIX}/attestations", response_model=AttestationOut, status_code=201)
def attest(body: AttestIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> AttestationOut:
    """Attest, for yourself, that you have read the current rules text."""
    with session.begin():
        outcome = flows.attest(session=session, guard=guard, principal=principal, version=body.version)
    return outcome.unwrap()


@router.get(f"{PREFIX}/status", response_model=TrainingStatus)
def my_status(session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> TrainingStatus:
    """Your own training status."""
    with session.begin():
        outcome = flows.status(session=session, guard=guard, principal=principal)
    return outcome.unwrap()


@router.get(f"{PREFIX}/status/{{account_id}}", response_model=TrainingStatus)
def status(
    account_id: PathId,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
) -> TrainingStatus:
    """An account's training status (privacy officers and administrators of its organisation)."""
    with session.begin():
        outcome = flows.status(session=session, guard=guard, principal=principal, account_id=account_id)
    return outcome.unwrap()


@router.get(f"{PREFIX}/reminders/{{org_id}}", response_model=ReminderList)
def reminders(
    org_id: PathId,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    days: Annotated[int, Query(ge=0, le=3660)] = service.REMINDER_DAYS,
) -> ReminderList:
    """Staff of the organisation whose mandatory training lapses within ``days``."""
    with session.begin():
        outcome = flows.reminders(session=session, guard=guard, principal=principal, org_id=org_id, days=days)
    items = outcome.unwrap()
    return ReminderList(org_id=org_id, days=days, count=len(items), items=items)
