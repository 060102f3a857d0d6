"""A close relative's copy of the deceased's data (PIPL Art. 49) through the guarded flows on SQLite and
PostgreSQL: exactly the allowed fields, one recorded disclosure, kept as issued, and the same rules as the
account (refusal, conflict of interest, who may act)."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, ConflictError
from piguard.interchange.events import AccessEvent
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.oversight.cases import flows as case_flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.oversight.family import copies, flows, render
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.family.schemas import DisclosureAccount, FamilyCopy
from piguard.records import flows as record_flows
from piguard.records import service as records
from piguard.records.models import DeathReport
from tests.integration.oversight.test_family_requests import PHONE, Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture

ID_NUMBER = "11010519491231002X"
SISTER_PHONE = "13800138000"
SISTER = "王小红"
SISTER_ADDRESS = "上海市闵行区莘庄镇七莘路99号"
NOTES = "据邻居陈述，死者夜间曾呼救"
TOP = {"format", "request_id", "requester_name", "relationship", "issued_at", "record"}
RECORD = {"context", "report_id", "deceased", "death", "certificate"}
DECEASED = {
    "name", "sex", "id_number", "birth_date", "ethnicity", "marital_status", "occupation",
    "household_address", "usual_address",
}  # fmt: skip
DEATH = {"time", "place", "place_detail", "cause_part1", "cause_part2", "manner", "underlying_icd10"}
CAUSE = {"line", "text", "icd10", "interval"}
CERTIFICATE = {"number", "status", "institution"}
LEFT_OUT = {
    "relatives", "phone", "phone_handle", "phone_masked", "certifier_id", "institution_id", "investigation_record",
    "subject_id", "hospital_org_id", "dispatch_id", "district", "compound",
}  # fmt: skip


@dataclass
class Copying:
    """The ``family`` site plus a full report: identity, two causes, two relatives, investigation notes."""

    family: Family
    report: str
    subject: str

    def request(self, who: str = "officer", kind: str = "copy") -> str:
        """Register a request about the full report; its id."""
        made = self.family.register(who=who, report_id=self.report, kind=kind)
        value = made.unwrap()
        return str(value.id)  # type: ignore[attr-defined]

    def answer(self, request_id: str, who: str = "second", seconds: float = 120) -> flows.Outcome[object]:
        return flows.answer(  # type: ignore[return-value]
            session=self.family.session,
            guard=self.family.at(seconds),
            principal=self.family.people[who],
            request_id=request_id,
        )


@pytest.fixture
def copying(family: Family) -> Copying:
    session = family.session
    first = session.get(DeathReport, family.report)
    assert first is not None
    report = records.create_report(
        session=session,
        hospital_org_id=first.hospital_org_id,
        subject_id="subj-f3",
        name="李秀英",
        sex="female",
        death_time=first.death_time,
        place_of_death="home",
        place_detail="卧室",
        district="310112",
        part1=[
            {"line": "a", "text": "急性心肌梗死", "icd10": "I21.9", "interval": "2小时"},
            {"line": "b", "text": "冠状动脉粥样硬化性心脏病", "icd10": "I25.1", "interval": "10年"},
        ],
        part2="2型糖尿病",
        id_number=ID_NUMBER,
        birth_date=date(1949, 12, 31),
        ethnicity="汉族",
        marital_status="丧偶",
        occupation="离退休人员",
        household_address="上海市闵行区江川路1号",
        usual_address="上海市闵行区都市路2号",
        investigation_record=NOTES,
        underlying_icd10="I25.1",
        relatives=[
            {"name": "王小明", "relationship": "儿子", "phone": PHONE},
            {"name": SISTER, "relationship": "女儿", "phone": SISTER_PHONE, "address": SISTER_ADDRESS},
        ],
    )
    records.certify(
        session=session,
        report_id=report.id,
        certifier_id=family.people["certifier"].account_id,
        at=first.death_time + timedelta(hours=1),
    )
    session.flush()
    return Copying(family, report.id, "subj-f3")


def _events_of(session: Session, request_id: str) -> list[AccessEvent]:
    return [e for e in ledger.iter_events(session=session) if e.resource_id == request_id]


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def test_the_copy_holds_exactly_the_allowed_fields(copying: Copying) -> None:
    request_id = copying.request()
    copy = copying.answer(request_id).unwrap()
    assert isinstance(copy, FamilyCopy)
    data = json.loads(render.as_json(copy))
    assert set(data) == TOP and set(data["record"]) == RECORD
    record = data["record"]
    assert set(record["deceased"]) == DECEASED and set(record["death"]) == DEATH
    assert set(record["certificate"]) == CERTIFICATE
    assert [set(line) for line in record["death"]["cause_part1"]] == [CAUSE, CAUSE]
    assert not LEFT_OUT & _keys(data)
    assert record["context"] == "family_copy" and record["report_id"] == copying.report
    assert record["deceased"]["id_number"] == ID_NUMBER  # in full: it is the family's own certificate's
    assert record["deceased"]["household_address"] == "上海市闵行区江川路1号"
    assert [(c["line"], c["icd10"], c["interval"]) for c in record["death"]["cause_part1"]] == [
        ("a", "I21.9", "2小时"),
        ("b", "I25.1", "10年"),
    ]
    assert (record["death"]["cause_part2"], record["death"]["manner"], record["death"]["underlying_icd10"]) == (
        "2型糖尿病",
        "natural",
        "I25.1",
    )
    report = copying.family.session.get(DeathReport, copying.report)
    assert report is not None
    assert record["certificate"] == {
        "number": report.certificate_no,
        "status": "certified",
        "institution": "闵行区中心医院",
    }
    certifier = copying.family.people["certifier"]
    pages = {
        "json": render.render(copy, "json").decode("utf-8"),
        "zh": render.render(copy, "html", "zh").decode("utf-8"),
        "en": html.unescape(render.render(copy, "html", "en").decode("utf-8")),
    }
    for name, text in pages.items():
        assert ID_NUMBER in text and "急性心肌梗死" in text and "李秀英" in text, name
        for absent in (PHONE, SISTER_PHONE, SISTER, SISTER_ADDRESS, NOTES, certifier.account_id, certifier.username):
            assert absent not in text, (name, absent)
    kept = hashlib.sha256(render.as_json(copy)).hexdigest()
    assert kept in pages["zh"] and kept in pages["en"]
    assert (
        "第四十九条" in pages["zh"] and "公民身份号码" in pages["zh"] and "女" in pages["zh"] and "家中" in pages["zh"]
    )
    assert "Article 49" in pages["en"] and "ID number" in pages["en"]
    assert render.render(copy, "html") == render.render(copy, "html")  # same copy, same bytes


def test_the_copy_is_one_recorded_disclosure_that_a_later_account_shows(copying: Copying) -> None:
    session = copying.family.session
    request_id = copying.request()
    copy = copying.answer(request_id).unwrap()
    assert isinstance(copy, FamilyCopy)
    row = session.get(FamilyRequest, request_id)
    assert row is not None and row.state == "answered" and row.kind == "copy"
    exports = [e for e in _events_of(session, request_id) if e.action == "export"]
    assert len(exports) == 1
    issued = exports[0]
    assert (issued.outcome, issued.subject_id, issued.purpose, issued.resource_type) == (
        "allowed",
        copying.subject,
        "FAMRQT",
        "family_request",
    )
    assert list(issued.fields) == copies.fields_of(copy)
    assert {"deceased.id_number", "deceased.name", "death.cause_part1.text", "certificate.institution"} <= set(
        issued.fields
    )
    assert not [f for f in issued.fields if f.startswith("relative")]
    assert issued.reason is not None and f"sha256={row.answer_sha256}" in issued.reason
    # The family asks later who saw the record: the copy's issue is a line of the account.
    later = copying.request(kind="disclosures")
    account = copying.answer(later, who="third", seconds=240).unwrap()  # the copy's issuer is conflicted
    assert isinstance(account, DisclosureAccount)
    lines = [line for line in account.lines if line.record == "a copy of the record for a relative"]
    assert [(line.action, line.purpose, line.outcome) for line in lines] == [("export", "FAMRQT", "allowed")]
    assert {"identity", "identity number", "addresses", "cause and circumstances of death"} <= set(lines[0].disclosed)
    assert "向家属提供的个人信息副本" in render.html(account).decode("utf-8")


def test_the_kept_copy_is_served_again_identically_and_a_changed_one_is_refused(copying: Copying) -> None:
    session, people = copying.family.session, copying.family.people
    request_id = copying.request()
    copy = copying.answer(request_id).unwrap()
    assert isinstance(copy, FamilyCopy)
    row = session.get(FamilyRequest, request_id)
    assert row is not None and row.answer is not None
    again = flows.issued_copy(
        session=session, guard=copying.family.at(130), principal=people["officer"], request_id=request_id
    ).unwrap()
    assert again == copy and render.as_json(again) == row.answer.encode("utf-8")
    reprint = _events_of(session, request_id)[-1]
    assert (reprint.action, reprint.outcome, list(reprint.fields)) == ("read", "allowed", copies.fields_of(copy))
    # A copy request has no account, and the answer is final.
    wrong = flows.issued_account(
        session=session, guard=copying.family.at(135), principal=people["officer"], request_id=request_id
    )
    assert isinstance(wrong.error, ConflictError) and "copy" in str(wrong.error)
    twice = copying.answer(request_id, who="officer", seconds=140)
    assert isinstance(twice.error, ConflictError) and "final" in str(twice.error)
    row.answer = row.answer.replace(ID_NUMBER, "110105194912310000")
    session.flush()
    changed = flows.issued_copy(
        session=session, guard=copying.family.at(150), principal=people["officer"], request_id=request_id
    )
    assert isinstance(changed.error, ConflictError) and "SHA-256" in str(changed.error)
    refused = _events_of(session, request_id)[-1]
    assert (refused.action, refused.outcome, refused.fields) == ("read", "denied", ())
    # ... and an account request has no copy.
    account_request = copying.request(kind="disclosures")
    copying.answer(account_request, who="third", seconds=160).unwrap()
    no_copy = flows.issued_copy(
        session=session, guard=copying.family.at(170), principal=people["officer"], request_id=account_request
    )
    assert isinstance(no_copy.error, ConflictError) and "account of accesses" in str(no_copy.error)


def test_a_copy_request_is_refused_with_its_ground(copying: Copying) -> None:
    session, people = copying.family.session, copying.family.people
    request_id = copying.request()
    made = session.get(FamilyRequest, request_id)
    assert made is not None and made.due_at - made.received_at == timedelta(days=30)
    ground = "the deceased's written instruction of 2019 forbids any copy to relatives"
    done = flows.refuse_request(
        session=session, guard=copying.family.at(90), principal=people["officer"], request_id=request_id, reason=ground
    ).unwrap()
    assert (done.state, done.kind, done.refusal_reason) == ("refused", "copy", ground)
    late = copying.answer(request_id, seconds=100)
    assert isinstance(late.error, ConflictError)
    none = flows.issued_copy(
        session=session, guard=copying.family.at(110), principal=people["officer"], request_id=request_id
    )
    assert isinstance(none.error, ConflictError) and "no answer" in str(none.error)
    assert not [e for e in _events_of(session, request_id) if e.action == "export" and e.outcome == "allowed"]


def test_other_roles_and_lapsed_training_are_refused_and_recorded(copying: Copying) -> None:
    session, people = copying.family.session, copying.family.people
    request_id = copying.request()
    physician = copying.answer(request_id, who="broker")
    assert isinstance(physician.error, AccessDenied)
    last = list(ledger.iter_events(session=session))[-1]
    assert (last.outcome, last.action, last.resource_id, last.subject_id) == (
        "denied",
        "export",
        request_id,
        copying.subject,
    )
    now = copying.family.guard.now
    assert now is not None
    lapsed_officer = people["second"].model_copy(update={"training_valid_until": now - timedelta(days=1)})
    lapsed = flows.answer(
        session=session, guard=copying.family.at(150), principal=lapsed_officer, request_id=request_id
    )
    assert isinstance(lapsed.error, AccessDenied) and "training-gate" in lapsed.error.policy_ids
    last = list(ledger.iter_events(session=session))[-1]
    assert (last.outcome, last.resource_id, last.user_id) == ("denied", request_id, lapsed_officer.account_id)
    row = session.get(FamilyRequest, request_id)
    assert row is not None and row.state == "received" and row.answer is None
    copy = copying.answer(request_id, seconds=160).unwrap()
    assert isinstance(copy, FamilyCopy)
    peek = flows.issued_copy(
        session=session, guard=copying.family.at(170), principal=people["certifier"], request_id=request_id
    )
    assert isinstance(peek.error, AccessDenied)
    assert list(ledger.iter_events(session=session))[-1].outcome == "denied"


def test_an_officer_who_read_the_record_does_not_issue_its_copy(copying: Copying) -> None:
    session, people = copying.family.session, copying.family.people
    case_flows.open_case(
        session=session,
        guard=copying.family.at(10),
        principal=people["second"],
        data=CaseOpen(
            title="Family reports calls from a funeral parlour",
            source="complaint",
            source_ref="cmp-2026-008",
            assignee_id=people["officer"].account_id,
            subjects=[copying.report],
            reason="the family named the day the calls began",
        ),
    ).unwrap()
    assert record_flows.read_report(
        session=session,
        guard=copying.family.at(20),
        principal=people["officer"],
        report_id=copying.report,
        purpose="LEGAL",
        context="privacy_review",
    ).allowed
    request_id = copying.request(who="second")
    conflicted = copying.answer(request_id, who="officer", seconds=100)
    assert isinstance(conflicted.error, ConflictError) and "you accessed this record" in str(conflicted.error)
    assert isinstance(copying.answer(request_id, who="third", seconds=110).unwrap(), FamilyCopy)


def test_the_officer_who_registered_a_copy_request_does_not_issue_the_copy(copying: Copying) -> None:
    request_id = copying.request(who="officer")
    same = copying.answer(request_id, who="officer", seconds=100)
    assert isinstance(same.error, ConflictError) and "four eyes" in str(same.error)
    row = copying.family.session.get(FamilyRequest, request_id)
    assert row is not None and row.state == "received" and row.answer is None
    assert isinstance(copying.answer(request_id, who="second", seconds=110).unwrap(), FamilyCopy)


def test_the_copy_requests_own_events_export_as_evidence(copying: Copying, tmp_path: Path) -> None:
    session, people = copying.family.session, copying.family.people
    request_id = copying.request()
    copying.answer(request_id).unwrap()
    out = tmp_path / "bundle"
    summary = flows.export_evidence(
        session=session, guard=copying.family.at(130), principal=people["officer"], request_id=request_id, out=out
    ).unwrap()
    assert summary.entries == 2  # registered, copy issued (with its SHA-256)
    assert evidence.verify_evidence(out).entries == 2
    row = session.get(FamilyRequest, request_id)
    assert row is not None
    entries = (out / "entries.jsonl").read_text(encoding="utf-8")
    assert f"sha256={row.answer_sha256}" in entries
