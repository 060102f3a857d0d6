"""Guarded investigation flows: the policy decides, the case service acts, the ledger records.

Each flow asks the Cedar policy (``read_case``/``manage_case`` on a ``Case``) before doing
anything. A refusal, by the policy or by the case rules, is recorded as a denied access event
and returned; the door commits and only then raises it, as the record flows do. Changes run in
a savepoint so a refused change leaves nothing behind but its denied event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, PiguardError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.identity.sessions import principal_for
from piguard.oversight import scope
from piguard.oversight.cases import integrity, jurisdiction, rules, service
from piguard.oversight.cases.models import CaseEvidence, Disposition, DispositionDecision, OversightCase
from piguard.oversight.cases.schemas import CaseDetail, CaseOpen, CaseOut, DispositionIn, EvidenceIn
from piguard.oversight.common import Outcome
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef
from piguard.records.guard import EventDraft, Guard, Guarded, denied, record_event, refuse, subject_of

T = TypeVar("T")
CONTEXT = "oversight"
JURISDICTION = "jurisdiction"  # the policy id of a refusal outside the principal's jurisdiction


def _decide(
    session: Session,
    guard: Guard,
    principal: Principal,
    action: str,
    case_id: str,
    at: datetime,
    attrs: dict[str, Any] | None = None,
) -> Decision:
    """The policy's decision on ``action`` on a case, with the case's jurisdiction as its attributes."""
    return guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action=action,
            resource=ResourceRef("Case", case_id, jurisdiction.of_case(session, case_id) if attrs is None else attrs),
            purpose=service.PURPOSE,
            display_context=CONTEXT,
            relationships=scope.relations(session=session, principal=principal),
        )
    )


def _refusal(decision: Decision, principal: Principal) -> AccessDenied:
    """Why the policy refused: a forbid (the training gate) says it itself; an officer is outside the jurisdiction.

    The case policies permit every human privacy officer and administrator within their
    jurisdiction, so for them that is the only reason left. The refusal names no organisation,
    district or record of the case.
    """
    if not decision.policy_ids and principal.role in rules.MANAGERS and principal.kind == "human":
        return AccessDenied("the case concerns an organisation outside your jurisdiction", policy_ids=(JURISDICTION,))
    return denied(decision)


def _assignee_in_scope(session: Session, guard: Guard, assignee_id: str, attrs: dict[str, Any], at: datetime) -> None:
    """The investigator, who will read the case's records, must be within the case's jurisdiction too."""
    account = session.get(Account, assignee_id)
    if account is None:
        return  # the work reports it
    rules.check_assignee(account.role, account.disabled)
    assignee = principal_for(session, account, session_id=None, terminal_id=None, source_ip=None)
    decision = _decide(session, guard, assignee, "manage_case", "assignee", at, attrs)
    if not decision.allowed:
        raise AccessDenied(
            "the assignee's jurisdiction does not cover the records of this case", policy_ids=(JURISDICTION,)
        )


def _not_involved(session: Session, principal: Principal, case_id: str | None) -> None:
    """Refuse anyone acting on a case about themselves (the case's absence is reported by the work)."""
    if case_id is not None:
        case = session.get(OversightCase, case_id)
        if case is not None:
            rules.check_not_involved(actor_id=principal.account_id, suspect_id=case.suspect_user_id)


def _refused(
    session: Session, principal: Principal, draft: EventDraft, error: PiguardError, at: datetime, decision: Decision
) -> PiguardError:
    """Record the refusal as a denied access event; the error to raise after the commit."""
    refused: Guarded[None] = refuse(session, principal, draft, error, at, decision)
    return refused.error or error


def _change(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    case_id: str | None,
    draft: EventDraft,
    work: Callable[[datetime], T],
    attrs: dict[str, Any] | None = None,
    assignee_id: str | None = None,
) -> Outcome[T]:
    """Run one change under the ``manage_case`` policy, in a savepoint; refusals are recorded.

    ``attrs``: the case's jurisdiction after the change (when it adds records, or for a new case);
    ``assignee_id``: the investigator the change gives the records to, who must be within it too.
    """
    at = guard.clock()
    draft.purpose = service.PURPOSE
    if attrs is None and case_id is not None:
        attrs = jurisdiction.of_case(session, case_id)
    decision = _decide(session, guard, principal, "manage_case", case_id or "new", at, attrs)
    if not decision.allowed:
        return Outcome(None, _refused(session, principal, draft, _refusal(decision, principal), at, decision), decision)
    try:
        _not_involved(session, principal, case_id)
        if assignee_id is not None and attrs is not None:
            _assignee_in_scope(session, guard, assignee_id, attrs, at)
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
    case_id: str | None,
    draft: EventDraft,
    work: Callable[[], T],
    count: Callable[[T], int] | None = None,
    keep: Callable[[CaseOut], bool] | None = None,
) -> Outcome[T]:
    """Run one read under the ``read_case`` policy and record it (allowed or denied).

    ``keep``: for a list, which cases the principal may see (their jurisdiction).
    """
    at = guard.clock()
    draft.purpose = service.PURPOSE
    decision = _decide(session, guard, principal, "read_case", case_id or "all", at)
    if not decision.allowed:
        return Outcome(None, _refused(session, principal, draft, _refusal(decision, principal), at, decision), decision)
    try:
        _not_involved(session, principal, case_id)
        value = work()
        if keep is not None and isinstance(value, list):
            value = cast(T, [case for case in value if keep(case)])
    except PiguardError as exc:
        return Outcome(None, _refused(session, principal, draft, exc, at, decision), decision)
    if count is not None:
        draft.result_count = count(value)
    record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Outcome(value, None, decision)


def open_case(*, session: Session, guard: Guard, principal: Principal, data: CaseOpen) -> Outcome[CaseDetail]:
    """Open and assign a case; the investigator may then read the records it concerns."""
    draft = EventDraft(action="create", resource_type="case")

    def work(at: datetime) -> CaseDetail:
        case = service.open_case(session=session, principal=principal, at=at, data=data)
        return service.detail(session=session, case_id=case.id)

    attrs = jurisdiction.of_new_case(session, principal=principal, data=data)
    return _change(
        session, guard, principal, case_id=None, draft=draft, work=work, attrs=attrs, assignee_id=data.assignee_id
    )


def list_cases(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    state: str | None = None,
    assignee_id: str | None = None,
    org_id: str | None = None,
    limit: int = 100,
) -> Outcome[list[CaseOut]]:
    """Cases, newest first (privacy officers and administrators)."""
    query = ";".join(f"{k}={v}" for k, v in (("state", state), ("assignee", assignee_id), ("org", org_id)) if v)
    draft = EventDraft(action="search", resource_type="case", query=query or None)
    return _read(
        session,
        guard,
        principal,
        case_id=None,
        draft=draft,
        # The jurisdiction is a condition of the query, so the limit is spent on cases the principal
        # may see; the policy then confirms each (``keep``).
        work=lambda: service.list_cases(
            session=session,
            state=state,
            assignee_id=assignee_id,
            org_id=org_id,
            limit=limit,
            hide_suspect=principal.account_id,
            within=scope.jurisdiction_orgs(session=session, principal=principal),
        ),
        count=len,
        keep=lambda case: _decide(session, guard, principal, "read_case", case.id, guard.clock()).allowed,
    )


def get_case(*, session: Session, guard: Guard, principal: Principal, case_id: str) -> Outcome[CaseDetail]:
    """One case with its subjects, evidence, dispositions and history."""
    draft = EventDraft(action="read", resource_type="case", resource_id=case_id[:64])
    return _read(
        session,
        guard,
        principal,
        case_id=case_id,
        draft=draft,
        work=lambda: service.detail(session=session, case_id=case_id),
    )


def transition(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, to_state: str, reason: str
) -> Outcome[CaseDetail]:
    """Move a case to its next state, with the reason."""
    draft = EventDraft(action="update", resource_type="case", resource_id=case_id[:64])

    def work(at: datetime) -> CaseDetail:
        service.transition(
            session=session, principal=principal, at=at, case_id=case_id, to_state=to_state, reason=reason
        )
        return service.detail(session=session, case_id=case_id)

    return _change(session, guard, principal, case_id=case_id, draft=draft, work=work)


def assign(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, assignee_id: str, reason: str
) -> Outcome[CaseDetail]:
    """Hand a case to another privacy officer."""
    draft = EventDraft(action="update", resource_type="case", resource_id=case_id[:64])

    def work(at: datetime) -> CaseDetail:
        service.assign(
            session=session, principal=principal, at=at, case_id=case_id, assignee_id=assignee_id, reason=reason
        )
        return service.detail(session=session, case_id=case_id)

    return _change(session, guard, principal, case_id=case_id, draft=draft, work=work, assignee_id=assignee_id)


def add_subjects(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, subjects: Sequence[str], reason: str
) -> Outcome[CaseDetail]:
    """Add records the case concerns."""
    draft = EventDraft(action="update", resource_type="case", resource_id=case_id[:64])

    def work(at: datetime) -> CaseDetail:
        service.add_subjects(
            session=session, principal=principal, at=at, case_id=case_id, subjects=subjects, reason=reason
        )
        return service.detail(session=session, case_id=case_id)

    attrs = jurisdiction.of_case(session, case_id, more=subjects)
    case = session.get(OversightCase, case_id)
    assignee = case.assignee_id if case is not None else None
    return _change(
        session, guard, principal, case_id=case_id, draft=draft, work=work, attrs=attrs, assignee_id=assignee
    )


def attach_evidence(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, item: EvidenceIn
) -> Outcome[CaseEvidence]:
    """Attach evidence by reference."""
    draft = EventDraft(action="create", resource_type="case_evidence", resource_id=case_id[:64])
    return _change(
        session,
        guard,
        principal,
        case_id=case_id,
        draft=draft,
        work=lambda at: service.attach_evidence(
            session=session, principal=principal, at=at, case_id=case_id, item=item
        ),
    )


def correct(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, corrects_seq: int, reason: str
) -> Outcome[CaseDetail]:
    """Record a correction of a history entry."""
    draft = EventDraft(action="update", resource_type="case", resource_id=case_id[:64])

    def work(at: datetime) -> CaseDetail:
        service.correct(
            session=session, principal=principal, at=at, case_id=case_id, corrects_seq=corrects_seq, reason=reason
        )
        return service.detail(session=session, case_id=case_id)

    return _change(session, guard, principal, case_id=case_id, draft=draft, work=work)


def propose_disposition(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, item: DispositionIn
) -> Outcome[Disposition]:
    """Propose a disposition on a substantiated case."""
    draft = EventDraft(action="create", resource_type="disposition", resource_id=case_id[:64])
    return _change(
        session,
        guard,
        principal,
        case_id=case_id,
        draft=draft,
        work=lambda at: service.propose_disposition(
            session=session, principal=principal, at=at, case_id=case_id, item=item
        ),
    )


def decide_disposition(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    case_id: str,
    disposition_id: str,
    decision: str,
    reason: str,
) -> Outcome[DispositionDecision]:
    """Approve or reject a disposition (four-eyes: not the proposer)."""
    draft = EventDraft(action="update", resource_type="disposition", resource_id=case_id[:64])
    return _change(
        session,
        guard,
        principal,
        case_id=case_id,
        draft=draft,
        work=lambda at: service.decide_disposition(
            session=session,
            principal=principal,
            at=at,
            case_id=case_id,
            disposition_id=disposition_id,
            decision=decision,
            reason=reason,
        ),
    )


def export_case(
    *, session: Session, guard: Guard, principal: Principal, case_id: str, out: Path
) -> Outcome[service.CaseBundle]:
    """Write the case's evidence bundle (its events and the events it cites, with proofs, and its history)."""
    draft = EventDraft(action="export", resource_type="case", resource_id=case_id[:64])
    return _read(
        session,
        guard,
        principal,
        case_id=case_id,
        draft=draft,
        work=lambda: service.export_bundle(session=session, settings=guard.settings, case_id=case_id, out=out),
        count=lambda bundle: bundle.summary.entries,
    )


def check_case(*, session: Session, guard: Guard, principal: Principal, case_id: str) -> Outcome[integrity.CaseCheck]:
    """Compare a case's rows (history, subjects, evidence, dispositions) with the digests in the ledger."""
    draft = EventDraft(action="read", resource_type="case", resource_id=case_id[:64], query="check")
    return _read(
        session,
        guard,
        principal,
        case_id=case_id,
        draft=draft,
        work=lambda: service.check_stored(session=session, case_id=case_id),
    )
