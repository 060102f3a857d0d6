"""Investigations through the guarded flows on SQLite and PostgreSQL: policy, state machine,
the investigator's scoped read through the real record path, four-eyes, ledger and evidence bundle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccessDenied, ConflictError, InputError, LedgerError, TamperError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.interchange.events import AccessEvent
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.localtime import beijing_date
from piguard.oversight.cases import flows, service
from piguard.oversight.cases.models import CaseEvent
from piguard.oversight.cases.schemas import AlertIn, CaseOpen, DispositionIn, EvidenceIn
from piguard.oversight.common import local_principal
from piguard.policy.pdp import default_engine
from piguard.records import flows as record_flows
from piguard.records import service as records
from piguard.records.guard import Guard

PASSWORD = "correct horse battery"


@dataclass
class Office:
    """Privacy officers, an administrator, a physician under suspicion, and two death reports."""

    session: Session
    guard: Guard
    people: dict[str, Principal]
    report_a: str
    report_b: str
    subject_b: str

    def later(self, seconds: float) -> Guard:
        """The guard with a clock moved forward (each step of a case happens after the last)."""
        moment = (self.guard.now or datetime.now(UTC)) + timedelta(seconds=seconds)
        return Guard(engine=self.guard.engine, settings=self.guard.settings, secret=self.guard.secret, now=moment)


@pytest.fixture
def office(session: Session, tmp_path: Path) -> Office:
    settings = Settings(data_dir=tmp_path / "data")
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    secret = load_secret(settings)
    now = datetime.now(UTC)
    orgs = {
        key: records.create_organisation(session=session, name=key, org_type=kind, district="310112").id
        for key, kind in (("a", "hospital"), ("b", "hospital"), ("hc", "health_commission"))
    }
    people: dict[str, Principal] = {}
    for who, username, role, org in (
        ("officer", "sun.li", "privacy_officer", "hc"),
        ("second", "zhou.min", "privacy_officer", "hc"),
        ("admin", "qian.hao", "admin", "hc"),
        ("broker", "chen.jie", "physician", "b"),
        ("certifier", "wang.fang", "physician", "a"),
    ):
        made = identity.create_account(
            session=session,
            secret=secret,
            username=username,
            display_name=who,
            role=role,
            org_id=orgs[org],
            password=PASSWORD,
            demo=True,
        )
        identity.record_training(
            session=session,
            account_id=made.account.id,
            course_code="privacy-basics",
            score=95,
            completed_at=now - timedelta(days=3),
        )
        session.flush()
        people[who] = local_principal(session=session, username=made.account.username)
    reports = []
    for subject, name in (("subj-a", "李秀英"), ("subj-b", "张桂兰")):
        report = records.create_report(
            session=session,
            hospital_org_id=orgs["a"],
            subject_id=subject,
            name=name,
            sex="female",
            death_time=now - timedelta(days=2),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            relatives=[{"name": "王小明", "relationship": "儿子", "phone": "13912345678"}],
        )
        records.certify(
            session=session,
            report_id=report.id,
            certifier_id=people["certifier"].account_id,
            at=now - timedelta(days=1),
        )
        reports.append(report.id)
    session.flush()
    guard = Guard(engine=default_engine(), settings=settings, secret=secret, now=now)
    return Office(session, guard, people, reports[0], reports[1], "subj-b")


def _open(office: Office, **overrides: object) -> str:
    data = {
        "title": "Broker looked up deaths at another hospital",
        "source": "alert",
        "assignee_id": office.people["officer"].account_id,
        "subjects": [office.report_a],
        "reason": "high-severity alert from the nightly detection run",
        "alert": AlertIn(
            alert_id="al-1",
            user_id=office.people["broker"].account_id,
            severity="high",
            subject_ids=["subj-a"],
            reasons=[],
        ),
    }
    data.update(overrides)
    outcome = flows.open_case(
        session=office.session, guard=office.guard, principal=office.people["officer"], data=CaseOpen(**data)
    )
    return outcome.unwrap().id


def _read(office: Office, who: str, report_id: str, guard: Guard) -> bool:
    outcome = record_flows.read_report(
        session=office.session,
        guard=guard,
        principal=office.people[who],
        report_id=report_id,
        purpose="LEGAL",
        context="privacy_review",
    )
    return outcome.allowed


def _step(office: Office, case_id: str, to_state: str, seconds: float, who: str = "officer") -> object:
    return flows.transition(
        session=office.session,
        guard=office.later(seconds),
        principal=office.people[who],
        case_id=case_id,
        to_state=to_state,
        reason=f"moving the case to {to_state} after review",
    )


def test_lifecycle_scoped_read_four_eyes_and_ledger(office: Office) -> None:
    before = ledger.count(session=office.session)
    case_id = _open(office)
    case = flows.get_case(session=office.session, guard=office.guard, principal=office.people["admin"], case_id=case_id)
    detail = case.unwrap()
    assert detail.state == "open" and detail.source_ref == "al-1"
    assert detail.suspect_user_id == office.people["broker"].account_id and detail.org_id is not None
    assert [s.report_id for s in detail.subjects] == [office.report_a]
    assert [h.kind for h in detail.history] == ["opened", "assigned", "subject_added", "evidence_added"]
    assert detail.evidence[0].kind == "alert"

    # The assigned investigator reads the case's record in privacy_review, and only that one.
    assert _read(office, "officer", office.report_a, office.later(1))
    assert not _read(office, "officer", office.report_b, office.later(1))
    assert not _read(office, "second", office.report_a, office.later(1))  # not the investigator
    _step(office, case_id, "investigating", 2).unwrap()  # type: ignore[attr-defined]
    assert _read(office, "officer", office.report_a, office.later(3))
    _step(office, case_id, "substantiated", 4).unwrap()  # type: ignore[attr-defined]
    assert not _read(office, "officer", office.report_a, office.later(5))  # access ended with the investigation

    proposal = flows.propose_disposition(
        session=office.session,
        guard=office.later(6),
        principal=office.people["officer"],
        case_id=case_id,
        item=DispositionIn(
            kind="suspension_of_practice",
            target_user_id=office.people["broker"].account_id,
            effective_date=beijing_date(datetime.now(UTC)),
            authority="Minhang District Health Commission",
            detail="six months",
            reason="looked up 14 deaths at another hospital without a care relationship",
        ),
    ).unwrap()
    own = flows.decide_disposition(
        session=office.session,
        guard=office.later(7),
        principal=office.people["officer"],
        case_id=case_id,
        disposition_id=proposal.id,
        decision="approved",
        reason="approving my own proposal",
    )
    assert isinstance(own.error, AccessDenied) and "four-eyes" in own.error.reason
    early_close = _step(office, case_id, "closed", 8)
    assert isinstance(early_close.error, ConflictError) and "await approval" in str(early_close.error)  # type: ignore[attr-defined]
    flows.decide_disposition(
        session=office.session,
        guard=office.later(9),
        principal=office.people["second"],
        case_id=case_id,
        disposition_id=proposal.id,
        decision="approved",
        reason="the evidence supports a suspension",
    ).unwrap()
    _step(office, case_id, "closed", 10, who="second").unwrap()  # type: ignore[attr-defined]

    final = service.detail(session=office.session, case_id=case_id)
    assert final.state == "closed" and final.closed_at is not None
    assert final.dispositions[0].status == "approved"
    assert final.dispositions[0].decided_by == office.people["second"].account_id
    assert [h.seq for h in final.history] == list(range(1, len(final.history) + 1))
    assert [h.to_state for h in final.history if h.kind == "transition"] == [
        "investigating",
        "substantiated",
        "closed",
    ]
    # Every change is a ledger event with the entry's digest; refusals are denied events.
    events = {e.event_id: e for e in ledger.iter_events(session=office.session)}
    for entry in final.history:
        event = events[entry.ledger_event_id]
        assert event.resource_id == case_id and f"sha256={entry.digest}" in (event.reason or "")
        assert event.time == entry.at and event.outcome == "allowed"
    kinds = {(e.resource_type, e.action) for e in events.values() if e.resource_id == case_id}
    assert {("case", "create"), ("case", "update"), ("case_evidence", "create"), ("disposition", "create")} <= kinds
    denied = [e for e in events.values() if e.resource_id == case_id and e.outcome == "denied"]
    assert len(denied) == 2 and any("four-eyes" in (e.reason or "") for e in denied)
    assert ledger.count(session=office.session) > before
    # Closed is final.
    reopened = _step(office, case_id, "open", 11)
    assert isinstance(reopened.error, ConflictError)  # type: ignore[attr-defined]
    assert not _read(office, "officer", office.report_a, office.later(12))


def test_invalid_transitions_are_refused_with_reason_and_recorded(office: Office) -> None:
    case_id = _open(office, source="manual", alert=None)
    refused = _step(office, case_id, "closed", 1)
    assert isinstance(refused.error, ConflictError)  # type: ignore[attr-defined]
    assert "must first be investigated" in str(refused.error)  # type: ignore[attr-defined]
    last = list(ledger.iter_events(session=office.session))[-1]
    assert last.outcome == "denied" and "must first be investigated" in (last.reason or "")
    assert service.detail(session=office.session, case_id=case_id).state == "open"
    short = flows.transition(
        session=office.session,
        guard=office.later(2),
        principal=office.people["officer"],
        case_id=case_id,
        to_state="investigating",
        reason="ok",
    )
    assert isinstance(short.error, InputError) and short.error.where == "reason"
    # A clock earlier than the case's last entry would backdate history: refused.
    past = Guard(
        engine=office.guard.engine,
        settings=office.guard.settings,
        secret=office.guard.secret,
        now=office.guard.now - timedelta(hours=1),  # type: ignore[operator]
    )
    backdated = flows.transition(
        session=office.session,
        guard=past,
        principal=office.people["officer"],
        case_id=case_id,
        to_state="investigating",
        reason="trying to enter this an hour ago",
    )
    assert isinstance(backdated.error, ConflictError) and "backdated" in str(backdated.error)
    assert len(service.detail(session=office.session, case_id=case_id).history) == 3


def test_only_privacy_officers_and_admins_manage_cases(office: Office) -> None:
    outcome = flows.open_case(
        session=office.session,
        guard=office.guard,
        principal=office.people["broker"],
        data=CaseOpen(
            title="anything",
            source="manual",
            assignee_id=office.people["broker"].account_id,
            reason="trying to open a case on myself",
        ),
    )
    assert isinstance(outcome.error, AccessDenied) and "no policy permits role 'physician'" in outcome.error.reason
    listed = flows.list_cases(session=office.session, guard=office.guard, principal=office.people["broker"])
    assert isinstance(listed.error, AccessDenied)
    last = list(ledger.iter_events(session=office.session))[-1]
    assert last.outcome == "denied" and last.resource_type == "case" and last.action == "search"
    to_physician = flows.open_case(
        session=office.session,
        guard=office.guard,
        principal=office.people["admin"],
        data=CaseOpen(
            title="Complaint from a family",
            source="complaint",
            source_ref="cmp-7",
            assignee_id=office.people["broker"].account_id,
            reason="the family was cold-called by a funeral parlour",
        ),
    )
    assert isinstance(to_physician.error, InputError) and to_physician.error.where == "assignee_id"


def test_reassignment_moves_the_investigator_access(office: Office) -> None:
    case_id = _open(office, source="canary", source_ref=office.report_a, alert=None)
    assert _read(office, "officer", office.report_a, office.later(1))
    flows.assign(
        session=office.session,
        guard=office.later(2),
        principal=office.people["admin"],
        case_id=case_id,
        assignee_id=office.people["second"].account_id,
        reason="the first officer works with the suspect",
    ).unwrap()
    assert not _read(office, "officer", office.report_a, office.later(3))
    assert _read(office, "second", office.report_a, office.later(3))
    flows.add_subjects(
        session=office.session,
        guard=office.later(4),
        principal=office.people["second"],
        case_id=case_id,
        subjects=[office.subject_b],
        reason="the same user also read this death",
    ).unwrap()
    assert _read(office, "second", office.report_b, office.later(5))
    unknown = flows.add_subjects(
        session=office.session,
        guard=office.later(6),
        principal=office.people["second"],
        case_id=case_id,
        subjects=["no-such-record"],
        reason="a record that does not exist",
    )
    assert isinstance(unknown.error, InputError) and unknown.error.where == "subjects[0]"


def test_history_is_append_only(office: Office) -> None:
    case_id = _open(office, source="manual", alert=None)
    entry = office.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).first()
    assert entry is not None
    entry.reason = "rewritten after the fact"
    with pytest.raises(ConflictError, match="append-only"):
        office.session.flush()
    office.session.rollback()


def test_case_bundle_holds_its_events_and_cited_ones_and_verifies(office: Office, tmp_path: Path) -> None:
    # The suspect's own read, which the alert cites.
    peek = record_flows.read_report(
        session=office.session,
        guard=office.guard,
        principal=office.people["broker"],
        report_id=office.report_b,
        purpose="TREAT",
    )
    cited = peek.event.event_id
    case_id = _open(office, subjects=[])
    flows.attach_evidence(
        session=office.session,
        guard=office.later(1),
        principal=office.people["officer"],
        case_id=case_id,
        item=EvidenceIn(
            kind="document",
            reference="interview-notes.pdf",
            sha256="a" * 64,
            event_ids=[cited],
            reason="notes of the interview with the suspect",
        ),
    ).unwrap()
    out = tmp_path / "bundle"
    bundle = flows.export_case(
        session=office.session, guard=office.later(2), principal=office.people["admin"], case_id=case_id, out=out
    ).unwrap()
    history = service.detail(session=office.session, case_id=case_id).history
    assert bundle.summary.entries == len(history) + 1 and bundle.missing == []
    summary = evidence.verify_evidence(out)
    assert summary.entries == bundle.summary.entries
    assert service.verify_history(out) == len(history)
    leaves = [
        AccessEvent.model_validate_json(json.loads(line)["leaf"])
        for line in (out / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert {e.event_id for e in leaves} == {h.ledger_event_id for h in history} | {cited}
    # A history rewritten after export no longer matches the signed log.
    case_file = out / service.CASE_FILE
    case_file.write_text(case_file.read_text(encoding="utf-8").replace("notes of the interview", "notes, edited"))
    with pytest.raises(TamperError, match="does not match its ledger event"):
        service.verify_history(out)
    # A tampered leaf fails the ledger's own verification.
    entries = out / "entries.jsonl"
    entries.write_text(entries.read_text(encoding="utf-8").replace("case opened", "case 0pened", 1))
    with pytest.raises((LedgerError, InputError)):
        evidence.verify_evidence(out)


def test_corrections_are_new_entries_and_unknown_cited_events_are_listed(office: Office, tmp_path: Path) -> None:
    case_id = _open(office, source="manual", alert=None)
    first = service.detail(session=office.session, case_id=case_id).history[0]
    flows.correct(
        session=office.session,
        guard=office.later(1),
        principal=office.people["officer"],
        case_id=case_id,
        corrects_seq=1,
        reason="the complaint arrived by letter, not by phone",
    ).unwrap()
    history = service.detail(session=office.session, case_id=case_id).history
    assert history[0] == first  # the corrected entry is unchanged
    assert history[-1].kind == "correction" and history[-1].ref_id == "1"
    missing = flows.correct(
        session=office.session,
        guard=office.later(2),
        principal=office.people["officer"],
        case_id=case_id,
        corrects_seq=99,
        reason="there is no such entry",
    )
    assert isinstance(missing.error, InputError) and missing.error.where == "corrects_seq"
    flows.attach_evidence(
        session=office.session,
        guard=office.later(3),
        principal=office.people["officer"],
        case_id=case_id,
        item=EvidenceIn(
            kind="ledger_event", reference="ev-from-the-his-log", reason="an access in the hospital system's own log"
        ),
    ).unwrap()
    bundle = flows.export_case(
        session=office.session,
        guard=office.later(4),
        principal=office.people["officer"],
        case_id=case_id,
        out=tmp_path / "b",
    ).unwrap()
    assert bundle.missing == ["ev-from-the-his-log"]
    assert evidence.verify_evidence(tmp_path / "b").entries == bundle.history


def test_nobody_acts_on_a_case_about_themselves(office: Office) -> None:
    suspect = office.people["second"]  # a privacy officer under investigation
    case_id = _open(office, source="manual", alert=None, suspect_user_id=suspect.account_id)
    read = flows.get_case(session=office.session, guard=office.guard, principal=suspect, case_id=case_id)
    assert isinstance(read.error, AccessDenied) and read.error.policy_ids == ("conflict-of-interest",)
    moved = flows.transition(
        session=office.session,
        guard=office.later(1),
        principal=suspect,
        case_id=case_id,
        to_state="investigating",
        reason="closing the case about me",
    )
    assert isinstance(moved.error, AccessDenied)
    listed = flows.list_cases(session=office.session, guard=office.guard, principal=suspect).unwrap()
    assert case_id not in {c.id for c in listed}
    assert case_id in {
        c.id
        for c in flows.list_cases(session=office.session, guard=office.guard, principal=office.people["admin"]).unwrap()
    }
    handed = flows.assign(
        session=office.session,
        guard=office.later(2),
        principal=office.people["admin"],
        case_id=case_id,
        assignee_id=suspect.account_id,
        reason="handing it to the suspect",
    )
    # A conflict of interest like the others: 403, recorded as denied.
    assert isinstance(handed.error, AccessDenied) and handed.error.policy_ids == ("conflict-of-interest",)
    last = list(ledger.iter_events(session=office.session))[-1]
    assert last.outcome == "denied" and last.user_id == office.people["admin"].account_id
    assert service.detail(session=office.session, case_id=case_id).state == "open"
