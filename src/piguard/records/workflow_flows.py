"""Workflow steps as recorded actions: each is done by a person and lands in the ledger.

The records service performs the state change and creates the task relationship; these flows
check that the actor holds the role the step needs and record who did it (an access event of
action ``create`` or ``update``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, InputError, NotFoundError, PiguardError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, Guarded, record_event, refuse, subject_of
from piguard.records.models import DeathReport, Dispatch, Organisation


def _run(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    step: str,
    roles: Sequence[str],
    action: str,
    resource_type: str,
    resource_id: str | None,
    fields: Sequence[str],
    purpose: str,
    work: Callable[[], Any],
) -> Guarded[Any]:
    """Check the role and the training gate, do the work, record one event (denied on any refusal)."""
    at = guard.clock()
    draft = EventDraft(action=action, resource_type=resource_type, resource_id=resource_id, purpose=purpose)
    if resource_type == "death_report" and resource_id is not None:
        # The person the data is about (FORMATS §1), also on steps whose work returns no report
        # (certificate prints), so "everyone who read it" and a family's account find the event.
        draft.subject_id = session.scalar(select(DeathReport.subject_id).where(DeathReport.id == resource_id))
    if principal.role not in roles:
        return refuse(session, principal, draft, AccessDenied(f"{step} is done by {' or '.join(roles)}"), at)
    if not subject_of(session=session, principal=principal, at=at).training_ok:
        # The policy's training gate, for steps decided here rather than by Cedar: a correction or
        # a presented code touches personal data as much as a read does.
        lapsed = AccessDenied("mandatory privacy training has lapsed", policy_ids=("training-gate",))
        return refuse(session, principal, draft, lapsed, at)
    try:
        with session.begin_nested():  # a refused step leaves no partial change behind
            result = work()
    except PiguardError as exc:
        return refuse(session, principal, draft, exc, at)
    if isinstance(result, DeathReport | Dispatch):
        draft.resource_id = result.id
        draft.subject_id = getattr(result, "subject_id", None)
    draft.fields = list(fields)
    event = record_event(session, principal, draft, at=at, outcome="allowed", reason=f"workflow:{step}")
    return Guarded(value=result, event=event)


def open_report(*, session: Session, guard: Guard, principal: Principal, data: dict[str, Any]) -> Guarded[Any]:
    """A physician drafts a death report for their own institution."""
    return _run(
        session,
        guard,
        principal,
        step="open_report",
        roles=("physician",),
        action="create",
        resource_type="death_report",
        resource_id=None,
        purpose="HOPERAT",
        fields=("deceased.identity", "death.time", "death.cause_part1", "relative.contact"),
        work=lambda: records.create_report(session=session, **{**data, "hospital_org_id": principal.org_id}),
    )


def _check_own_institution(session: Session, principal: Principal, report_id: str, step: str) -> DeathReport | None:
    """The report, if the principal's institution made it; AccessDenied for another institution's."""
    report = session.get(DeathReport, report_id)
    if report is not None and report.hospital_org_id != principal.org_id:
        raise AccessDenied(f"a report's {step} is done by its own institution")
    return report


def _check_coder(session: Session, report: DeathReport | None, coder_id: str) -> None:
    """The coder is an active CDC coder whose jurisdiction covers the report's district."""
    found = session.execute(
        select(Account.role, Account.disabled, Organisation.org_type, Organisation.district, Organisation.level)
        .join(Organisation, Organisation.id == Account.org_id)
        .where(Account.id == coder_id)
    ).first()
    if found is None or found.role != "cdc_coder" or found.disabled or found.org_type != "cdc":
        raise InputError("is not an active CDC coder's account", where="coder_id")
    if report is not None and found.level != "municipal" and found.district != report.district:
        raise InputError("the coder's CDC does not cover the report's district", where="coder_id")


def certify(*, session: Session, guard: Guard, principal: Principal, report_id: str) -> Guarded[Any]:
    """The physician certifies the death (draft -> certified)."""

    def work() -> DeathReport:
        _check_own_institution(session, principal, report_id, "certification")
        return records.certify(
            session=session, report_id=report_id, certifier_id=principal.account_id, at=guard.clock()
        )

    return _run(
        session,
        guard,
        principal,
        step="certify",
        roles=("physician",),
        action="update",
        resource_type="death_report",
        resource_id=report_id,
        purpose="HOPERAT",
        fields=("report.status",),
        work=work,
    )


def report_to_cdc(
    *, session: Session, guard: Guard, principal: Principal, report_id: str, coder_id: str
) -> Guarded[Any]:
    """The institution submits the certified report to the CDC, which assigns a coder."""

    def work() -> DeathReport:
        report = _check_own_institution(session, principal, report_id, "submission to the CDC")
        _check_coder(session, report, coder_id)
        return records.report_to_cdc(session=session, report_id=report_id, coder_id=coder_id, at=guard.clock())

    return _run(
        session,
        guard,
        principal,
        step="report_to_cdc",
        roles=("physician",),
        action="update",
        resource_type="death_report",
        resource_id=report_id,
        purpose="PUBHLTH",
        fields=("report.status",),
        work=work,
    )


def code_cause(*, session: Session, guard: Guard, principal: Principal, report_id: str, icd10: str) -> Guarded[Any]:
    """The assigned coder sets the underlying cause."""
    return _run(
        session,
        guard,
        principal,
        step="code_cause",
        roles=("cdc_coder",),
        action="update",
        resource_type="death_report",
        resource_id=report_id,
        purpose="PUBHLTH",
        fields=("death.underlying_icd10",),
        work=lambda: records.code_underlying_cause(
            session=session, report_id=report_id, coder_id=principal.account_id, icd10=icd10, at=guard.clock()
        ),
    )


def issue_parts(*, session: Session, guard: Guard, principal: Principal, report_id: str) -> Guarded[Any]:
    """The certifying institution hands the family its parts and their one-time codes."""

    def work() -> dict[str, str]:
        _check_own_institution(session, principal, report_id, "certificate parts")
        return records.issue_parts(session=session, report_id=report_id, at=guard.clock())

    return _run(
        session,
        guard,
        principal,
        step="issue_parts",
        roles=("physician", "nurse"),
        action="print",
        resource_type="death_report",
        resource_id=report_id,
        purpose="FAMRQT",
        fields=("certificate.parts",),
        work=work,
    )


def present_code(*, session: Session, guard: Guard, principal: Principal, code: str) -> Guarded[Any]:
    """The family presents a part's code to a registrar or a funeral clerk."""
    return _run(
        session,
        guard,
        principal,
        step="present_code",
        roles=("police_registrar", "funeral_clerk"),
        action="update",
        resource_type="death_report",
        resource_id=None,
        purpose="LEGAL" if principal.role == "police_registrar" else "FAMRQT",
        fields=("certificate.presented",),
        work=lambda: records.present_code(
            session=session,
            code=code,
            account_id=principal.account_id,
            role=principal.role,
            org_id=principal.org_id,
            at=guard.clock(),
        ),
    )


def open_dispatch(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    data: dict[str, Any],
    vehicle_id: str,
    crew_ids: Sequence[str],
) -> Guarded[Any]:
    """A dispatcher opens a call and assigns a vehicle and crew."""

    def work() -> Any:
        dispatch = records.create_dispatch(session=session, org_id=principal.org_id, at=guard.clock(), **data)
        return records.assign_crew(
            session=session, dispatch_id=dispatch.id, vehicle_id=vehicle_id, crew_ids=crew_ids, at=guard.clock()
        )

    return _run(
        session,
        guard,
        principal,
        step="open_dispatch",
        roles=("dispatcher",),
        action="create",
        resource_type="dispatch",
        resource_id=None,
        purpose="ETREAT",
        fields=("dispatch.assignment",),
        work=work,
    )


def _check_call_holder(session: Session, principal: Principal, dispatch_id: str, *, at: datetime) -> None:
    """A call is moved on by its own crew or a dispatcher of its own centre (AccessDenied otherwise)."""
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None:
        raise NotFoundError("dispatch not found")
    if principal.role == "dispatcher":
        if dispatch.org_id != principal.org_id:
            raise AccessDenied("a call is moved on by a dispatcher of its own emergency centre")
        return
    kinds = records.relationships_for(
        session=session, account_id=principal.account_id, resource_type="dispatch", resource_id=dispatch_id, at=at
    )
    if "crew" not in kinds:
        raise AccessDenied("a call is moved on by its assigned crew")


def advance_dispatch(
    *, session: Session, guard: Guard, principal: Principal, dispatch_id: str, status: str
) -> Guarded[Any]:
    """The crew or dispatcher moves a call forward; closing ends crew access after the grace period."""
    from piguard.records import dispatch_flows

    def work() -> Any:
        _check_call_holder(session, principal, dispatch_id, at=guard.clock())
        if status == "closed":
            dispatch_flows.close_call(session=session, guard=guard, dispatch_id=dispatch_id)
            return None
        grace = timedelta(minutes=guard.settings.mdt_grace_minutes)
        return records.advance_dispatch(
            session=session, dispatch_id=dispatch_id, status=status, at=guard.clock(), grace=grace
        )

    return _run(
        session,
        guard,
        principal,
        step=f"dispatch_{status}",
        roles=("dispatcher", "emt"),
        action="update",
        resource_type="dispatch",
        resource_id=dispatch_id,
        purpose="ETREAT",
        fields=("dispatch.status",),
        work=work,
    )


def correct_report(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    report_id: str,
    field: str,
    value: str | None,
    reason: str,
) -> Guarded[Any]:
    """The certifier corrects a field with a reason; the old value stays in the history."""

    def work() -> DeathReport:
        kinds = records.relationships_for(
            session=session,
            account_id=principal.account_id,
            resource_type="death_report",
            resource_id=report_id,
            at=guard.clock(),
        )
        if "certifier" not in kinds:
            raise AccessDenied("only the report's certifier corrects it")
        # The correction's time is read once the report is locked: a correction committed while we
        # waited is then earlier, and the history's order by time stays the order of the changes.
        records.lock_report(session=session, report_id=report_id)
        return records.correct_report(
            session=session,
            report_id=report_id,
            account_id=principal.account_id,
            field=field,
            value=value,
            reason=reason,
            at=guard.clock(),
        )

    return _run(
        session,
        guard,
        principal,
        step="correct_report",
        roles=("physician",),
        action="update",
        resource_type="death_report",
        resource_id=report_id,
        purpose="HOPERAT",
        fields=(f"report.{field}",),
        work=work,
    )
