"""The account of disclosures a close relative receives: every recorded access to the deceased's data.

Read from the ledger against a signed checkpoint, so each line can later be proven (inclusion
proof) to be in the same tamper-evident log the prosecutors' evidence bundles come from. The
account names organisations and roles, not staff: a person appears as 'staff 1', 'staff 2' within
one account, enough to see that one person looked many times without disclosing colleagues'
identities to the family. Search texts and record contents are never copied into it.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import NotFoundError
from piguard.identity.models import Account
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.oversight.cases.models import CaseSubject, OversightCase
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.family.schemas import (
    AccountLine,
    DisclosureAccount,
    EmergencyUse,
    InvestigationNote,
    LedgerAnchor,
    OrganisationCount,
)
from piguard.policy.models import BreakGlassGrant
from piguard.policy.purposes import PURPOSES
from piguard.records.models import DeathReport, Dispatch, Organisation

# Before the first event about a death: the ambulance call precedes it; a day covers clock skew.
MARGIN = timedelta(days=1)
RECORDS = {
    "death_report": "death report",
    "dispatch": "ambulance call",
    "contact": "relative's phone number",
    "family_request": "a relative's request",
    "case": "investigation",
}
# Dotted field names (minimize.contexts.disclosed_fields) grouped into what a family understands;
# the first matching prefix wins.
GROUPS = (
    ("contact.phone", "relatives' real phone number"),
    ("relative.phone_handle", "relatives' phone (virtual number)"),
    ("caller_handle", "caller's phone (virtual number)"),
    ("relative.", "relatives' names and relationship"),
    ("deceased.household_address", "addresses"),
    ("deceased.usual_address", "addresses"),
    ("pickup_address", "addresses"),
    ("access_notes", "addresses"),
    ("deceased.id_number_masked", "identity number (masked, last 4)"),  # before its prefix below
    ("deceased.id_number", "identity number"),
    ("deceased.", "identity"),
    ("name", "identity"),
    ("sex", "identity"),
    ("age_", "identity"),
    ("death.time", "date and time of death"),  # the certificate's time of death: not a cause
    ("death.", "cause and circumstances of death"),
    ("cause_", "cause and circumstances of death"),
    ("manner", "cause and circumstances of death"),
    ("place", "cause and circumstances of death"),
    ("death_date", "date of death"),  # the police's and funeral home's screens: the date alone
    ("certificate", "death certificate"),
    ("chief_complaint", "ambulance call details"),
    ("hazards", "ambulance call details"),
    ("priority", "ambulance call details"),
    ("destination", "ambulance call details"),
    ("incident_id", "ambulance call details"),
    ("dispatch.", "ambulance call details"),
    ("audit.", "access records"),
    ("case.", "investigation records"),
    ("family_request.", "relatives' requests"),
    ("erasure.relatives", "relatives' contact details deleted"),  # a deletion request's answer
)
# A copy issued (or printed again) for a relative: the event's fields are the record's own (``deceased.name``, ...).
COPY_RECORD = "a copy of the record for a relative"
# The resource types that are the record itself (report, ambulance call, relatives' phones).
RECORD_TYPES = ("death_report", "dispatch", "contact")
# A request's own bookkeeping fields (registered, refused, a letter issued, the account itself). An event
# listing one is a step of a request, never a copy of the record, even where it also names the deceased
# (an account's or a letter's ``deceased.name``, an account's ``death.time``).
REQUEST_FIELDS = ("family_request.", "audit.")
CONTACT_GROUPS = frozenset({"relatives' real phone number", "relatives' phone (virtual number)"})
OTHER = "record status"


@dataclass(frozen=True, slots=True)
class Scope:
    """What identifies the deceased's data in the ledger."""

    subject_id: str
    resource_ids: frozenset[str]
    since: datetime

    def concerns(self, event: AccessEvent) -> bool:
        """Whether an event disclosed, or tried to disclose, this person's data."""
        return (
            event.subject_id == self.subject_id
            or event.resource_id in self.resource_ids
            or self.subject_id in event.result_subject_ids
        )


def find_report(session: Session, *, report_id: str | None, certificate_no: str | None) -> DeathReport:
    """The report named by its id or by the number on the family's death certificate."""
    if report_id is not None:
        report = session.get(DeathReport, report_id)
    else:
        report = session.scalar(select(DeathReport).where(DeathReport.certificate_no == certificate_no))
    if report is None:
        raise NotFoundError("death report not found")
    return report


def scope_of(session: Session, report_id: str) -> tuple[DeathReport, Scope]:
    """The report and the ledger scope of its deceased (the report and its ambulance call)."""
    report = session.get(DeathReport, report_id)
    if report is None:
        raise NotFoundError("death report not found")
    since = report.death_time
    ids = {report.id}
    if report.dispatch_id is not None:
        ids.add(report.dispatch_id)
        dispatch = session.get(Dispatch, report.dispatch_id)
        if dispatch is not None:
            since = min(since, dispatch.assigned_at)
    return report, Scope(report.subject_id, frozenset(ids), since - MARGIN)


def disclosed(fields: Iterable[str]) -> list[str]:
    """The kinds of information a list of field names disclosed, in a stable order."""
    kinds: set[str] = set()
    for name in fields:
        kinds.add(next((kind for prefix, kind in GROUPS if name.startswith(prefix)), OTHER))
    return sorted(kinds)


def concerning_events(session: Session, scope: Scope, *, end: int) -> list[tuple[int, AccessEvent]]:
    """The ledger's events about this deceased person, with their leaf indexes, in ledger order."""
    return [
        (entry.index, entry.event)
        for entry in ledger.iter_entries(
            session=session, end=end, subject_id=scope.subject_id, or_no_subject=True, time_from=scope.since
        )
        if scope.concerns(entry.event)
    ]


def readers_of(events: Iterable[AccessEvent]) -> set[str]:
    """The accounts that accessed, or tried to access, the record itself (report, ambulance call, phones).

    A relative's request's event counts when it carries the record's data: the officer who issued a
    copy (or printed it again) produced the deceased's data for the family. Registering, refusing,
    answering with an account or a letter carry the request's own fields (an account and a letter
    also the deceased's name, an account the time of death, which the family brought) and do not count.
    """
    return {event.user_id for event in events if _accesses_record(event)}


def _accesses_record(event: AccessEvent) -> bool:
    if event.resource_type in RECORD_TYPES:
        return True
    return event.resource_type == "family_request" and _carries_record(event.fields)


def record_readers(session: Session, report_id: str) -> set[str]:
    """The accounts whose accesses to the deceased's record are in the ledger so far (conflict of interest)."""
    _, scope = scope_of(session, report_id)
    return readers_of(event for _, event in concerning_events(session, scope, end=ledger.count(session=session)))


def build_account(
    *, session: Session, settings: Settings, request: FamilyRequest, until: datetime
) -> tuple[DisclosureAccount, set[str]]:
    """The account for one request, and the accounts of the staff who appear in it."""
    report, scope = scope_of(session, request.report_id)
    signed = ledger.checkpoint(session=session, settings=settings)
    events = concerning_events(session, scope, end=signed.tree_size)
    orgs = _organisations(session, {event.org_id for _, event in events})
    staff = _Staff()
    lines = [_line(index, event, orgs, staff, request.id) for index, event in events]
    grants = session.scalars(
        select(BreakGlassGrant).where(BreakGlassGrant.report_id == report.id).order_by(BreakGlassGrant.granted_at)
    ).all()
    grant_accounts = {
        a.id: a for a in session.scalars(select(Account).where(Account.id.in_({g.account_id for g in grants})))
    }
    orgs.update(_organisations(session, {a.org_id for a in grant_accounts.values()} - set(orgs)))
    emergency = [_emergency(grant, grant_accounts.get(grant.account_id), orgs, staff) for grant in grants]
    cases = session.execute(
        select(OversightCase.opened_at, OversightCase.state)
        .join(CaseSubject, CaseSubject.case_id == OversightCase.id)
        .where(CaseSubject.report_id == report.id)
        .order_by(OversightCase.opened_at)
    ).all()
    record_readers = readers_of(event for _, event in events)
    account = DisclosureAccount(
        request_id=request.id,
        report_id=report.id,
        deceased_name=report.name,
        death_time=report.death_time,
        requester_name=request.requester_name,
        relationship=request.relationship,
        since=scope.since,
        until=until,
        accesses=sum(line.outcome == "allowed" for line in lines),
        denied=sum(line.outcome == "denied" for line in lines),
        contact_disclosures=sum(
            line.outcome == "allowed" and bool(CONTACT_GROUPS.intersection(line.disclosed)) for line in lines
        ),
        by_organisation=_by_organisation(lines),
        emergency_uses=emergency,
        investigations=[InvestigationNote(opened_at=opened, state=state) for opened, state in cases],
        lines=lines,
        ledger=LedgerAnchor(
            origin=signed.checkpoint.origin,
            tree_size=signed.tree_size,
            root=base64.b64encode(signed.root).decode("ascii"),
            note=signed.note,
        ),
    )
    return account, record_readers


class _Staff:
    """'staff 1', 'staff 2', ... in order of first appearance; service accounts are 'system'."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def label(self, user_id: str, role: str) -> str:
        if role == "service":
            return "system"
        if user_id not in self._labels:
            self._labels[user_id] = f"staff {len(self._labels) + 1}"
        return self._labels[user_id]


def _organisations(session: Session, ids: set[str]) -> dict[str, tuple[str, str]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.org_type).where(Organisation.id.in_(ids))
    ).all()
    return {org_id: (name, kind) for org_id, name, kind in rows}


def _line(
    index: int, event: AccessEvent, orgs: dict[str, tuple[str, str]], staff: _Staff, request_id: str
) -> AccountLine:
    name, kind = orgs.get(event.org_id, ("(organisation not in this system)", "unknown"))
    if event.action == "search":
        record = "search results"
    elif event.resource_type == "family_request" and event.resource_id == request_id:
        record = "this request"
    elif event.resource_type == "family_request" and _carries_record(event.fields):
        record = COPY_RECORD
    else:
        record = RECORDS.get(event.resource_type or "", "record")
    return AccountLine(
        time=event.time,
        organisation=name,
        organisation_type=kind,
        role=event.role,
        staff=staff.label(event.user_id, event.role),
        action=event.action,
        record=record,
        disclosed=disclosed(event.fields) if event.outcome == "allowed" else [],
        purpose=event.purpose,
        purpose_meaning=PURPOSES.get(event.purpose or ""),
        outcome="denied" if event.outcome == "denied" else "allowed",
        emergency_access=event.action == "breakglass" or event.purpose == "BTG",
        ledger_index=index,
        event_id=event.event_id,
    )


def _carries_record(fields: Iterable[str]) -> bool:
    """Whether a request's event handed over a copy of the record's data (not an account, a letter or bookkeeping)."""
    names = list(fields)
    if any(name.startswith(REQUEST_FIELDS) for name in names):
        return False  # an account or a letter: it names the deceased, it is no copy of the record
    return any(disclosed([name]) != [OTHER] for name in names)


def _emergency(
    grant: BreakGlassGrant, account: Account | None, orgs: dict[str, tuple[str, str]], staff: _Staff
) -> EmergencyUse:
    role = account.role if account is not None else "unknown"
    org = orgs.get(account.org_id, ("(unknown)", "unknown"))[0] if account is not None else "(unknown)"
    review = {"pending": "awaiting review", "justified": "reviewed: justified", "unjustified": "reviewed: unjustified"}
    return EmergencyUse(
        granted_at=grant.granted_at,
        organisation=org,
        role=role,
        staff=staff.label(grant.account_id, role),
        review=review.get(grant.review_status, grant.review_status),
    )


def _by_organisation(lines: list[AccountLine]) -> list[OrganisationCount]:
    allowed: Counter[tuple[str, str]] = Counter()
    denied: Counter[tuple[str, str]] = Counter()
    for line in lines:
        key = (line.organisation, line.organisation_type)
        (allowed if line.outcome == "allowed" else denied)[key] += 1
    keys = sorted(set(allowed) | set(denied), key=lambda k: (-(allowed[k] + denied[k]), k))
    return [
        OrganisationCount(organisation=k[0], organisation_type=k[1], allowed=allowed[k], denied=denied[k]) for k in keys
    ]
