"""A relative's correction request (PIPL Art. 46, 49): items, the referral to the certifier, the letter.

Each item names a field of the death report, the value the relative says is right and why. The
request is referred to the report's certifier, the one person the report's correction workflow
lets correct it: registering the request gives them a ``family_correction`` task relationship to
the report (``created_by = family_request:<id>``), from registration until the request's due date
at most, ended earlier when it is answered or refused. It is not a ``certifier`` relationship: no
record-read or search policy accepts it, so it opens the request's items, not the record, and
detection sees it by its own kind. The certifier corrects an item (only that item's field, through
the records correction service: history and reason kept, linked to the item) or declines it with a
reason the family is told; the privacy office then answers with the letter. A certifier who is
disabled, has left the record's institution or is the suspect of an open case concerning the
record is not referred to (409), and one who has become such a suspect since decides no item
(``check_decider``). A field corrected on an open, unanswered request is not corrected again on
another (``check_not_corrected_elsewhere``): the first request's letter would be false.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import Session, selectinload

from piguard.db.locking import get_for_update
from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.identity.models import Account
from piguard.oversight.cases.models import CaseSubject, OversightCase
from piguard.oversight.family import rules, siblings
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.schemas import CorrectionIn, CorrectionLetter, LetterItem
from piguard.records import service as records
from piguard.records.models import DeathReport, Organisation, ReportCorrection, TaskRelationship
from piguard.records.schemas import check_report_field

RELATIONSHIP = records.FAMILY_CORRECTION  # a request task: no record screen or search counts it
# Requests registered before the dedicated kind gave an ordinary ``certifier`` relationship; they are ended too.
LEGACY_RELATIONSHIP = "certifier"


def referral(request_id: str) -> str:
    """The ``created_by`` of the certifier relationship a correction request creates."""
    return f"family_request:{request_id}"


def items_of(corrections: list[CorrectionIn]) -> list[FamilyRequestItem]:
    """The request's items, each value checked by its field's rule (the error names ``corrections.N.value``)."""
    made = []
    for index, wanted in enumerate(corrections):
        check_report_field(wanted.field, wanted.value, where=f"corrections.{index}.value")
        rules.check_no_number(wanted.reason, where=f"corrections.{index}.reason")
        made.append(
            FamilyRequestItem(position=index + 1, field=wanted.field, value=wanted.value, grounds=wanted.reason)
        )
    return made


def _suspect_of_open_case(session: Session, account_id: str, report_id: str) -> bool:
    found = session.scalar(
        select(OversightCase.id)
        .join(CaseSubject, CaseSubject.case_id == OversightCase.id)
        .where(
            CaseSubject.report_id == report_id,
            OversightCase.suspect_user_id == account_id,
            OversightCase.state != "closed",
        )
        .limit(1)
    )
    return found is not None


def check_certifier(session: Session, report: DeathReport) -> str:
    """The report's certifier, if they may be referred to; else ConflictError saying why (no names)."""
    if report.certifier_id is None:
        raise ConflictError(
            "the report is not certified yet: its physician completes it before certifying, so there is no "
            "correction to request"
        )
    account = session.get(Account, report.certifier_id)
    if account is None or account.disabled:
        _not_referred("the report's certifier's account is disabled")
    elif account.org_id != report.hospital_org_id:
        _not_referred("the report's certifier has left the certifying institution")
    elif _suspect_of_open_case(session, account.id, report.id):
        _not_referred("the report's certifier is the suspect of an open investigation concerning this record")
    return report.certifier_id


def _not_referred(why: str) -> NoReturn:
    raise ConflictError(
        f"{why}, so the request cannot be referred to them: the certifying institution must name who reviews the "
        "fields; refuse the request with that ground, or register it again once the certifier may decide it"
    )


def refer(session: Session, request: FamilyRequest, report: DeathReport, *, at: datetime) -> None:
    """Give the report's certifier the task of deciding the request's items, until its due date at most."""
    certifier_id = check_certifier(session, report)
    records.add_relationship(
        session=session,
        account_id=certifier_id,
        resource_type="death_report",
        resource_id=report.id,
        subject_id=report.subject_id,
        kind=RELATIONSHIP,
        valid_from=at,
        valid_to=request.due_at,
        created_by=referral(request.id),
    )


def end_referral(session: Session, request_id: str, *, at: datetime) -> None:
    """The certifier's task ends with the request (answered or refused), if it has not ended already."""
    session.execute(
        update(TaskRelationship)
        .where(
            TaskRelationship.created_by == referral(request_id),
            TaskRelationship.kind.in_((RELATIONSHIP, LEGACY_RELATIONSHIP)),
            or_(TaskRelationship.valid_to.is_(None), TaskRelationship.valid_to > at),
        )
        .values(valid_to=at)
        .execution_options(synchronize_session=False)
    )


def holds_referral(session: Session, *, account_id: str, request_id: str, at: datetime) -> bool:
    """Whether the account holds this request's live referral (not any relationship to the record)."""
    found = session.scalar(
        select(TaskRelationship.id)
        .where(
            TaskRelationship.account_id == account_id,
            TaskRelationship.created_by == referral(request_id),
            TaskRelationship.kind == RELATIONSHIP,
            TaskRelationship.valid_from <= at,
            or_(TaskRelationship.valid_to.is_(None), TaskRelationship.valid_to > at),
        )
        .limit(1)
    )
    return found is not None


def item(request: FamilyRequest, position: int) -> FamilyRequestItem:
    """Item ``position`` of a correction request, still to be decided."""
    if request.kind != "correction":
        raise ConflictError(f"the request asks for the {request.kind}; only a correction request has items to decide")
    if request.state != "received":
        raise ConflictError(f"the request is already {request.state}; its items are final")
    found = next((row for row in request.items if row.position == position), None)
    if found is None:
        raise NotFoundError(f"the request has no item {position}")
    if found.outcome != "pending":
        raise ConflictError(f"item {position} ({found.field}) is already {found.outcome}; a decision is final")
    return found


def check_decider(session: Session, account_id: str, report_id: str) -> None:
    """A certifier who has become the suspect of an open case concerning the record decides no item (409).

    Checked at every decision, not only at the referral: a case may be opened after registration.
    """
    if _suspect_of_open_case(session, account_id, report_id):
        raise ConflictError(
            "you are the suspect of an open investigation concerning this record, so you may not decide its "
            "items: the privacy office refuses the request with that ground, or answers it once it has expired"
        )


def check_not_corrected_elsewhere(session: Session, request: FamilyRequest, row: FamilyRequestItem) -> None:
    """Refuse to correct a field that another open, unanswered request already corrected (409 naming its item).

    Correcting it again would make that request's letter false (``_check_still_corrected``), and a
    request with a decided item cannot be refused: it would be stuck. That request is answered
    first; then this item may be decided. The report is locked first, so two certifiers' decisions
    on the same report are taken one after the other.
    """
    get_for_update(session, DeathReport, request.report_id)
    other = siblings.other_item(
        session, request, field=row.field, outcome="corrected", kind="correction", unanswered=True
    )
    if other is not None:
        raise ConflictError(
            f"request {other[0]} item {other[1]} ({row.field}) already corrected this field and is not "
            "answered yet: correcting it again would make that letter false; the privacy office answers that "
            f"request first, then item {row.position} can be decided (declining it is possible now)"
        )


def correction_ids(session: Session, report_id: str) -> set[str]:
    """The ids of the report's corrections so far (to find the ones a workflow step made)."""
    return set(session.scalars(select(ReportCorrection.id).where(ReportCorrection.report_id == report_id)))


def decide(row: FamilyRequestItem, *, outcome: str, by: str, at: datetime, reason: str, made: list[str]) -> None:
    """Record the certifier's decision on an item (and the corrections it made)."""
    row.outcome = outcome
    row.decided_by = by
    row.decided_at = at
    row.decision_reason = reason
    row.correction_ids = made


def _check_still_corrected(report: DeathReport, items: list[FamilyRequestItem]) -> None:
    """Every corrected item still reads as asked, or the letter would be false (409 naming the items)."""
    changed = []
    for row in items:
        if row.outcome != "corrected":
            continue
        try:
            wanted = check_report_field(row.field, row.value, where="value")
        except InputError:  # the rule changed since: compare the text as asked
            wanted = row.value
        if getattr(report, row.field) != wanted:
            changed.append(f"item {row.position} ({row.field})")
    if changed:
        raise ConflictError(
            f"{', '.join(changed)} no longer reads as corrected on this request (changed again since, e.g. by "
            "another request on the same field): the letter would be false; have the certifying institution "
            "settle the field, then answer"
        )


def _lapse(request: FamilyRequest, *, by: str, at: datetime) -> None:
    """Past the due date the referral has ended: a still pending item is declined with ``rules.LAPSED``."""
    for row in request.items:
        if row.outcome == "pending":
            decide(row, outcome="declined", by=by, at=at, reason=rules.LAPSED, made=[])


def letter(session: Session, request: FamilyRequest, *, by: str, at: datetime) -> CorrectionLetter:
    """The answer: each field corrected, or declined with the certifier's reason (no values)."""
    pending = [(row.position, row.field) for row in request.items if row.outcome == "pending"]
    rules.check_answerable(pending, due_at=request.due_at, now=at)
    report = session.get(DeathReport, request.report_id)
    if report is None:
        raise NotFoundError("death report not found")
    _check_still_corrected(report, list(request.items))
    _lapse(request, by=by, at=at)
    return CorrectionLetter(
        request_id=request.id,
        report_id=request.report_id,
        deceased_name=report.name,
        requester_name=request.requester_name,
        relationship=request.relationship,
        issued_at=at,
        items=[
            LetterItem(
                position=row.position,
                field=row.field,
                outcome="corrected" if row.outcome == "corrected" else "declined",
                reason=row.decision_reason if row.outcome == "declined" else None,
                decided_at=row.decided_at,
            )
            for row in request.items
        ],
    )


def referred(session: Session, *, account_id: str, at: datetime) -> list[tuple[FamilyRequest, str, str]]:
    """Open correction requests with an undecided item whose own referral this account holds, live at ``at``.

    Each request is matched to its own referral (``created_by = family_request:<id>``), as
    ``holds_referral`` opens it: a live referral for another request on the same report does not
    list it. With each, the record's institution and its district (the request's jurisdiction);
    oldest due first.
    """
    live = (
        select(TaskRelationship.id)
        .where(
            TaskRelationship.account_id == account_id,
            TaskRelationship.resource_type == "death_report",
            TaskRelationship.resource_id == FamilyRequest.report_id,
            TaskRelationship.created_by == literal(referral("")).concat(FamilyRequest.id),
            TaskRelationship.kind == RELATIONSHIP,
            TaskRelationship.valid_from <= at,
            or_(TaskRelationship.valid_to.is_(None), TaskRelationship.valid_to > at),
        )
        .exists()
    )
    pending = select(FamilyRequestItem.request_id).where(FamilyRequestItem.outcome == "pending")
    rows = session.execute(
        select(FamilyRequest, DeathReport.hospital_org_id, Organisation.district)
        .join(DeathReport, DeathReport.id == FamilyRequest.report_id)
        .join(Organisation, Organisation.id == DeathReport.hospital_org_id)
        .where(
            FamilyRequest.kind == "correction",
            FamilyRequest.state == "received",
            live,
            FamilyRequest.id.in_(pending),
        )
        .options(selectinload(FamilyRequest.items))
        .order_by(FamilyRequest.due_at, FamilyRequest.id)
    ).all()
    return [(row, str(org), str(district)) for row, org, district in rows]
