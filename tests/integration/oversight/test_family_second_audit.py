"""The second audit's findings on relatives' correction and deletion requests, on SQLite and PostgreSQL: nothing
held is not "kept"; a letter says which items expired undecided; a field corrected on an unanswered request is
not corrected again; an unanswered request's evidence exports; a suspect certifier decides nothing; a certifier's
worklist follows each request's own referral."""

from __future__ import annotations

import html
import json
from pathlib import Path

from sqlalchemy import select

from piguard.errors import AccessDenied, ConflictError
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.oversight.cases import flows as case_flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.oversight.family import correction_flows, deletions, flows, render, rules, service
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.schemas import CorrectionLetter, DeletionLetter, FamilyRequestIn
from piguard.records.models import DeathReport, Relative
from tests.integration.oversight.test_family_audit_fixes import OK, WHY, _decide, _old_report, _request
from tests.integration.oversight.test_family_deletion import Erasing
from tests.integration.oversight.test_family_deletion import erasing as erasing  # the fixture
from tests.integration.oversight.test_family_requests import Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture

DAY = 24 * 3600.0


def _open_case(family: Family, report_id: str, seconds: float, suspect: str | None = None) -> None:
    case_flows.open_case(
        session=family.session,
        guard=family.at(seconds),
        principal=family.people["third"],
        data=CaseOpen(
            title="Family reports calls from a funeral parlour",
            source="manual",
            suspect_user_id=suspect,
            assignee_id=family.people["third"].account_id,
            subjects=[report_id],
            reason="the family named the day the calls began",
        ),
    ).unwrap()


def test_contacts_already_deleted_are_not_held_even_while_an_investigation_is_open(erasing: Erasing) -> None:
    family = erasing.family
    erasing.hand_over()
    first = erasing.answer(erasing.request(["relative_contacts"])).unwrap()
    assert isinstance(first, DeletionLetter) and first.items[0].outcome == "deleted"
    _open_case(family, erasing.report, 150)
    again = erasing.answer(erasing.request(["relative_contacts"]), who="third", seconds=200).unwrap()
    assert isinstance(again, DeletionLetter)
    assert [(i.outcome, i.reason) for i in again.items] == [("not_held", deletions.ALREADY_DELETED)]


def test_a_report_without_contacts_is_not_held_even_before_the_hand_over(erasing: Erasing) -> None:
    session = erasing.family.session
    for relative in session.scalars(select(Relative).where(Relative.report_id == erasing.report)):
        relative.phone = relative.address = None
    session.flush()
    letter = erasing.answer(erasing.request(["relative_contacts"])).unwrap()  # parts not issued
    assert isinstance(letter, DeletionLetter)
    assert [(i.outcome, i.reason) for i in letter.items] == [("not_held", deletions.NEVER_HELD)]
    assert "暂予保存" not in render.render(letter, "html", "zh").decode()


def _two_items(family: Family, report_id: str) -> str:
    made = flows.register(
        session=family.session,
        guard=family.at(60),
        principal=family.people["officer"],
        data=FamilyRequestIn.model_validate(
            {
                "report_id": report_id,
                "requester_name": "赵小华",
                "relationship": "child",
                "proof": "ID card; household register",
                "kind": "correction",
                "corrections": [
                    {"field": "name", "value": "赵国祥", "reason": WHY},
                    {"field": "place_detail", "value": "闵行区中心医院急诊科", "reason": WHY},
                ],
            }
        ),
    )
    return str(made.unwrap().id)  # type: ignore[attr-defined]


def test_the_letter_says_which_items_were_reviewed_and_which_expired(family: Family) -> None:
    request_id = _two_items(family, _old_report(family))
    _decide(family, request_id, 80).unwrap()  # type: ignore[attr-defined]
    late = 31 * DAY
    letter = flows.answer(
        session=family.session, guard=family.at(late), principal=family.people["officer"], request_id=request_id
    ).unwrap()
    assert isinstance(letter, CorrectionLetter)
    assert [(i.outcome, i.reason) for i in letter.items] == [("corrected", None), ("declined", rules.LAPSED)]
    english = html.unescape(render.render(letter, "html", "en").decode())
    chinese = render.render(letter, "html", "zh").decode()
    assert "reviewed each item" not in english and "已逐项审核" not in chinese
    assert "reviewed item 1." in english and "Item 2 expired undecided" in english
    assert "已审核第1项" in chinese and "第2项逾期未审核" in chinese


def test_a_letter_with_every_item_expired_claims_no_review(family: Family) -> None:
    request_id = _request(family, _old_report(family))
    letter = flows.answer(
        session=family.session, guard=family.at(31 * DAY), principal=family.people["officer"], request_id=request_id
    ).unwrap()
    assert isinstance(letter, CorrectionLetter)
    english = html.unescape(render.render(letter, "html", "en").decode())
    chinese = render.render(letter, "html", "zh").decode()
    assert "did not decide any item" in english and "reviewed each item" not in english
    assert "未在答复期限内审核任何一项" in chinese and "已逐项审核" not in chinese


def test_a_letter_with_every_item_decided_says_each_was_reviewed(family: Family) -> None:
    request_id = _request(family, _old_report(family))
    _decide(family, request_id, 80).unwrap()  # type: ignore[attr-defined]
    letter = flows.answer(
        session=family.session, guard=family.at(100), principal=family.people["officer"], request_id=request_id
    ).unwrap()
    assert isinstance(letter, CorrectionLetter)
    assert "reviewed each item" in html.unescape(render.render(letter, "html", "en").decode())
    assert "已逐项审核" in render.render(letter, "html", "zh").decode()


def test_a_field_corrected_on_an_unanswered_request_is_not_corrected_again(family: Family) -> None:
    session, people = family.session, family.people
    report_id = _old_report(family)
    f3 = _request(family, report_id, value="卢燕")
    f5 = _request(family, report_id, value="卢艳艳", seconds=65)
    _decide(family, f3, 80).unwrap()  # type: ignore[attr-defined]
    second = _decide(family, f5, 85)
    error = second.error  # type: ignore[attr-defined]
    assert isinstance(error, ConflictError) and f"request {f3} item 1 (name)" in str(error)
    report = session.get(DeathReport, report_id)
    assert report is not None and report.name == "卢燕"
    item = session.scalars(select(FamilyRequestItem).where(FamilyRequestItem.request_id == f5)).one()
    assert item.outcome == "pending"
    # F3 is answered (its letter is true), then F5's item may be decided.
    flows.answer(session=session, guard=family.at(90), principal=people["officer"], request_id=f3).unwrap()
    _decide(family, f5, 95).unwrap()  # type: ignore[attr-defined]
    done = flows.answer(session=session, guard=family.at(100), principal=people["officer"], request_id=f5).unwrap()
    assert done.items[0].outcome == "corrected"  # type: ignore[union-attr]
    # Declining is never blocked: it changes nothing.
    f7 = _request(family, report_id, value="卢燕燕", seconds=110)
    f8 = _request(family, report_id, value="卢艳", seconds=115)
    _decide(family, f7, 120).unwrap()  # type: ignore[attr-defined]
    declined = _decide(family, f8, 125, correct=False, reason="the ID card spells the name as it now stands")
    assert declined.unwrap().outcome == "declined"  # type: ignore[attr-defined]


def test_an_unanswered_request_exports_its_events_and_says_so(family: Family, tmp_path: Path) -> None:
    session, people = family.session, family.people
    request_id = _request(family, _old_report(family))
    _decide(family, request_id, 80).unwrap()  # type: ignore[attr-defined]
    out = tmp_path / "pending"
    summary = flows.export_evidence(
        session=session, guard=family.at(90), principal=people["officer"], request_id=request_id, out=out
    ).unwrap()
    corrected = [e for e in ledger.iter_events(session=session) if list(e.fields) == ["report.name"]]
    exported = [
        json.loads(json.loads(line)["leaf"])["event_id"]
        for line in (out / "entries.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(corrected) == 1 and corrected[0].event_id in exported
    assert summary.entries == len(exported) >= 3  # registered, the correction, the item's decision
    status = json.loads((out / "request.json").read_text(encoding="utf-8"))
    assert (status["request_id"], status["state"], status["answered"]) == (request_id, "received", False)
    assert "not answered" in status["note"]
    assert evidence.verify_evidence(out).entries == summary.entries
    # A refused request too.
    other = family.register().unwrap()
    flows.refuse_request(
        session=session, guard=family.at(100), principal=people["officer"], request_id=other.id,  # type: ignore[attr-defined]
        reason="the requester could not show the relationship",
    ).unwrap()  # fmt: skip
    refused_out = tmp_path / "refused"
    flows.export_evidence(
        session=session,
        guard=family.at(110),
        principal=people["officer"],
        request_id=other.id,
        out=refused_out,  # type: ignore[attr-defined]
    ).unwrap()
    assert json.loads((refused_out / "request.json").read_text(encoding="utf-8"))["state"] == "refused"


def test_a_certifier_who_became_a_suspect_decides_no_item(family: Family) -> None:
    session, people = family.session, family.people
    report_id = _old_report(family)
    request_id = _request(family, report_id)
    _open_case(family, report_id, 70, suspect=people["certifier"].account_id)
    for correct in (True, False):
        refused = _decide(family, request_id, 80, correct=correct, reason=OK + " and the ID card")
        error = refused.error  # type: ignore[attr-defined]
        assert isinstance(error, ConflictError) and "suspect" in str(error), correct
        last = list(ledger.iter_events(session=session))[-1]
        assert (last.user_id, last.outcome) == (people["certifier"].account_id, "denied")
    report = session.get(DeathReport, report_id)
    assert report is not None and report.name == "赵国强"
    item = session.scalars(select(FamilyRequestItem).where(FamilyRequestItem.request_id == request_id)).one()
    assert item.outcome == "pending"


def test_the_worklist_follows_each_requests_own_referral(family: Family) -> None:
    session, people = family.session, family.people
    report_id = _old_report(family)
    early = _request(family, report_id)
    late = _request(family, report_id, field="place_detail", value="闵行区中心医院急诊科", seconds=20 * DAY)
    at = 31 * DAY  # the early request's referral ended at its due date; the late one's is live
    listed = correction_flows.referrals(session=session, guard=family.at(at), principal=people["certifier"]).unwrap()
    assert [review.request_id for review in listed] == [late]
    opened = correction_flows.review(session=session, guard=family.at(at), principal=people["certifier"],
                                     request_id=early)  # fmt: skip
    assert isinstance(opened.error, AccessDenied)
    row = session.get(FamilyRequest, early)
    assert row is not None and row.state == "received"
    assert service.get(session, late).state == "received"
