"""Relatives' requests: register, list, answer (account, copy, or a correction or deletion letter), refuse.

Every step is an access event about the deceased (``subject_id``), so the answer itself shows the
request's registration, and a later account shows the earlier answers and the copies issued. The
ledger holds no free text: the refusal's reason stays in the request row. A copy's event lists the
fields it disclosed and carries the SHA-256 of the copy as kept, so the log itself says which
document was handed over.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from piguard.config import Settings
from piguard.db.locking import get_for_update
from piguard.errors import ConflictError, NotFoundError
from piguard.identity.schemas import Principal
from piguard.interchange.events import AccessEvent
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.oversight.family import copies, corrections, deletions, disclosures, render, rules
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.schemas import (
    CorrectionLetter,
    DeletionLetter,
    DisclosureAccount,
    FamilyCopy,
    FamilyDocument,
    FamilyLetter,
    FamilyRequestIn,
    FamilyRequestOut,
)
from piguard.records.guard import EventDraft, record_event
from piguard.records.models import DeathReport, Organisation

RESOURCE = "family_request"
# Neutral on purpose: the officer is not told the record is a decoy (canaries stay secret from insiders).
CANARY_REFUSAL = (
    "no relative's request can be registered about this record; the attempt is recorded for the privacy office, "
    "which will contact the requester"
)
_SAME_MOMENT = timedelta(milliseconds=1)  # the ledger keeps event times to the millisecond
# Written into the evidence bundle of a request not answered (``verify-evidence`` lists it as not checked).
STATUS_FILE = "request.json"
_SHA256 = re.compile(r"sha256=([0-9a-f]{64})")
# What an answer discloses, as its events' ``fields`` (the names the screens use for the same data):
# an account, the access lines and the deceased's name and time of death (``deceased_name``,
# ``death_time``); a letter, its own kind and the deceased's name.
ACCOUNT_FIELDS = ("audit.disclosures", "death.time", "deceased.name")
LETTER_RECORD_FIELDS = ("deceased.name",)


def letter_fields(letter_field: str) -> list[str]:
    """The ``fields`` of an event that hands over a letter (``family_request.<kind>_letter`` or ``.letter``)."""
    return sorted({letter_field, *LETTER_RECORD_FIELDS})


def _record(
    session: Session,
    principal: Principal,
    request: FamilyRequest,
    *,
    action: str,
    fields: list[str],
    at: datetime,
    note: str = "",
) -> None:
    draft = EventDraft(
        action=action,
        resource_type=RESOURCE,
        resource_id=request.id,
        subject_id=request.subject_id,
        purpose=rules.PURPOSE,
        fields=fields,
    )
    record_event(session, principal, draft, at=at, outcome="allowed", reason=f"family request {request.state}{note}")


def out(request: FamilyRequest, *, now: datetime) -> FamilyRequestOut:
    """The request as shown to officers, with its overdue flag at ``now``."""
    shown = FamilyRequestOut.model_validate(request)
    return shown.model_copy(update={"overdue": rules.is_overdue(request.state, request.due_at, now)})


def get(session: Session, request_id: str) -> FamilyRequest:
    """One request, or NotFoundError."""
    row = session.get(FamilyRequest, request_id)
    if row is None:
        raise NotFoundError("family request not found")
    return row


def _claim(session: Session, request_id: str) -> FamilyRequest:
    """The request, read afresh under its lock, so two officers cannot both decide it."""
    row = get_for_update(session, FamilyRequest, request_id)
    if row is None:
        raise NotFoundError("family request not found")
    return row


def register(*, session: Session, principal: Principal, at: datetime, data: FamilyRequestIn) -> FamilyRequest:
    """Register a request whose requester's identity and relationship the officer has checked.

    A correction request is referred to the report's certifier (``corrections.refer``).
    """
    report = disclosures.find_report(session, report_id=data.report_id, certificate_no=data.certificate_no)
    if report.is_canary:
        # A decoy has no family: whoever brings its details learned them from a leak. Refused before
        # anything is written or referred (a referral would put the decoy in a physician's worklist);
        # the refusal is the officer's denied event about the decoy, which detection reports.
        raise ConflictError(CANARY_REFUSAL)
    items: list[FamilyRequestItem] = []
    if data.kind == "correction":
        items = corrections.items_of(data.corrections or [])
    elif data.kind == "deletion":
        items = deletions.items_of(list(data.erase or []))
    request = FamilyRequest(
        report_id=report.id,
        subject_id=report.subject_id,
        requester_name=data.requester_name,
        relationship=rules.check_relationship(data.relationship),
        kind=rules.check_kind(data.kind),
        proof=rules.check_proof(data.proof),
        received_by=principal.account_id,
        received_at=at,
        due_at=rules.due_date(at),
        state="received",
        items=items,
    )
    session.add(request)
    session.flush()
    if request.kind == "correction":
        corrections.refer(session, request, report, at=at)
    _record(session, principal, request, action="create", fields=["family_request.registered"], at=at)
    return request


def list_requests(
    *,
    session: Session,
    state: str | None = None,
    overdue_at: datetime | None = None,
    limit: int | None = None,
    within: Select[str] | None = None,
) -> Sequence[tuple[FamilyRequest, str, str]]:
    """Requests with their record's institution and its district, oldest due first.

    ``overdue_at``: only those unanswered past their due date; ``within``: the ids of the
    institutions in a jurisdiction (``scope.jurisdiction_orgs``; None: the whole city), applied
    before the limit.
    """
    stmt = (
        select(FamilyRequest, DeathReport.hospital_org_id, Organisation.district)
        .join(DeathReport, DeathReport.id == FamilyRequest.report_id)
        .join(Organisation, Organisation.id == DeathReport.hospital_org_id)
        .options(selectinload(FamilyRequest.items))
        .order_by(FamilyRequest.due_at, FamilyRequest.id)
        .limit(limit)
    )
    if within is not None:
        stmt = stmt.where(DeathReport.hospital_org_id.in_(within))
    if state is not None:
        stmt = stmt.where(FamilyRequest.state == state)
    if overdue_at is not None:
        stmt = stmt.where(FamilyRequest.state == "received", FamilyRequest.due_at < overdue_at)
    return [(row, str(org), str(district)) for row, org, district in session.execute(stmt).all()]


def answer(
    *, session: Session, settings: Settings, principal: Principal, at: datetime, request_id: str
) -> FamilyDocument:
    """Build the request's document, keep it exactly as issued (canonical JSON, SHA-256), close the request.

    A deletion request's answer deletes what may be deleted (``deletions``) in the same transaction;
    a correction request's, once the certifier decided every item, ends the certifier's referral.
    """
    request = _claim(session, request_id)
    rules.check_open(request.state)
    rules.check_four_eyes(request.kind, request.received_by, principal.account_id)
    document: FamilyDocument
    if request.kind == "copy":
        document, readers = copies.build_copy(session=session, request=request, at=at)
        fields = copies.fields_of(document)
    elif request.kind in rules.LETTER_KINDS:
        # Checked before anything changes: an officer who read the record does not decide on it.
        rules.check_not_involved(principal.account_id, disclosures.record_readers(session, request.report_id))
        if request.kind == "deletion":
            document = deletions.answer(session, principal, request, at=at)
        else:
            document = corrections.letter(session, request, by=principal.account_id, at=at)
            corrections.end_referral(session, request.id, at=at)
        readers, fields = set(), letter_fields(f"family_request.{request.kind}_letter")
    else:
        document, readers = disclosures.build_account(session=session, settings=settings, request=request, until=at)
        fields = list(ACCOUNT_FIELDS)
    rules.check_not_involved(principal.account_id, readers)
    text = render.as_json(document).decode("utf-8")
    request.answer = text
    request.answer_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    request.state = "answered"
    request.decided_by = principal.account_id
    request.decided_at = at
    session.flush()
    # Every kind: the signed log itself says which document was handed over.
    note = f"; sha256={request.answer_sha256}"
    _record(session, principal, request, action="export", fields=fields, at=at, note=note)
    return document


def refuse(*, session: Session, principal: Principal, at: datetime, request_id: str, reason: str) -> FamilyRequest:
    """Refuse with the ground (e.g. the deceased arranged otherwise during their lifetime)."""
    request = _claim(session, request_id)
    rules.check_open(request.state)
    request.refusal_reason = rules.require_refusal_reason(reason)
    rules.check_refusable([(row.position, row.field, row.outcome) for row in request.items if row.outcome != "pending"])
    if request.kind == "correction":
        corrections.end_referral(session, request.id, at=at)
    request.state = "refused"
    request.decided_by = principal.account_id
    request.decided_at = at
    session.flush()
    _record(session, principal, request, action="update", fields=["family_request.refused"], at=at)
    return request


def _status(request: FamilyRequest) -> str:
    """The bundle's ``request.json`` for a request not answered: its id, kind and state, and that it has no answer."""
    note = (
        f"the request is {request.state} and not answered: these are its own events and the changes it made to "
        "the report so far; no document was issued"
    )
    status = {"request_id": request.id, "kind": request.kind, "state": request.state, "answered": False, "note": note}
    return json.dumps(status, ensure_ascii=False, indent=2) + "\n"


def _answered_event(session: Session, request: FamilyRequest) -> str | None:
    """The reason of the ledger event that recorded the answer (None if there is no such event)."""
    if request.decided_at is None:
        return None
    entries = ledger.iter_entries(
        session=session,
        subject_id=request.subject_id,
        time_from=request.decided_at,
        time_to=request.decided_at + timedelta(milliseconds=1),
    )
    for entry in entries:
        event = entry.event
        if (
            event.resource_type == RESOURCE
            and event.resource_id == request.id
            and event.action == "export"
            and event.outcome == "allowed"
        ):
            return event.reason or ""
    return None


def _kept(session: Session, request: FamilyRequest) -> str:
    """The stored answer, checked against its row's SHA-256 and the one in its ledger event.

    A changed answer is refused, not served. Answers issued before the ledger event carried the
    digest (accounts of accesses, until 2026-12) are checked against the row only.
    """
    if request.answer is None or request.answer_sha256 is None:
        raise ConflictError(f"the request is {request.state} and has no answer")
    digest = hashlib.sha256(request.answer.encode("utf-8")).hexdigest()
    if digest != request.answer_sha256:
        raise ConflictError("the stored answer does not match its SHA-256: it was changed after issue")
    reason = _answered_event(session, request)
    if reason is None:
        raise ConflictError("the ledger holds no event recording this answer: it cannot be served as issued")
    found = _SHA256.search(reason)
    if found is not None and found.group(1) != digest:
        raise ConflictError("the stored answer does not match the SHA-256 in its ledger event: it was changed")
    return request.answer


def issued_account(*, session: Session, request_id: str) -> DisclosureAccount:
    """The account exactly as it was issued (its SHA-256 checked against the stored one)."""
    request = get(session, request_id)
    rules.check_document(request.kind, "disclosures")
    return DisclosureAccount.model_validate_json(_kept(session, request))


def issued_copy(*, session: Session, request_id: str) -> FamilyCopy:
    """The copy exactly as it was issued (its SHA-256 checked against the stored one)."""
    request = get(session, request_id)
    rules.check_document(request.kind, "copy")
    return FamilyCopy.model_validate_json(_kept(session, request))


def issued_letter(*, session: Session, request_id: str) -> FamilyLetter:
    """The correction or deletion letter exactly as it was issued (its SHA-256 checked against the stored one)."""
    request = get(session, request_id)
    rules.check_document(request.kind, "letter")
    kept = _kept(session, request)
    if request.kind == "deletion":
        return DeletionLetter.model_validate_json(kept)
    return CorrectionLetter.model_validate_json(kept)


def claim_item(session: Session, request_id: str, position: int) -> tuple[FamilyRequest, FamilyRequestItem]:
    """A correction request's pending item, read under the request's lock (one decision per item)."""
    request = _claim(session, request_id)
    return request, corrections.item(request, position)


def record_decision(
    session: Session, principal: Principal, request: FamilyRequest, row: FamilyRequestItem, *, at: datetime
) -> None:
    """The certifier's decision on an item, as an event about the deceased (no values, no reason text)."""
    note = f"; item {row.position} {row.outcome}"
    _record(session, principal, request, action="update", fields=[f"family_request.item.{row.field}"], at=at, note=note)


def _made_by_request(request: FamilyRequest, event: AccessEvent) -> bool:
    """An event on the death report that the request made: it cites the request, or it is an item's correction.

    Corrections made before their events cited the request are matched by who made them and when
    (the item's decision and its correction share the moment) and the field.
    """
    if event.resource_type != "death_report" or event.resource_id != request.report_id or event.outcome != "allowed":
        return False
    if cites(request.id, event.reason):
        return True
    return any(
        row.outcome == "corrected"
        and event.user_id == row.decided_by
        and row.decided_at is not None
        and abs(event.time - row.decided_at) < _SAME_MOMENT
        and f"report.{row.field}" in event.fields
        for row in request.items
    )


def cites(request_id: str, reason: str | None) -> bool:
    """Whether an event's reason names the request (``family_request:<id>``, followed by ``:`` or its end)."""
    marker = f"family_request:{request_id}"
    text = reason or ""
    at = text.find(marker)
    return at >= 0 and text[at + len(marker) : at + len(marker) + 1] in ("", ":", ";")


def request_event_ids(session: Session, request: FamilyRequest) -> list[str]:
    """The request's ledger events (registered, answered, printed again, refused attempts) and its changes.

    The changes are the death-report updates the request made: each corrected item's
    ``workflow:correct_report`` update, a deletion's ``erasure.relatives`` update.
    """
    entries = ledger.iter_entries(session=session, subject_id=request.subject_id, time_from=request.received_at)
    return [
        entry.event.event_id
        for entry in entries
        if (entry.event.resource_type == RESOURCE and entry.event.resource_id == request.id)
        or (request.kind in rules.LETTER_KINDS and _made_by_request(request, entry.event))
    ]


def export_evidence(
    *, session: Session, settings: Settings, request_id: str, out_dir: Path
) -> evidence.EvidenceSummary:
    """An evidence bundle (events with inclusion proofs): an account's lines, or another request's own events.

    A request not answered (received or refused) has no document, but may already have changed the
    report (a corrected item): its own events and the changes it made are exported, and the
    bundle's ``request.json`` says that it is not answered (``STATUS_FILE``).
    """
    request = get(session, request_id)
    if request.state != "answered":
        summary = evidence.export_evidence(
            session=session, out=out_dir, settings=settings, event_ids=request_event_ids(session, request)
        )
        (out_dir / STATUS_FILE).write_text(_status(request), encoding="utf-8")
        return summary
    if request.kind == "copy":
        issued_copy(session=session, request_id=request_id)  # answered, and kept as issued
        event_ids = request_event_ids(session, request)
    elif request.kind in rules.LETTER_KINDS:
        issued_letter(session=session, request_id=request_id)
        event_ids = request_event_ids(session, request)
    else:
        event_ids = [line.event_id for line in issued_account(session=session, request_id=request_id).lines]
    return evidence.export_evidence(session=session, out=out_dir, settings=settings, event_ids=event_ids)
