"""The case service: open, assign, move, attach, dispose, read back and export an investigation.

Keyword-only functions that never commit (the door owns the transaction). Every change appends
one history entry and, in the same transaction, one access event to the ledger whose reason
carries the entry's SHA-256, so the exported history can be checked against the signed log.
Policy checks happen in ``flows``; this module enforces the case rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.locking import get_for_update
from piguard.errors import ConflictError, InputError, NotFoundError, TamperError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.localtime import beijing_date
from piguard.oversight.cases import integrity, jurisdiction, rules
from piguard.oversight.cases.models import (
    CaseEvent,
    CaseEvidence,
    CaseSubject,
    Disposition,
    DispositionDecision,
    OversightCase,
)
from piguard.oversight.cases.schemas import (
    CaseDetail,
    CaseOpen,
    CaseOut,
    DispositionIn,
    DispositionOut,
    EventOut,
    EvidenceIn,
    EvidenceOut,
    SubjectOut,
)
from piguard.records import service as records
from piguard.records.guard import EventDraft, record_event
from piguard.records.models import DeathReport, Organisation, TaskRelationship

PURPOSE = "HOPERAT"  # managing an investigation is a healthcare-operations purpose of use
RELATIONSHIP = "investigator"
CASE_FILE = "case.json"


def relationship_creator(case_id: str) -> str:
    """The ``created_by`` of the investigator relationships a case creates."""
    return f"case:{case_id}"


def entry_digest(entry: dict[str, Any]) -> str:
    """SHA-256 (hex) of a history entry's RFC 8785 canonical JSON."""
    return integrity.digest(entry)


def entry_content(case_id: str, row: CaseEvent | EventOut, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    """The digested content of a history entry and of what it created (digest version 2)."""
    return integrity.entry_content(case_id, row, bound)


def _append(
    session: Session,
    *,
    case: OversightCase,
    principal: Principal,
    at: datetime,
    kind: str,
    reason: str,
    action: str = "update",
    resource_type: str = "case",
    from_state: str | None = None,
    to_state: str | None = None,
    ref_id: str | None = None,
    subject_id: str | None = None,
    bound: dict[str, Any] | None = None,
) -> CaseEvent:
    last = session.execute(
        select(CaseEvent.seq, CaseEvent.at).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc()).limit(1)
    ).first()
    if last is not None and last[1] > at:
        raise ConflictError("the time is earlier than the case's last entry: history is never backdated")
    row = CaseEvent(
        case_id=case.id,
        seq=(last[0] if last is not None else 0) + 1,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        ref_id=ref_id,
        actor_id=principal.account_id,
        at=at,
    )
    row.digest = entry_digest(entry_content(case.id, row, bound))
    # The ledger holds no free text: the reason stays in the history, the ledger its digest.
    draft = EventDraft(
        action=action,
        resource_type=resource_type,
        resource_id=case.id,
        subject_id=subject_id,
        purpose=PURPOSE,
        fields=[f"{resource_type}.{kind}"],
    )
    event = record_event(
        session,
        principal,
        draft,
        at=at,
        outcome="allowed",
        reason=integrity.ledger_reason(
            kind=kind, from_state=from_state, to_state=to_state, seq=row.seq, digest=row.digest
        ),
    )
    row.ledger_event_id = event.event_id
    session.add(row)
    session.flush()
    return row


def _case(session: Session, case_id: str, *, lock: bool = False) -> OversightCase:
    row = get_for_update(session, OversightCase, case_id) if lock else session.get(OversightCase, case_id)
    if row is None:
        raise NotFoundError("case not found")
    return row


def _assignee(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise InputError("no such account", where="assignee_id")
    rules.check_assignee(account.role, account.disabled)
    return account


def _existing_account(session: Session, account_id: str, *, where: str) -> Account:
    """The account with this id (a user named here must exist: unknown ids are not stored)."""
    account = session.get(Account, account_id)
    if account is None:
        raise InputError("no such account", where=where)
    return account


def _known_identifiers(session: Session, identifiers: Sequence[str]) -> int:
    """How many distinct identifiers are a report id or a deceased's subject id here."""
    wanted = sorted(set(identifiers))
    if not wanted:
        return 0
    rows = session.execute(
        select(DeathReport.id, DeathReport.subject_id).where(
            or_(DeathReport.id.in_(wanted), DeathReport.subject_id.in_(wanted))
        )
    ).all()
    seen = {str(value) for row in rows for value in row}
    return sum(1 for identifier in wanted if identifier in seen)


def _resolve_subjects(session: Session, identifiers: Sequence[str], *, strict: bool) -> list[tuple[str, str]]:
    """(report id, subject id) of each identifier, a report id or a deceased's subject id."""
    found: list[tuple[str, str]] = []
    for position, identifier in enumerate(identifiers):
        row = session.execute(
            select(DeathReport.id, DeathReport.subject_id).where(
                or_(DeathReport.id == identifier, DeathReport.subject_id == identifier)
            )
        ).first()
        if row is None:
            if strict:
                raise InputError("no death report with this id or subject id", where=f"subjects[{position}]")
            continue
        if (row[0], row[1]) not in found:
            found.append((str(row[0]), str(row[1])))
    return found


def _grant(session: Session, *, case: OversightCase, report_id: str, subject_id: str, at: datetime) -> None:
    records.add_relationship(
        session=session,
        account_id=case.assignee_id,
        resource_type="death_report",
        resource_id=report_id,
        subject_id=subject_id,
        kind=RELATIONSHIP,
        valid_from=at,
        valid_to=None,
        created_by=relationship_creator(case.id),
    )


def _end_access(session: Session, *, case_id: str, at: datetime) -> None:
    """End every live investigator relationship this case created."""
    session.execute(
        update(TaskRelationship)
        .where(
            TaskRelationship.created_by == relationship_creator(case_id),
            TaskRelationship.kind == RELATIONSHIP,
            TaskRelationship.valid_to.is_(None),
        )
        .values(valid_to=at)
        .execution_options(synchronize_session=False)
    )


def _add_subjects(
    session: Session, *, case: OversightCase, principal: Principal, at: datetime, found: list[tuple[str, str]]
) -> int:
    known = set(session.scalars(select(CaseSubject.report_id).where(CaseSubject.case_id == case.id)))
    added = 0
    for report_id, subject_id in found:
        if report_id in known:
            continue
        row = CaseSubject(case_id=case.id, report_id=report_id, subject_id=subject_id, added_by=principal.account_id)
        row.added_at = at
        session.add(row)
        session.flush()
        _grant(session, case=case, report_id=report_id, subject_id=subject_id, at=at)
        _append(
            session,
            case=case,
            principal=principal,
            at=at,
            kind="subject_added",
            reason=f"record {report_id} concerns this case",
            ref_id=report_id,
            subject_id=subject_id,
            bound=integrity.subject_content(row),
        )
        added += 1
    return added


def _attach(
    session: Session, *, case: OversightCase, principal: Principal, at: datetime, item: EvidenceIn
) -> CaseEvidence:
    rules.check_evidence(kind=item.kind, sha256=item.sha256)
    cited = list(dict.fromkeys(item.event_ids or ([item.reference] if item.kind == "ledger_event" else [])))
    row = CaseEvidence(
        case_id=case.id,
        kind=item.kind,
        reference=item.reference,
        sha256=item.sha256,
        description=item.description,
        event_ids=cited,
        added_by=principal.account_id,
    )
    row.added_at = at
    session.add(row)
    session.flush()
    _append(
        session,
        case=case,
        principal=principal,
        at=at,
        kind="evidence_added",
        reason=item.reason,
        action="create",
        resource_type="case_evidence",
        ref_id=row.id,
        bound=integrity.evidence_content(row),
    )
    return row


def open_case(*, session: Session, principal: Principal, at: datetime, data: CaseOpen) -> OversightCase:
    """Open a case, assign it and grant the investigator access to the records it concerns."""
    rules.check_source(source=data.source, source_ref=data.source_ref, has_alert=data.alert is not None)
    assignee = _assignee(session, data.assignee_id)
    suspect = data.suspect_user_id or (data.alert.user_id if data.alert else None)
    if suspect is not None:
        where = "suspect_user_id" if data.suspect_user_id else "alert.user_id"
        suspect = _existing_account(session, suspect, where=where).id
    org_id = data.org_id
    if org_id is not None and session.get(Organisation, org_id) is None:
        raise InputError("no such organisation", where="org_id")
    if org_id is None and suspect is not None:
        account = session.get(Account, suspect)
        org_id = account.org_id if account is not None else None
    rules.check_not_involved(actor_id=principal.account_id, suspect_id=suspect)
    rules.check_assignee_not_suspect(assignee_id=assignee.id, suspect_id=suspect)
    found = _resolve_subjects(session, data.subjects, strict=True)
    if data.alert is not None:
        from_alert = _resolve_subjects(session, data.alert.subject_ids, strict=False)
        unknown = len(set(data.alert.subject_ids)) - _known_identifiers(session, data.alert.subject_ids)
        if unknown:
            raise InputError(
                f"{unknown} of the alert's {len(set(data.alert.subject_ids))} subject ids name no death report here",
                where="alert.subject_ids",
            )
        found += [s for s in from_alert if s not in found]
    case = OversightCase(
        title=data.title,
        source=data.source,
        source_ref=data.source_ref or (data.alert.alert_id if data.alert else None),
        suspect_user_id=suspect,
        org_id=org_id,
        opened_by=principal.account_id,
        opened_at=at,
        state="open",
        assignee_id=assignee.id,
    )
    session.add(case)
    session.flush()
    _append(
        session,
        case=case,
        principal=principal,
        at=at,
        kind="opened",
        reason=data.reason,
        action="create",
        to_state="open",
        ref_id=case.source_ref,
        bound=integrity.opened_content(case),
    )
    _append(
        session,
        case=case,
        principal=principal,
        at=at,
        kind="assigned",
        reason=f"assigned to {assignee.username}",
        ref_id=assignee.id,
    )
    _add_subjects(session, case=case, principal=principal, at=at, found=found)
    if data.alert is not None:
        alert = data.alert
        _attach(
            session,
            case=case,
            principal=principal,
            at=at,
            item=EvidenceIn(
                kind="alert",
                reference=alert.alert_id,
                description=f"alert on user {alert.user_id}, severity {alert.severity or 'unknown'}",
                event_ids=alert.event_ids(),
                reason="the alert this case was opened from",
            ),
        )
    return case


def assign(
    *, session: Session, principal: Principal, at: datetime, case_id: str, assignee_id: str, reason: str
) -> None:
    """Hand the case to another privacy officer: the old investigator's access ends, the new one's starts."""
    case = _case(session, case_id, lock=True)
    text = rules.require_reason(reason)
    rules.check_can_change(case.state, "assignment")
    assignee = _assignee(session, assignee_id)
    rules.check_assignee_not_suspect(assignee_id=assignee.id, suspect_id=case.suspect_user_id)
    if assignee.id == case.assignee_id:
        raise InputError("the case is already assigned to this account", where="assignee_id")
    _end_access(session, case_id=case.id, at=at)
    case.assignee_id = assignee.id
    for subject in session.scalars(select(CaseSubject).where(CaseSubject.case_id == case.id)):
        _grant(session, case=case, report_id=subject.report_id, subject_id=subject.subject_id, at=at)
    _append(session, case=case, principal=principal, at=at, kind="assigned", reason=text, ref_id=assignee.id)


def add_subjects(
    *, session: Session, principal: Principal, at: datetime, case_id: str, subjects: Sequence[str], reason: str
) -> int:
    """Add records the case concerns (only while it is open or investigating); returns how many were new."""
    case = _case(session, case_id, lock=True)
    rules.check_can_change(case.state, "subject")
    rules.require_reason(reason)
    return _add_subjects(
        session, case=case, principal=principal, at=at, found=_resolve_subjects(session, subjects, strict=True)
    )


def _pending(session: Session, case_id: str) -> int:
    decided = select(DispositionDecision.disposition_id)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Disposition)
            .where(Disposition.case_id == case_id, Disposition.id.not_in(decided))
        )
        or 0
    )


def _approved(session: Session, case_id: str) -> int:
    approved = select(DispositionDecision.disposition_id).where(DispositionDecision.decision == "approved")
    return int(
        session.scalar(
            select(func.count())
            .select_from(Disposition)
            .where(Disposition.case_id == case_id, Disposition.id.in_(approved))
        )
        or 0
    )


def transition(
    *, session: Session, principal: Principal, at: datetime, case_id: str, to_state: str, reason: str
) -> OversightCase:
    """Move the case along open -> investigating -> substantiated | unsubstantiated -> closed (or reopen a finding)."""
    case = _case(session, case_id, lock=True)
    text = rules.require_reason(reason)
    rules.check_transition(case.state, to_state)
    if to_state == "closed":
        rules.check_close(_pending(session, case.id))
    reopened = to_state in rules.ACTIVE and case.state not in rules.ACTIVE
    if reopened:
        rules.check_reopen(pending=_pending(session, case.id), approved=_approved(session, case.id))
    previous = case.state
    if to_state not in rules.ACTIVE:
        _end_access(session, case_id=case.id, at=at)
    elif reopened:  # the investigator reads the case's records again
        for subject in session.scalars(select(CaseSubject).where(CaseSubject.case_id == case.id)):
            _grant(session, case=case, report_id=subject.report_id, subject_id=subject.subject_id, at=at)
    case.state = to_state
    if to_state == "closed":
        case.closed_at = at
    _append(
        session,
        case=case,
        principal=principal,
        at=at,
        kind="transition",
        reason=text,
        from_state=previous,
        to_state=to_state,
    )
    return case


def attach_evidence(
    *, session: Session, principal: Principal, at: datetime, case_id: str, item: EvidenceIn
) -> CaseEvidence:
    """Attach evidence by reference (not on closed cases)."""
    case = _case(session, case_id, lock=True)
    rules.check_can_change(case.state, "evidence")
    return _attach(session, case=case, principal=principal, at=at, item=item)


def correct(
    *, session: Session, principal: Principal, at: datetime, case_id: str, corrects_seq: int, reason: str
) -> None:
    """Record a correction of an earlier history entry (which itself stays as it was)."""
    case = _case(session, case_id, lock=True)
    text = rules.require_reason(reason)
    target = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == corrects_seq))
    if target is None:
        raise InputError("no history entry with this number", where="corrects_seq")
    _append(session, case=case, principal=principal, at=at, kind="correction", reason=text, ref_id=str(corrects_seq))


def propose_disposition(
    *, session: Session, principal: Principal, at: datetime, case_id: str, item: DispositionIn
) -> Disposition:
    """Propose a disposition on a substantiated case; it takes effect once someone else approves it."""
    case = _case(session, case_id, lock=True)
    rules.check_proposal(case.state, item.kind, item.effective_date, beijing_date(case.opened_at))
    _existing_account(session, item.target_user_id, where="target_user_id")
    row = Disposition(
        case_id=case.id,
        kind=item.kind,
        target_user_id=item.target_user_id,
        effective_date=item.effective_date,
        authority=item.authority,
        detail=item.detail,
        reason=item.reason,
        proposed_by=principal.account_id,
    )
    row.proposed_at = at
    session.add(row)
    session.flush()
    _append(
        session,
        case=case,
        principal=principal,
        at=at,
        kind="disposition_proposed",
        reason=item.reason,
        action="create",
        resource_type="disposition",
        ref_id=row.id,
        bound=integrity.proposal_content(row),
    )
    return row


def decide_disposition(
    *,
    session: Session,
    principal: Principal,
    at: datetime,
    case_id: str,
    disposition_id: str,
    decision: str,
    reason: str,
) -> DispositionDecision:
    """Approve or reject a proposed disposition: never by the person who proposed it."""
    case = _case(session, case_id, lock=True)
    text = rules.require_reason(reason)
    proposal = session.get(Disposition, disposition_id)
    if proposal is None or proposal.case_id != case.id:
        raise NotFoundError("disposition not found")
    already = session.scalar(
        select(DispositionDecision.decision).where(DispositionDecision.disposition_id == proposal.id)
    )
    rules.check_not_involved(actor_id=principal.account_id, suspect_id=proposal.target_user_id, what="this disposition")
    rules.check_decision(
        decision=decision,
        proposer_id=proposal.proposed_by,
        decider_id=principal.account_id,
        already=already,
        state=case.state,
    )
    row = DispositionDecision(
        disposition_id=proposal.id, decision=decision, decided_by=principal.account_id, reason=text
    )
    row.decided_at = at
    session.add(row)
    session.flush()
    _append(
        session,
        case=case,
        principal=principal,
        at=at,
        kind=f"disposition_{decision}",
        reason=text,
        resource_type="disposition",
        ref_id=proposal.id,
        bound=integrity.decision_content(
            disposition_id=proposal.id, decision=decision, decided_by=row.decided_by, decided_at=at, reason=text
        ),
    )
    return row


def list_cases(
    *,
    session: Session,
    state: str | None = None,
    assignee_id: str | None = None,
    org_id: str | None = None,
    limit: int = 100,
    hide_suspect: str | None = None,
    within: Select[str] | None = None,
) -> list[CaseOut]:
    """Cases, newest first, optionally by state, assignee and organisation (``hide_suspect``: not about them).

    ``org_id``: cases about that organisation (``jurisdiction.concerning``: its records, its
    suspect or its ``org_id``). ``within``: only cases wholly about these organisations (a
    jurisdiction), before the limit.
    """
    stmt = select(OversightCase).order_by(OversightCase.opened_at.desc(), OversightCase.id).limit(limit)
    if within is not None:
        stmt = stmt.where(jurisdiction.within(within))
    if state is not None:
        stmt = stmt.where(OversightCase.state == state)
    if assignee_id is not None:
        stmt = stmt.where(OversightCase.assignee_id == assignee_id)
    if org_id is not None:
        stmt = stmt.where(jurisdiction.concerning(org_id))
    if hide_suspect is not None:
        stmt = stmt.where(or_(OversightCase.suspect_user_id.is_(None), OversightCase.suspect_user_id != hide_suspect))
    return [CaseOut.model_validate(row) for row in session.scalars(stmt)]


def dispositions(*, session: Session, case_id: str) -> list[DispositionOut]:
    """The case's dispositions with where each stands."""
    rows = session.execute(
        select(Disposition, DispositionDecision)
        .outerjoin(DispositionDecision, DispositionDecision.disposition_id == Disposition.id)
        .where(Disposition.case_id == case_id)
        .order_by(Disposition.proposed_at, Disposition.id)
    ).all()
    out = []
    for proposal, decided in rows:
        out.append(
            DispositionOut(
                id=proposal.id,
                kind=proposal.kind,
                target_user_id=proposal.target_user_id,
                effective_date=proposal.effective_date,
                authority=proposal.authority,
                detail=proposal.detail,
                reason=proposal.reason,
                proposed_by=proposal.proposed_by,
                proposed_at=proposal.proposed_at,
                status="proposed" if decided is None else decided.decision,
                decided_by=None if decided is None else decided.decided_by,
                decided_at=None if decided is None else decided.decided_at,
                decision_reason=None if decided is None else decided.reason,
            )
        )
    return out


def detail(*, session: Session, case_id: str) -> CaseDetail:
    """A case with its subjects, evidence, dispositions and full history."""
    case = _case(session, case_id)
    subjects = session.scalars(
        select(CaseSubject).where(CaseSubject.case_id == case.id).order_by(CaseSubject.added_at, CaseSubject.id)
    )
    items = session.scalars(
        select(CaseEvidence).where(CaseEvidence.case_id == case.id).order_by(CaseEvidence.added_at, CaseEvidence.id)
    )
    history = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    return CaseDetail(
        **CaseOut.model_validate(case).model_dump(),
        subjects=[SubjectOut.model_validate(s) for s in subjects],
        evidence=[EvidenceOut.model_validate(e) for e in items],
        dispositions=dispositions(session=session, case_id=case.id),
        history=[EventOut.model_validate(h) for h in history],
    )


def bundle_event_ids(case: CaseDetail) -> list[str]:
    """The case's own ledger events, then the events its evidence cites (no repeats)."""
    own = [entry.ledger_event_id for entry in case.history]
    cited = [event_id for item in case.evidence for event_id in item.event_ids]
    return list(dict.fromkeys(own + cited))


@dataclass(frozen=True, slots=True)
class CaseBundle:
    """What an exported case bundle holds."""

    case_id: str
    summary: evidence.EvidenceSummary
    history: int
    missing: list[str]


def export_bundle(*, session: Session, settings: Settings, case_id: str, out: Path) -> CaseBundle:
    """An evidence bundle of the case's history and cited events, plus ``case.json`` (the history itself).

    ``piguard audit verify-evidence`` checks the proofs; each history entry's digest is in the
    reason of its ledger event, so the history in ``case.json`` is as tamper-evident as the log.
    """
    case = detail(session=session, case_id=case_id)
    wanted = bundle_event_ids(case)
    summary = evidence.export_evidence(session=session, out=out, settings=settings, event_ids=wanted)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    missing = list(manifest["selection"].get("missing", []))
    (out / CASE_FILE).write_text(case.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return CaseBundle(case_id=case.id, summary=summary, history=len(case.history), missing=missing)


def _recorded_entry(case_id: str, resource_id: str | None, outcome: str, reason: str | None) -> tuple[str, int] | None:
    """(kind, number) of the history entry of this case an event records, or None (another event)."""
    if resource_id != case_id or outcome != "allowed":
        return None
    return integrity.recorded_entry(reason)


def _missing_ids(bundle: Path) -> set[str]:
    """The event ids ``manifest.json`` lists as not in the log when the bundle was made."""
    where = str(bundle / "manifest.json")
    try:
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("missing or not a manifest", where=where) from None
    selection = manifest.get("selection") if isinstance(manifest, dict) else None
    missing = selection.get("missing", []) if isinstance(selection, dict) else []
    if not isinstance(missing, list) or not all(isinstance(item, str) for item in missing):
        raise InputError("selection 'missing' must be a list of event ids", where=where)
    return set(missing)


def verify_history(bundle: Path) -> int:
    """Check ``case.json`` (history, subjects, evidence, dispositions) against the bundle's verified events.

    Run after ``evidence.verify_evidence``; returns the number of entries checked, or raises
    ``TamperError`` naming what does not match (see ``integrity``): an edited entry or row, a gap
    in the numbering, an event of the case with no entry, or a cited event the bundle does not
    account for (removed entries).
    """
    try:
        case = CaseDetail.model_validate_json((bundle / CASE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("missing or not a case history", where=str(bundle / CASE_FILE)) from None
    reasons: dict[str, str] = {}
    recorded: dict[str, tuple[str, int]] = {}
    with (bundle / "entries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            leaf = json.loads(json.loads(line)["leaf"])
            reason = leaf.get("reason") or ""
            reasons[leaf["event_id"]] = reason
            entry = _recorded_entry(case.id, leaf.get("resource_id"), leaf.get("outcome", "allowed"), reason)
            if entry is not None:
                recorded[leaf["event_id"]] = entry
    accounted = set(reasons) | _missing_ids(bundle)
    result = integrity.check_case(case, reasons, recorded=recorded, accounted=accounted)
    if result.problems:
        # Tampering, not bad input: the verified events say otherwise.
        raise TamperError(f"{CASE_FILE}: " + "; ".join(result.problems))
    return result.entries


def check_stored(*, session: Session, case_id: str) -> integrity.CaseCheck:
    """Check a case's rows in the database (history, subjects, evidence, dispositions) against the ledger.

    Besides each entry's digest: the entries are numbered without gaps, and every ledger event
    recorded for the case since it was opened is an entry's (a deleted entry leaves its event).
    """
    case = detail(session=session, case_id=case_id)
    wanted = {entry.ledger_event_id for entry in case.history}
    reasons: dict[str, str] = {}
    recorded: dict[str, tuple[str, int]] = {}
    # The case's first event is at its opening (``opened_at`` is bound by the ``opened`` entry).
    since = min([case.opened_at, *(entry.at for entry in case.history)])
    for event in ledger.iter_events(session=session, time_from=since):
        if event.event_id in wanted:
            reasons[event.event_id] = event.reason or ""
        entry = _recorded_entry(case.id, event.resource_id, event.outcome, event.reason)
        if entry is not None:
            recorded[event.event_id] = entry
    return integrity.check_case(case, reasons, recorded=recorded)
