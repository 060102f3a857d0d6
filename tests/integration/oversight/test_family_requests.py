"""Close relatives' requests through the guarded flows on SQLite and PostgreSQL: who may act, what
the account lists (and what it never shows), finality of the answer, refusals and the evidence."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.localtime import BEIJING
from piguard.oversight.cases import flows as case_flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.oversight.common import local_principal
from piguard.oversight.family import flows, render
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.family.schemas import FamilyRequestIn
from piguard.policy.pdp import default_engine
from piguard.records import flows as record_flows
from piguard.records import service as records
from piguard.records.guard import Guard
from piguard.records.models import DeathReport

PASSWORD = "correct horse battery"
PHONE = "13912345678"


@dataclass
class Family:
    """A privacy office, the certifying physician, a physician elsewhere, and two deceased people."""

    session: Session
    guard: Guard
    people: dict[str, Principal]
    report: str
    subject: str
    other_report: str
    names: dict[str, str]

    def at(self, seconds: float) -> Guard:
        """The guard with its clock moved forward."""
        moment = (self.guard.now or datetime.now(UTC)) + timedelta(seconds=seconds)
        return Guard(engine=self.guard.engine, settings=self.guard.settings, secret=self.guard.secret, now=moment)

    def register(self, who: str = "officer", **overrides: str | None) -> flows.Outcome[object]:
        data = {
            "report_id": self.report,
            "requester_name": "王小明",
            "relationship": "child",
            "proof": "ID card; household register",
        } | overrides
        data = {key: value for key, value in data.items() if value is not None}
        return flows.register(
            session=self.session,
            guard=self.at(60),
            principal=self.people[who],
            data=FamilyRequestIn.model_validate(data),
        )


@pytest.fixture
def family(session: Session, tmp_path: Path) -> Family:
    settings = Settings(data_dir=tmp_path / "data")
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    secret = load_secret(settings)
    now = datetime.now(UTC)
    orgs = {
        key: records.create_organisation(session=session, name=name, org_type=kind, district="310112").id
        for key, name, kind in (
            ("a", "闵行区中心医院", "hospital"),
            ("b", "Riverside Hospital", "hospital"),
            ("hc", "Minhang Health Commission", "health_commission"),
        )
    }
    people: dict[str, Principal] = {}
    names: dict[str, str] = {}
    for who, username, role, org in (
        ("officer", "sun.li", "privacy_officer", "hc"),
        ("second", "zhou.min", "privacy_officer", "hc"),
        ("third", "qian.yu", "privacy_officer", "hc"),
        ("certifier", "wang.fang", "physician", "a"),
        ("broker", "chen.jie", "physician", "b"),
    ):
        made = identity.create_account(
            session=session,
            secret=secret,
            username=username,
            display_name=f"Dr {who}",
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
        people[who] = local_principal(session=session, username=username)
        names[who] = username
    ids = []
    for subject, name in (("subj-f1", "李秀英"), ("subj-f2", "张桂兰")):
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
            relatives=[{"name": "王小明", "relationship": "儿子", "phone": PHONE}],
        )
        records.certify(
            session=session,
            report_id=report.id,
            certifier_id=people["certifier"].account_id,
            at=now - timedelta(days=1),
        )
        ids.append(report.id)
    session.flush()
    guard = Guard(engine=default_engine(), settings=settings, secret=secret, now=now)
    return Family(session, guard, people, ids[0], "subj-f1", ids[1], names)


def _read(family: Family, who: str, report_id: str, seconds: float) -> bool:
    outcome = record_flows.read_report(
        session=family.session,
        guard=family.at(seconds),
        principal=family.people[who],
        report_id=report_id,
        purpose="TREAT",
    )
    return outcome.allowed


def test_the_account_lists_every_access_to_the_deceased_and_nothing_else(family: Family) -> None:
    assert _read(family, "certifier", family.report, 1)
    assert not _read(family, "broker", family.report, 2)  # no task relationship: refused, and recorded
    assert not _read(family, "broker", family.report, 3)
    assert _read(family, "certifier", family.other_report, 4)  # another person's record
    search = record_flows.search_reports(
        session=family.session,
        guard=family.at(5),
        principal=family.people["certifier"],
        q=None,
        district=None,
        purpose="TREAT",
    )
    assert search.allowed and search.event is not None and family.subject in search.event.result_subject_ids
    made = family.register().unwrap()
    account = flows.answer(
        session=family.session, guard=family.at(120), principal=family.people["second"], request_id=made.id
    ).unwrap()

    kinds = [(line.role, line.action, line.record, line.outcome) for line in account.lines]
    assert kinds == [
        ("physician", "read", "death report", "allowed"),
        ("physician", "read", "death report", "denied"),
        ("physician", "read", "death report", "denied"),
        ("physician", "search", "search results", "allowed"),
        ("privacy_officer", "create", "this request", "allowed"),
    ]
    first = account.lines[0]
    assert first.organisation == "闵行区中心医院" and first.purpose == "TREAT"
    assert "relatives' phone (virtual number)" in first.disclosed
    assert "cause and circumstances of death" in first.disclosed
    assert account.lines[1].disclosed == []  # a refused attempt disclosed nothing
    # The same person keeps one label; different people get different ones.
    assert account.lines[0].staff == account.lines[3].staff == "staff 1"
    assert account.lines[1].staff == account.lines[2].staff == "staff 2"
    # The read and the search (its rows carry the virtual numbers too) showed the relatives' phones.
    assert (account.accesses, account.denied, account.contact_disclosures) == (3, 2, 2)
    counts = {o.organisation: (o.allowed, o.denied) for o in account.by_organisation}
    assert counts == {"闵行区中心医院": (2, 0), "Riverside Hospital": (0, 2), "Minhang Health Commission": (1, 0)}
    assert account.ledger.tree_size > max(line.ledger_index for line in account.lines)
    assert account.deceased_name == "李秀英" and account.requester_name == "王小明"


def test_the_account_never_shows_staff_identities_or_the_relatives_number(family: Family) -> None:
    assert _read(family, "certifier", family.report, 1)
    made = family.register().unwrap()
    account = flows.answer(
        session=family.session, guard=family.at(120), principal=family.people["second"], request_id=made.id
    ).unwrap()
    for fmt, lang in (("json", "zh"), ("html", "zh"), ("html", "en")):
        text = render.render(account, fmt, lang).decode("utf-8")
        for who, principal in family.people.items():
            assert principal.account_id not in text, (fmt, who)
            assert family.names[who] not in text and f"Dr {who}" not in text, (fmt, who)
        assert PHONE not in text and "急性心肌梗死" not in text  # no record content, only its kinds
    english = html.unescape(render.html(account, "en").decode("utf-8"))
    assert "<svg" in english and "Article 49" in english and account.ledger.note.splitlines()[0] in english
    assert "staff 1" in english and "relatives' phone (virtual number)" in english
    chinese = render.html(account).decode("utf-8")  # the family's language by default
    assert "个人信息保护法》第四十九条" in chinese and "子女" in chinese and "<svg" in chinese
    assert "工作人员1" in chinese and "医师" in chinese and "家属电话（虚拟号码）" in chinese and "诊疗" in chinese
    assert "staff 1" not in chinese and "physician" not in chinese
    # Beijing time on the family's page; the JSON keeps the times as recorded.
    first = account.lines[0].time
    beijing = first.astimezone(BEIJING).isoformat(timespec="seconds")
    assert beijing.endswith("+08:00") and beijing in chinese and "北京时间" in chinese
    assert render.html(account) == render.html(account)  # same account, same bytes
    with pytest.raises(InputError, match="language"):
        render.html(account, "fr")


def test_a_later_account_shows_earlier_requests_as_a_relatives_request(family: Family) -> None:
    first = family.register().unwrap()
    flows.answer(
        session=family.session, guard=family.at(120), principal=family.people["officer"], request_id=first.id
    ).unwrap()
    second = family.register(requester_name="王小红", relationship="sibling").unwrap()
    account = flows.answer(
        session=family.session, guard=family.at(240), principal=family.people["officer"], request_id=second.id
    ).unwrap()
    assert [(line.action, line.record) for line in account.lines] == [
        ("create", "a relative's request"),
        ("export", "a relative's request"),  # the first answer: the family sees it was given
        ("create", "this request"),
    ]
    # The first answer showed the family the access lines and the deceased's name and time of death.
    assert account.lines[1].disclosed == ["access records", "date and time of death", "identity"]


def test_the_answer_is_kept_as_issued_and_is_final(family: Family) -> None:
    made = family.register().unwrap()
    assert made.state == "received" and made.due_at - made.received_at == timedelta(days=30)
    account = flows.answer(
        session=family.session, guard=family.at(120), principal=family.people["officer"], request_id=made.id
    ).unwrap()
    row = family.session.get(FamilyRequest, made.id)
    assert row is not None and row.state == "answered"
    assert row.answer_sha256 == hashlib.sha256(render.as_json(account)).hexdigest()
    again = flows.issued_account(
        session=family.session, guard=family.at(130), principal=family.people["second"], request_id=made.id
    ).unwrap()
    assert again == account
    second = flows.answer(
        session=family.session, guard=family.at(140), principal=family.people["officer"], request_id=made.id
    )
    assert isinstance(second.error, ConflictError) and "final" in str(second.error)
    # A changed answer is detected, not served.
    row.answer = row.answer.replace("李秀英", "X")  # type: ignore[union-attr]
    family.session.flush()
    changed = flows.issued_account(
        session=family.session, guard=family.at(150), principal=family.people["officer"], request_id=made.id
    )
    assert isinstance(changed.error, ConflictError) and "SHA-256" in str(changed.error)


def test_only_privacy_officers_act_and_refusals_are_recorded_about_the_deceased(family: Family) -> None:
    refused = family.register(who="certifier")
    assert isinstance(refused.error, AccessDenied)
    last = list(ledger.iter_events(session=family.session))[-1]
    assert (last.outcome, last.resource_type, last.subject_id) == ("denied", "family_request", family.subject)
    assert family.session.query(FamilyRequest).count() == 0
    made = family.register().unwrap()
    peek = flows.get_request(
        session=family.session, guard=family.at(70), principal=family.people["broker"], request_id=made.id
    )
    assert isinstance(peek.error, AccessDenied)


def test_refusal_needs_a_ground_and_closes_the_request(family: Family) -> None:
    made = family.register().unwrap()
    short = flows.refuse_request(
        session=family.session, guard=family.at(90), principal=family.people["officer"], request_id=made.id, reason="no"
    )
    assert isinstance(short.error, InputError) and short.error.where == "reason"
    ground = "the deceased's written instruction of 2019 forbids disclosure to relatives"
    done = flows.refuse_request(
        session=family.session,
        guard=family.at(95),
        principal=family.people["officer"],
        request_id=made.id,
        reason=ground,
    ).unwrap()
    assert done.state == "refused" and done.refusal_reason == ground
    late = flows.answer(
        session=family.session, guard=family.at(99), principal=family.people["second"], request_id=made.id
    )
    assert isinstance(late.error, ConflictError)
    # The ledger keeps no free text: the ground stays in the request row.
    assert all(ground not in json.dumps(e.model_dump(mode="json")) for e in ledger.iter_events(session=family.session))


def test_an_officer_who_read_the_record_does_not_answer_for_it(family: Family) -> None:
    case = case_flows.open_case(
        session=family.session,
        guard=family.at(10),
        principal=family.people["second"],
        data=CaseOpen(
            title="Family reports calls from a funeral parlour",
            source="complaint",
            source_ref="cmp-2026-007",
            assignee_id=family.people["officer"].account_id,
            subjects=[family.report],
            reason="the family named the day the calls began",
        ),
    ).unwrap()
    assert case.state == "open"
    investigated = record_flows.read_report(
        session=family.session,
        guard=family.at(20),
        principal=family.people["officer"],
        report_id=family.report,
        purpose="LEGAL",
        context="privacy_review",
    )
    assert investigated.allowed
    made = family.register().unwrap()  # registering touches the request, not the record
    conflicted = flows.answer(
        session=family.session, guard=family.at(100), principal=family.people["officer"], request_id=made.id
    )
    assert isinstance(conflicted.error, ConflictError) and "another privacy officer" in str(conflicted.error)
    account = flows.answer(
        session=family.session, guard=family.at(110), principal=family.people["second"], request_id=made.id
    ).unwrap()
    assert [(line.role, line.purpose) for line in account.lines if line.record == "death report"] == [
        ("privacy_officer", "LEGAL")
    ]
    assert [note.state for note in account.investigations] == ["open"]


def test_overdue_requests_are_listed(family: Family) -> None:
    made = family.register().unwrap()
    listed = flows.list_requests(
        session=family.session, guard=family.at(31 * 86400), principal=family.people["officer"], overdue=True
    ).unwrap()
    assert [item.id for item in listed] == [made.id] and listed[0].overdue
    fresh = flows.list_requests(
        session=family.session, guard=family.at(86400), principal=family.people["officer"], overdue=True
    ).unwrap()
    assert fresh == []


def test_the_answers_lines_export_as_a_verifiable_evidence_bundle(family: Family, tmp_path: Path) -> None:
    assert _read(family, "certifier", family.report, 1)
    made = family.register().unwrap()
    account = flows.answer(
        session=family.session, guard=family.at(120), principal=family.people["officer"], request_id=made.id
    ).unwrap()
    out = tmp_path / "bundle"
    summary = flows.export_evidence(
        session=family.session, guard=family.at(130), principal=family.people["officer"], request_id=made.id, out=out
    ).unwrap()
    assert summary.entries == len(account.lines)
    assert evidence.verify_evidence(out).entries == len(account.lines)


def test_the_family_names_the_record_by_its_certificate_number(family: Family) -> None:
    report = family.session.get(DeathReport, family.report)
    assert report is not None and report.certificate_no
    made = family.register(report_id=None, certificate_no=report.certificate_no).unwrap()
    assert made.report_id == family.report
    unknown = family.register(report_id=None, certificate_no="DC000000000000")
    assert unknown.error is not None and "not found" in str(unknown.error)
    with pytest.raises(ValueError, match="exactly one"):
        FamilyRequestIn.model_validate({"requester_name": "x", "relationship": "child", "proof": "ID card"})


def test_unknown_report_and_relationship_are_named(family: Family) -> None:
    missing = family.register(report_id="01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert missing.error is not None and "not found" in str(missing.error)
    with pytest.raises(ValueError, match="relationship"):
        FamilyRequestIn.model_validate(
            {"report_id": family.report, "requester_name": "x", "relationship": "neighbour", "proof": "ID card"}
        )
