"""A close relative's deletion request (PIPL Art. 47, 49) through the guarded flows on SQLite and PostgreSQL:
the report is kept on its legal basis, the relatives' contact details are deleted once the certificate is handed
over (history without the values, virtual numbers revoked), four eyes, and the letter names no one's data."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from piguard.errors import AccessDenied, ConflictError, NotFoundError
from piguard.ledger import service as ledger
from piguard.minimize import handles
from piguard.oversight.cases import flows as case_flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.oversight.family import deletions, flows, render, rules
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.schemas import DeletionLetter, DisclosureAccount
from piguard.records import erasure
from piguard.records import flows as record_flows
from piguard.records import service as records
from piguard.records.models import DeathReport, Relative, ReportCorrection
from tests.integration.oversight.test_family_requests import PHONE, Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture

SISTER_PHONE = "13800138000"
SISTER_ADDRESS = "上海市闵行区莘庄镇七莘路99号"


@dataclass
class Erasing:
    """The ``family`` site plus a certified report with two relatives (two phones, one address)."""

    family: Family
    report: str
    subject: str

    def request(self, erase: list[str], who: str = "officer") -> str:
        made = self.family.register(who=who, report_id=self.report, kind="deletion", erase=erase)  # type: ignore[arg-type]
        return str(made.unwrap().id)  # type: ignore[attr-defined]

    def answer(self, request_id: str, who: str = "second", seconds: float = 120) -> flows.Outcome[object]:
        return flows.answer(  # type: ignore[return-value]
            session=self.family.session, guard=self.family.at(seconds), principal=self.family.people[who],
            request_id=request_id,
        )  # fmt: skip

    def hand_over(self) -> None:
        """The institution issues the police and funeral parts to the family."""
        records.issue_parts(session=self.family.session, report_id=self.report, at=self.family.at(30).now)  # type: ignore[arg-type]
        self.family.session.flush()


@pytest.fixture
def erasing(family: Family) -> Erasing:
    session = family.session
    first = session.get(DeathReport, family.report)
    assert first is not None
    report = records.create_report(
        session=session,
        hospital_org_id=first.hospital_org_id,
        subject_id="subj-del",
        name="李秀英",
        sex="female",
        death_time=first.death_time,
        place_of_death="home",
        district="310112",
        part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        relatives=[
            {"name": "王小明", "relationship": "儿子", "phone": PHONE},
            {"name": "王小红", "relationship": "女儿", "phone": SISTER_PHONE, "address": SISTER_ADDRESS},
        ],
    )
    records.certify(
        session=session,
        report_id=report.id,
        certifier_id=family.people["certifier"].account_id,
        at=first.death_time + timedelta(hours=1),
    )
    session.flush()
    return Erasing(family, report.id, "subj-del")


def _relatives(erasing: Erasing) -> list[tuple[str, str | None, str | None]]:
    rows = erasing.family.session.scalars(
        select(Relative).where(Relative.report_id == erasing.report).order_by(Relative.position)
    )
    return [(r.name, r.phone, r.address) for r in rows]


def test_the_report_is_kept_and_the_contacts_deleted_once_handed_over(erasing: Erasing) -> None:
    family = erasing.family
    session, people = family.session, family.people
    erasing.hand_over()
    read = record_flows.read_report(
        session=session, guard=family.at(40), principal=people["certifier"], report_id=erasing.report, purpose="TREAT"
    ).unwrap()
    handle = read.relatives[0].phone_handle  # type: ignore[attr-defined]
    assert handles.resolve(session=session, handle=handle, at=family.at(50).now)[1] == PHONE
    request_id = erasing.request(["report", "relative_contacts"])
    letter = erasing.answer(request_id).unwrap()
    assert isinstance(letter, DeletionLetter)
    report_item, contacts = letter.items
    assert (report_item.field, report_item.outcome, report_item.reason) == ("report", "kept", rules.RETENTION_BASIS)
    assert (contacts.field, contacts.outcome) == ("relative_contacts", "deleted")
    assert [(d.field, d.count) for d in contacts.deleted] == [("relative.address", 1), ("relative.phone", 2)]
    # Gone from the record; names and relationships stay.
    assert _relatives(erasing) == [("王小明", None, None), ("王小红", None, None)]
    report = session.get(DeathReport, erasing.report)
    assert report is not None and report.version == 2 and report.status == "certified"
    history = session.scalars(select(ReportCorrection).where(ReportCorrection.report_id == erasing.report)).all()
    assert sorted(c.field.rsplit(".", 1)[-1] for c in history) == ["address", "phone", "phone"]
    assert all(c.old_value is None and c.new_value is None and request_id in c.reason for c in history)
    item = session.scalars(
        select(FamilyRequestItem).where(FamilyRequestItem.request_id == request_id, FamilyRequestItem.position == 2)
    ).one()
    assert sorted(item.correction_ids) == sorted(c.id for c in history)
    # The staff's virtual number for the son no longer connects.
    with pytest.raises(NotFoundError, match="expired"):
        handles.resolve(session=session, handle=handle, at=family.at(130).now)
    # Two events: the deletion on the record, and the letter's issue with its SHA-256.
    erased, issued = list(ledger.iter_events(session=session))[-2:]
    assert (erased.action, erased.resource_type, erased.resource_id, erased.subject_id, list(erased.fields)) == (
        "update",
        "death_report",
        erasing.report,
        erasing.subject,
        [deletions.ERASED_FIELD],
    )
    # Not a field the leak tracer takes for a screen that showed the numbers (detect/trace.py).
    assert not any(word in deletions.ERASED_FIELD for word in ("relative.", "phone", "contact"))
    row = session.get(FamilyRequest, request_id)
    assert row is not None and issued.reason is not None and f"sha256={row.answer_sha256}" in issued.reason
    # Nobody's data in the letter, in either language.
    pages = [
        render.as_json(letter).decode(),
        render.render(letter, "html", "zh").decode(),
        html.unescape(render.render(letter, "html", "en").decode()),
    ]
    for text in pages:
        for absent in (PHONE, SISTER_PHONE, SISTER_ADDRESS, "王小红"):
            assert absent not in text
    assert "国卫规划发〔2013〕57号" in pages[1] and "第四十七条第二款" in pages[1] and "家属电话号码" in pages[1]
    assert "Article 47(2)" in pages[2] and "relatives' phone numbers: 2" in pages[2]
    # A later account shows the deletion as such, not as a disclosure of the numbers.
    later = erasing.request(["relative_contacts"])
    involved = erasing.answer(later, seconds=190)  # the officer who deleted them changed the record
    assert isinstance(involved.error, ConflictError) and "you accessed this record" in str(involved.error)
    again = erasing.answer(later, who="third", seconds=200).unwrap()
    assert isinstance(again, DeletionLetter) and again.items[0].outcome == "not_held"
    account_request = family.register(report_id=erasing.report).unwrap()
    account = flows.answer(
        session=session,
        guard=family.at(300),
        principal=people["third"],
        request_id=account_request.id,  # type: ignore[attr-defined]
    ).unwrap()
    assert isinstance(account, DisclosureAccount)
    deleted = [line for line in account.lines if "relatives' contact details deleted" in line.disclosed]
    assert [(line.action, line.record) for line in deleted] == [("update", "death report")]
    assert account.contact_disclosures == 1  # the certifier's read, not the deletion


@pytest.mark.parametrize("blocker", ["parts", "case"])
def test_the_contacts_are_kept_while_still_needed_with_the_reason(erasing: Erasing, blocker: str) -> None:
    family = erasing.family
    if blocker == "case":
        erasing.hand_over()
        case_flows.open_case(
            session=family.session,
            guard=family.at(40),
            principal=family.people["third"],
            data=CaseOpen(
                title="Family reports calls from a funeral parlour",
                source="complaint",
                source_ref="cmp-2026-009",
                assignee_id=family.people["third"].account_id,
                subjects=[erasing.report],
                reason="the family named the day the calls began",
            ),
        ).unwrap()
    request_id = erasing.request(["relative_contacts"])
    letter = erasing.answer(request_id).unwrap()
    assert isinstance(letter, DeletionLetter)
    why = erasure.NOT_HANDED_OVER if blocker == "parts" else deletions.OPEN_CASE
    assert [(i.outcome, i.reason, i.deleted) for i in letter.items] == [("kept", why, [])]
    page = render.render(letter, "html", "zh").decode()
    assert "暂予保存" in page or "尚未全部交付" in page
    assert "已删除的内容" not in page  # nothing was deleted: the page does not say what deletion means
    assert _relatives(erasing) == [("王小明", PHONE, None), ("王小红", SISTER_PHONE, SISTER_ADDRESS)]
    assert not family.session.scalars(
        select(ReportCorrection.id).where(ReportCorrection.report_id == erasing.report)
    ).all()


def test_four_eyes_and_the_policy_guard_the_deletion(erasing: Erasing) -> None:
    family = erasing.family
    session, people = family.session, family.people
    erasing.hand_over()
    request_id = erasing.request(["relative_contacts"], who="officer")
    same = erasing.answer(request_id, who="officer")
    assert isinstance(same.error, ConflictError) and "four eyes" in str(same.error)
    for who in ("certifier", "broker"):
        refused = erasing.answer(request_id, who=who, seconds=130)
        assert isinstance(refused.error, AccessDenied), who
    last = list(ledger.iter_events(session=session))[-1]
    assert (last.outcome, last.action, last.resource_id, last.subject_id) == (
        "denied",
        "export",
        request_id,
        erasing.subject,
    )
    now = family.guard.now
    assert now is not None
    lapsed = people["second"].model_copy(update={"training_valid_until": now - timedelta(days=1)})
    gated = flows.answer(session=session, guard=family.at(140), principal=lapsed, request_id=request_id)
    assert isinstance(gated.error, AccessDenied) and "training-gate" in gated.error.policy_ids
    # Nothing changed by any refusal.
    assert _relatives(erasing)[0][1] == PHONE
    row = session.get(FamilyRequest, request_id)
    assert row is not None and row.state == "received"
    assert {i.outcome for i in row.items} == {"pending"}
    letter = erasing.answer(request_id, seconds=150).unwrap()
    assert isinstance(letter, DeletionLetter) and letter.items[0].outcome == "deleted"
    # Printed again, exactly as issued; an account request has no letter.
    reprint = flows.issued_letter(
        session=session, guard=family.at(160), principal=people["officer"], request_id=request_id
    )
    assert render.as_json(reprint.unwrap()) == render.as_json(letter)
    no_account = flows.issued_account(
        session=session, guard=family.at(170), principal=people["officer"], request_id=request_id
    )
    assert isinstance(no_account.error, ConflictError) and "deletion request" in str(no_account.error)
