"""Guarded training flows: the Cedar policy decides, the training service acts, the ledger records.

Resources are ``TrainingRecord`` (one account's training; ``org`` is the account's organisation)
and ``TrainingCourse`` (the catalogue). The principal's relation to the resource goes into the
request's relationships: ``self``, ``same_org``, ``health_commission``. A refusal is recorded as
a denied access event and returned; the door commits, then raises it. Changes run in a savepoint
so a refused change leaves nothing behind but its denied event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, NotFoundError, PiguardError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.oversight.common import Outcome
from piguard.oversight.training import service
from piguard.oversight.training.schemas import (
    AttestationOut,
    CompletionIn,
    CompletionOut,
    CourseIn,
    CourseOut,
    Reminder,
    TrainingStatus,
)
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, Guarded, denied, record_event, refuse, subject_of

T = TypeVar("T")
CONTEXT = "oversight"
#: The policy id of the refusal of a mandatory course to anyone but the municipal health commission.
CITY_WIDE = "city-wide-course"
#: What the ledger adds to the refusal of an id that names nothing (as for unknown records).
NO_SUCH_RECORD = "no such record"


@dataclass(frozen=True, slots=True)
class Target:
    """A resource as the policy sees it, the principal's relation to it, and, for an unknown id, why it is missing."""

    resource: ResourceRef
    rel: frozenset[str]
    missing: NotFoundError | None = None


def relations(
    *, session: Session, principal: Principal, org_id: str | None, account_id: str | None = None
) -> frozenset[str]:
    """The principal's relation to a resource of ``org_id`` (and of ``account_id``, if one person's)."""
    found = set()
    if account_id is not None and account_id == principal.account_id:
        found.add("self")
    if org_id is not None and org_id == principal.org_id:
        found.add("same_org")
    if records.get_organisation(session=session, org_id=principal.org_id).org_type == "health_commission":
        found.add("health_commission")
    return frozenset(found)


def _decide(
    session: Session,
    guard: Guard,
    principal: Principal,
    action: str,
    resource: ResourceRef,
    at: datetime,
    rel: frozenset[str],
) -> Decision:
    return guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action=action,
            resource=resource,
            purpose=service.PURPOSE,
            display_context=CONTEXT,
            relationships=rel,
        )
    )


def _refused(
    session: Session,
    principal: Principal,
    draft: EventDraft,
    error: PiguardError,
    at: datetime,
    decision: Decision | None,
) -> PiguardError:
    refused: Guarded[None] = refuse(session, principal, draft, error, at, decision)
    return refused.error or error


def _unknown(session: Session, principal: Principal, ref: str, missing: NotFoundError) -> Target:
    """An id that names nothing, as the training record of an organisation the principal has no relation to.

    Only a relation every organisation's records give counts (the health commission's); so whoever
    would be refused a stranger's record is refused an unknown id the same way (no existence oracle).
    """
    rel = relations(session=session, principal=principal, org_id=None)
    return Target(ResourceRef("TrainingRecord", ref[:64], {"org": "-"}), rel, missing)


def _record_resource(session: Session, principal: Principal, account_id: str) -> Target:
    """One account's training record as a resource, and the principal's relation to it."""
    try:
        account = identity.get_account(session=session, account_id=account_id)
    except NotFoundError as missing:
        return _unknown(session, principal, account_id, missing)
    rel = relations(session=session, principal=principal, org_id=account.org_id, account_id=account.id)
    return Target(ResourceRef("TrainingRecord", account.id, {"org": account.org_id}), rel)


def _guarded(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    action: str,
    draft: EventDraft,
    target: Callable[[], Target],
    work: Callable[[datetime], T],
    change: bool,
    count: Callable[[T], int] | None = None,
    why: Callable[[Decision], PiguardError] = denied,
) -> Outcome[T]:
    """Decide, then run ``work`` (a change in a savepoint; a read recorded as an allowed event).

    ``why``: the refusal to report when the policy says no (default: the policy's own reasons).
    """
    at = guard.clock()
    draft.purpose = service.PURPOSE
    try:
        found = target()
    except PiguardError as exc:
        return Outcome(None, _refused(session, principal, draft, exc, at, None))
    decision = _decide(session, guard, principal, action, found.resource, at, found.rel)
    if found.missing is not None:
        # A 404 only to whoever would be allowed a stranger's record: from them nothing can be hidden.
        error = found.missing if decision.allowed else why(decision)
        error.ledger_note = NO_SUCH_RECORD
        refused = _refused(session, principal, draft, error, at, None if decision.allowed else decision)
        return Outcome(None, refused, decision)
    if not decision.allowed:
        return Outcome(None, _refused(session, principal, draft, why(decision), at, decision), decision)
    try:
        if change:
            with session.begin_nested():
                value = work(at)
        else:
            value = work(at)
    except PiguardError as exc:
        return Outcome(None, _refused(session, principal, draft, exc, at, decision), decision)
    if not change:
        if count is not None:
            draft.result_count = count(value)
        record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Outcome(value, None, decision)


def _catalogue() -> Target:
    return Target(ResourceRef("TrainingCourse", "catalogue"), frozenset())


def _new_course(session: Session, principal: Principal, data: CourseIn) -> Target:
    """A course about to be added, as the policy sees it: mandatory or not (city-wide either way)."""
    rel = relations(session=session, principal=principal, org_id=None)
    return Target(ResourceRef("TrainingCourse", data.code, {"mandatory": data.mandatory}), rel)


def _mandatory_refused(
    session: Session, guard: Guard, principal: Principal, data: CourseIn, decision: Decision
) -> PiguardError:
    """Why adding a mandatory course was refused: the municipal commission's decision, if an optional one would pass."""
    if not data.mandatory or decision.policy_ids:  # a forbid (the training gate) says why itself
        return denied(decision)
    optional = _new_course(session, principal, data.model_copy(update={"mandatory": False}))
    if _decide(session, guard, principal, "manage_training", optional.resource, guard.clock(), optional.rel).allowed:
        return AccessDenied(
            "a mandatory course closes the training gate for everyone in the city: only the municipal health "
            "commission adds one; add it as optional",
            policy_ids=(CITY_WIDE,),
        )
    return denied(decision)


def list_courses(*, session: Session, guard: Guard, principal: Principal) -> Outcome[list[CourseOut]]:
    """The course catalogue (any person)."""
    return _guarded(
        session,
        guard,
        principal,
        action="read_training",
        draft=EventDraft(action="search", resource_type="training_course"),
        target=_catalogue,
        work=lambda _at: service.list_courses(session=session),
        change=False,
        count=len,
    )


def add_course(*, session: Session, guard: Guard, principal: Principal, data: CourseIn) -> Outcome[CourseOut]:
    """Add a course: optional (privacy officers, administrators) or mandatory (the municipal commission)."""
    return _guarded(
        session,
        guard,
        principal,
        action="manage_training",
        draft=EventDraft(action="create", resource_type="training_course", resource_id=data.code),
        target=lambda: _new_course(session, principal, data),
        work=lambda at: service.add_course(session=session, principal=principal, at=at, data=data),
        change=True,
        why=lambda decision: _mandatory_refused(session, guard, principal, data, decision),
    )


def record_completion(
    *, session: Session, guard: Guard, principal: Principal, data: CompletionIn
) -> Outcome[CompletionOut]:
    """Record a completion (privacy officers and administrators of the account's organisation, or the commission)."""
    return _guarded(
        session,
        guard,
        principal,
        action="manage_training",
        draft=EventDraft(action="create", resource_type="training_completion", resource_id=data.account_id),
        target=lambda: _record_resource(session, principal, data.account_id),
        work=lambda at: service.record_completion(session=session, principal=principal, at=at, data=data),
        change=True,
    )


def attest(
    *, session: Session, guard: Guard, principal: Principal, version: str | None = None
) -> Outcome[AttestationOut]:
    """Attest, for oneself, having read the current rules text."""
    return _guarded(
        session,
        guard,
        principal,
        action="attest_training",
        draft=EventDraft(action="create", resource_type="training_attestation", resource_id=principal.account_id),
        target=lambda: _record_resource(session, principal, principal.account_id),
        work=lambda at: service.attest(session=session, principal=principal, at=at, version=version),
        change=True,
    )


def status(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    account_id: str | None = None,
    days: int = service.REMINDER_DAYS,
) -> Outcome[TrainingStatus]:
    """An account's training status (one's own, or as a privacy officer/administrator)."""
    target_id = account_id or principal.account_id
    return _guarded(
        session,
        guard,
        principal,
        action="read_training",
        draft=EventDraft(action="read", resource_type="training_record", resource_id=target_id[:64]),
        target=lambda: _record_resource(session, principal, target_id),
        work=lambda at: service.status(session=session, account_id=target_id, at=at, days=days),
        change=False,
    )


def reminders(
    *, session: Session, guard: Guard, principal: Principal, org_id: str, days: int = service.REMINDER_DAYS
) -> Outcome[list[Reminder]]:
    """The organisation's staff whose mandatory training lapses within ``days`` (or has lapsed)."""

    def target() -> Target:
        try:
            records.get_organisation(session=session, org_id=org_id)
        except NotFoundError as missing:
            return _unknown(session, principal, f"org:{org_id}", missing)
        rel = relations(session=session, principal=principal, org_id=org_id)
        return Target(ResourceRef("TrainingRecord", f"org:{org_id}", {"org": org_id}), rel)

    return _guarded(
        session,
        guard,
        principal,
        action="read_training",
        draft=EventDraft(action="search", resource_type="training_record", query=f"org={org_id} days={days}"),
        target=target,
        work=lambda at: service.reminders(session=session, org_id=org_id, at=at, days=days),
        change=False,
        count=len,
    )
