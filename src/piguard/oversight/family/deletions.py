"""A relative's deletion request (PIPL Art. 47, 49): what is deleted, what is kept and on what basis.

The death report itself is never deleted: the law requires the certifying institution to keep
the medical certificate and the CDC its death registration, so that item is answered with that
basis (``rules.RETENTION_BASIS``; Art. 47 para. 2: storage and necessary security only). What can
honestly be deleted is data whose purpose is achieved: the relatives' phone numbers and addresses
on the report, which serve to reach the family until the certificate is handed over
(``records.erasure``). They are kept, with the reason stated, while the report is uncertified,
while a certificate part is still to be issued, or while an investigation concerning the record
is open (they may be evidence of a leak: the Minhang insiders sold exactly these numbers).

What the deletion does not reach is said in the letter (``remains``): the ambulance call that
led to the report is the emergency centre's record (another controller, its own retention) and
may hold the caller's number; the access log keeps the text staff typed into searches (it cannot
be changed); backups keep the values until discarded.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import NotFoundError
from piguard.identity.schemas import Principal
from piguard.oversight.cases.models import CaseSubject, OversightCase
from piguard.oversight.family import rules, siblings
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.report_events import record_report_change
from piguard.oversight.family.schemas import DeletedCount, DeletionLetter, LetterItem
from piguard.records import erasure
from piguard.records.models import DeathReport, Dispatch

# The ledger event of the deletion itself lists this field (no values; see disclosures.GROUPS). Not
# ``relative.*``, ``*phone*`` or ``*contact*``: the leak tracer (detect/trace.py) takes those for a
# screen that showed the numbers, and a deletion showed none.
ERASED_FIELD = "erasure.relatives"
OPEN_CASE = (
    "an investigation concerning the record is open: the contact details may be evidence, so they are kept until "
    "it is closed; ask again then"
)

ALREADY_DELETED = "the relatives' contact details were already deleted from the report on an earlier request"
NEVER_HELD = "the report holds no phone number or address of a relative"
# What a deletion of the contacts does not reach, as the letter names it (``DeletionLetter.remains``).
REMAINS_CALL = "emergency_call"  # the linked ambulance call's caller number, held by the emergency centre
REMAINS_SEARCHES = "search_text"  # text staff typed into searches, kept in the access log
REMAINS_BACKUPS = "backups"


def items_of(targets: list[str]) -> list[FamilyRequestItem]:
    """The request's items, one per target named."""
    return [FamilyRequestItem(position=index + 1, field=target) for index, target in enumerate(targets)]


def _open_case(session: Session, report_id: str) -> bool:
    found = session.scalar(
        select(OversightCase.id)
        .join(CaseSubject, CaseSubject.case_id == OversightCase.id)
        .where(CaseSubject.report_id == report_id, OversightCase.state != "closed")
        .limit(1)
    )
    return found is not None


def _deleted_before(session: Session, request: FamilyRequest) -> bool:
    """Whether an earlier request about the same report deleted the relatives' contact details."""
    return siblings.other_item(session, request, field="relative_contacts", outcome="deleted") is not None


def remains(session: Session, report: DeathReport) -> list[str]:
    """What still holds contact numbers after the deletion, and who holds it (codes the letter explains)."""
    held = [REMAINS_SEARCHES, REMAINS_BACKUPS]
    if report.dispatch_id is not None:
        caller = session.scalar(select(Dispatch.caller_phone).where(Dispatch.id == report.dispatch_id))
        if caller:
            held.insert(0, REMAINS_CALL)
    return held


def _contacts(
    session: Session,
    principal: Principal,
    request: FamilyRequest,
    report: DeathReport,
    row: FamilyRequestItem,
    at: datetime,
) -> list[DeletedCount]:
    """Decide the relatives' contacts item: delete them if their purpose is achieved, else say why not.

    Whether anything is held comes first: "kept" (an open case, parts not issued) would tell the
    family something is held when an earlier request already deleted it, or there never was any.
    """
    row.decided_by, row.decided_at = principal.account_id, at
    if not erasure.contacts_held(session=session, report_id=report.id):
        row.outcome = "not_held"
        row.decision_reason = ALREADY_DELETED if _deleted_before(session, request) else NEVER_HELD
        return []
    why = erasure.contacts_still_needed(session=session, report_id=report.id)
    if why is None and _open_case(session, report.id):
        why = OPEN_CASE
    if why is not None:
        row.outcome, row.decision_reason = "kept", why
        return []
    made = erasure.erase_relative_contacts(
        session=session,
        report_id=report.id,
        account_id=principal.account_id,
        reason=f"deleted under PIPL Art. 47 on family request {request.id}: purpose achieved (certificate handed over)",
        at=at,
    )
    row.correction_ids = [correction.id for correction in made]
    if not made:
        row.outcome = "not_held"
        row.decision_reason = ALREADY_DELETED if _deleted_before(session, request) else NEVER_HELD
        return []
    row.outcome = "deleted"
    reason = f"family_request:{request.id}:erasure"
    record_report_change(session, principal, report, field=ERASED_FIELD, reason=reason, at=at)
    counts = Counter(f"relative.{correction.field.rsplit('.', 1)[-1]}" for correction in made)
    return [DeletedCount(field=name, count=counts[name]) for name in sorted(counts)]


def answer(session: Session, principal: Principal, request: FamilyRequest, *, at: datetime) -> DeletionLetter:
    """Decide every item (deleting what may be deleted) and write the letter."""
    report = session.get(DeathReport, request.report_id)
    if report is None:
        raise NotFoundError("death report not found")
    items: list[LetterItem] = []
    for row in request.items:
        deleted: list[DeletedCount] = []
        if row.field == "relative_contacts":
            deleted = _contacts(session, principal, request, report, row, at)
        else:  # the report: kept by law
            row.outcome, row.decision_reason = "kept", rules.RETENTION_BASIS
            row.decided_by, row.decided_at = principal.account_id, at
        items.append(
            LetterItem(
                position=row.position,
                field=row.field,
                outcome="deleted" if row.outcome == "deleted" else "not_held" if row.outcome == "not_held" else "kept",
                reason=row.decision_reason,
                decided_at=at,
                deleted=deleted,
            )
        )
    deleted_any = any(row.outcome == "deleted" for row in request.items)
    return DeletionLetter(
        remains=remains(session, report) if deleted_any else [],
        request_id=request.id,
        report_id=request.report_id,
        deceased_name=report.name,
        requester_name=request.requester_name,
        relationship=request.relationship,
        issued_at=at,
        items=items,
    )
