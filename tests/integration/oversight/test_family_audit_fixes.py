"""The audit's findings on relatives' correction and deletion requests, on SQLite and PostgreSQL: the referral
opens the request's items, never the record; a letter that would be false is refused; requests on canaries are
refused and recorded; the deletion letter says what it did not reach; the evidence holds the changes made."""

from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.identity.models import Account
from piguard.ledger import service as ledger
from piguard.oversight.cases import flows as case_flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.oversight.family import correction_flows, corrections, deletions, flows, render, rules, service
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.schemas import CorrectionLetter, DeletionLetter, FamilyRequestIn
from piguard.policy.pdp import PolicyEngine
from piguard.records import export, workflow_flows
from piguard.records import flows as record_flows
from piguard.records import service as records
from piguard.records.guard import Guard
from piguard.records.models import DeathReport, Dispatch, TaskRelationship
from tests.integration.oversight.test_family_deletion import Erasing
from tests.integration.oversight.test_family_deletion import erasing as erasing  # the fixture
from tests.integration.oversight.test_family_requests import PHONE, Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture

WHY = "the household register shows the other spelling"
OK = "as the family's documents show"


def _old_report(family: Family, subject: str = "subj-old") -> str:
    """A report certified 199 days ago: its certifier's own 90-day relationship is long over."""
    session, people = family.session, family.people
    now = family.guard.now
    assert now is not None
    old = records.create_report(
        session=session,
        hospital_org_id=people["certifier"].org_id,
        subject_id=subject,
        name="赵国强",
        sex="male",
        death_time=now - timedelta(days=200),
        place_of_death="hospital",
        district="310112",
        part1=[{"line": "a", "text": "肺癌", "icd10": "C34.9"}],
        relatives=[{"name": "赵小华", "relationship": "女儿", "phone": PHONE}],
    )
    records.certify(session=session, report_id=old.id, certifier_id=people["certifier"].account_id,
                    at=now - timedelta(days=199))  # fmt: skip
    session.flush()
    return old.id


def _request(family: Family, report: str, field: str = "name", value: str = "赵国祥", seconds: float = 60) -> str:
    made = flows.register(
        session=family.session,
        guard=family.at(seconds),
        principal=family.people["officer"],
        data=FamilyRequestIn.model_validate(
            {
                "report_id": report,
                "requester_name": "赵小华",
                "relationship": "child",
                "proof": "ID card; household register",
                "kind": "correction",
                "corrections": [{"field": field, "value": value, "reason": WHY}],
            }
        ),
    )
    return str(made.unwrap().id)


def _decide(family: Family, request_id: str, seconds: float, *, correct: bool = True, reason: str = OK,
            position: int = 1) -> object:  # fmt: skip
    return correction_flows.decide(
        session=family.session, guard=family.at(seconds), principal=family.people["certifier"],
        request_id=request_id, position=position, correct=correct, reason=reason,
    )  # fmt: skip


def test_the_referral_opens_the_items_not_the_record(family: Family) -> None:
    session, people = family.session, family.people
    report_id = _old_report(family)
    request_id = _request(family, report_id)
    request = session.get(FamilyRequest, request_id)
    assert request is not None
    referral = session.scalars(
        select(TaskRelationship).where(TaskRelationship.created_by == corrections.referral(request_id))
    ).one()
    assert (referral.kind, referral.valid_to) == ("family_correction", request.due_at)
    certifier = people["certifier"]
    # The whole record stays closed: no read (so no fresh virtual numbers), no worklist entry.
    read = record_flows.read_report(
        session=session, guard=family.at(70), principal=certifier, report_id=report_id, purpose="TREAT"
    )
    assert isinstance(read.error, AccessDenied)
    listed = record_flows.search_reports(
        session=session, guard=family.at(75), principal=certifier, q=None, district=None, purpose="TREAT"
    )
    assert report_id not in [view.report_id for view in listed.value or []]  # type: ignore[attr-defined]
    # Nor the report's own correction route, for this field or any other.
    for field, value in (("name", "赵国祥"), ("manner", "accident")):
        direct = workflow_flows.correct_report(
            session=session, guard=family.at(80), principal=certifier, report_id=report_id, field=field,
            value=value, reason="a typing error in the record",
        )  # fmt: skip
        assert isinstance(direct.error, AccessDenied), field
    # The items are open to them, and the decision corrects exactly the item's field.
    review = correction_flows.review(session=session, guard=family.at(85), principal=certifier, request_id=request_id)
    assert [(i.field, i.value) for i in review.unwrap().items] == [("name", "赵国祥")]
    events = len(list(ledger.iter_events(session=session)))
    _decide(family, request_id, 90).unwrap()  # type: ignore[attr-defined]
    report = session.get(DeathReport, report_id)
    assert report is not None and (report.name, report.manner) == ("赵国祥", "natural")
    correction_event, decision_event = list(ledger.iter_events(session=session))[events:]
    assert (correction_event.resource_type, correction_event.action, list(correction_event.fields)) == (
        "death_report",
        "update",
        ["report.name"],
    )
    assert correction_event.reason == f"workflow:correct_report;family_request:{request_id}:item:1"
    assert decision_event.resource_id == request_id
    # The context export names the kind: detection does not take it for a certifier relationship.
    kinds = {(row.user_id, row.kind) for row in export.context_tables(session=session).relationships}
    assert (certifier.account_id, "family_correction") in kinds
    # The referral ends with the answer.
    flows.answer(session=session, guard=family.at(100), principal=people["officer"], request_id=request_id).unwrap()
    session.refresh(referral)
    assert referral.valid_to == family.at(100).now


def test_the_referral_ends_at_the_due_date_and_the_answer_says_what_was_not_decided(family: Family) -> None:
    session, people = family.session, family.people
    request_id = _request(family, _old_report(family))
    late = 31 * 24 * 3600.0
    refused = _decide(family, request_id, late)
    assert isinstance(refused.error, AccessDenied)  # type: ignore[attr-defined]
    early = flows.answer(session=session, guard=family.at(120), principal=people["officer"], request_id=request_id)
    assert isinstance(early.error, ConflictError) and "item 1 (name)" in str(early.error)
    letter = flows.answer(session=session, guard=family.at(late), principal=people["officer"], request_id=request_id)
    issued = letter.unwrap()
    assert isinstance(issued, CorrectionLetter)
    assert [(i.outcome, i.reason) for i in issued.items] == [("declined", rules.LAPSED)]
    assert "答复期限" in render.render(issued, "html", "zh").decode()


@pytest.mark.parametrize("why", ["disabled", "left", "suspect"])
def test_no_referral_to_a_certifier_who_may_not_decide(family: Family, why: str) -> None:
    session, people = family.session, family.people
    report_id = _old_report(family)
    account = session.get(Account, people["certifier"].account_id)
    assert account is not None
    if why == "disabled":
        account.disabled = True
    elif why == "left":
        account.org_id = people["broker"].org_id
    else:
        case_flows.open_case(
            session=session,
            guard=family.at(30),
            principal=people["third"],
            data=CaseOpen(
                title="Lookups of a patient's relatives",
                source="manual",
                suspect_user_id=account.id,
                assignee_id=people["third"].account_id,
                subjects=[report_id],
                reason="the certifier looked up the family's numbers",
            ),
        ).unwrap()
    session.flush()
    refused = flows.register(
        session=session,
        guard=family.at(60),
        principal=people["officer"],
        data=FamilyRequestIn.model_validate(
            {
                "report_id": report_id,
                "requester_name": "赵小华",
                "relationship": "child",
                "proof": "ID card; household register",
                "kind": "correction",
                "corrections": [{"field": "name", "value": "赵国祥", "reason": WHY}],
            }
        ),
    )
    assert isinstance(refused.error, ConflictError) and "cannot be referred" in str(refused.error)
    expected = {"disabled": "disabled", "left": "left the certifying institution", "suspect": "suspect"}[why]
    assert expected in str(refused.error)
    assert not session.scalars(select(FamilyRequest.id).where(FamilyRequest.report_id == report_id)).all()
    assert not session.scalars(
        select(TaskRelationship.id).where(TaskRelationship.created_by.like("family_request:%"))
    ).all()


def test_a_letter_that_would_be_false_is_refused_naming_the_item(family: Family) -> None:
    session, people = family.session, family.people
    first = _request(family, family.report, value="李秀瑛")
    _decide(family, first, 80).unwrap()  # type: ignore[attr-defined]
    # Another request cannot correct the field again while this one is unanswered (second audit, finding 8),
    # but the certifier's own correction workflow on a recent report still can.
    workflow_flows.correct_report(
        session=session, guard=family.at(85), principal=people["certifier"], report_id=family.report, field="name",
        value="李秀英", reason="a typing error in the record",
    ).unwrap()  # fmt: skip
    false = flows.answer(session=session, guard=family.at(100), principal=people["officer"], request_id=first)
    assert isinstance(false.error, ConflictError) and "item 1 (name)" in str(false.error)
    row = session.get(FamilyRequest, first)
    assert row is not None and row.state == "received" and row.answer is None
    # The institution settles the field as asked: the letter is true again and is issued.
    workflow_flows.correct_report(
        session=session, guard=family.at(105), principal=people["certifier"], report_id=family.report, field="name",
        value="李秀瑛", reason="as the family's documents show",
    ).unwrap()  # fmt: skip
    true = flows.answer(session=session, guard=family.at(110), principal=people["officer"], request_id=first)
    assert true.unwrap().items[0].outcome == "corrected"  # type: ignore[union-attr]


def test_a_request_about_a_canary_is_refused_unreferred_and_recorded(family: Family) -> None:
    session, people = family.session, family.people
    report = session.get(DeathReport, _old_report(family, subject="subj-canary"))
    assert report is not None
    report.is_canary = True
    session.flush()
    for kind, extra in (
        ("correction", {"corrections": [{"field": "name", "value": "赵国祥", "reason": WHY}]}),
        ("disclosures", {}),
        ("deletion", {"erase": ["relative_contacts"]}),
    ):
        refused = family.register(report_id=report.id, kind=kind, **extra)  # type: ignore[arg-type]
        assert isinstance(refused.error, ConflictError), kind
        assert "canary" not in str(refused.error) and "decoy" not in str(refused.error)
        last = list(ledger.iter_events(session=session))[-1]
        assert (last.user_id, last.outcome, last.subject_id) == (people["officer"].account_id, "denied", "subj-canary")
    assert not session.scalars(select(FamilyRequest.id).where(FamilyRequest.report_id == report.id)).all()
    assert not session.scalars(
        select(TaskRelationship.id).where(
            TaskRelationship.resource_id == report.id, TaskRelationship.created_by.like("family_request:%")
        )
    ).all()
    assert (
        correction_flows.referrals(session=session, guard=family.at(90), principal=people["certifier"]).unwrap() == []
    )


def test_only_an_undecided_request_is_refused(family: Family) -> None:
    session, people = family.session, family.people
    request_id = _request(family, _old_report(family))
    _decide(family, request_id, 80, correct=False, reason="the certificate spells it the way the ID card does")
    refusal = flows.refuse_request(
        session=session, guard=family.at(90), principal=people["officer"], request_id=request_id,
        reason="the requester could not show the relationship",
    )  # fmt: skip
    assert isinstance(refusal.error, ConflictError)
    assert "item 1 (name) declined" in str(refusal.error) and "answer the request" in str(refusal.error)


def test_reasons_told_to_others_hold_no_numbers(family: Family) -> None:
    with pytest.raises(ValueError, match="six or more digits"):
        FamilyRequestIn.model_validate(
            {
                "report_id": "r1",
                "requester_name": "王小明",
                "relationship": "child",
                "proof": "ID card",
                "kind": "correction",
                "corrections": [{"field": "name", "value": "李秀瑛", "reason": f"call me on {PHONE} about it"}],
            }
        )
    request_id = _request(family, _old_report(family))
    declined = _decide(family, request_id, 80, correct=False, reason=f"call the ward on {PHONE} to discuss it")
    error = declined.error  # type: ignore[attr-defined]
    assert isinstance(error, InputError) and error.where == "reason" and PHONE not in str(error)
    item = family.session.scalars(select(FamilyRequestItem).where(FamilyRequestItem.request_id == request_id)).one()
    assert item.outcome == "pending"
    assert "does not change it" in rules.correctable("district") and "address instead" not in rules.correctable(
        "compound"
    )


def test_a_narrowed_policy_is_not_called_jurisdiction(erasing: Erasing) -> None:
    family = erasing.family
    erasing.hand_over()
    request_id = erasing.request(["relative_contacts"])
    base = Path(records.__file__).parent.parent / "policy"
    texts = [path.read_text(encoding="utf-8") for path in sorted((base / "policies").glob("*.cedar"))]
    narrowed = "\n".join(texts).replace('@id("family-deletion-answer")', '@id("family-deletion-answer")\n// off', 1)
    start = narrowed.index('@id("family-deletion-answer")')
    end = narrowed.index("};", start) + 2
    engine = PolicyEngine(policies=narrowed[:start] + narrowed[end:], schema=(base / "schema.cedarschema").read_text())
    guard = family.at(120)
    refused = flows.answer(
        session=family.session,
        guard=Guard(engine=engine, settings=guard.settings, secret=guard.secret, now=guard.now),
        principal=family.people["second"],
        request_id=request_id,
    )
    assert isinstance(refused.error, AccessDenied) and "jurisdiction" not in str(refused.error)
    assert "jurisdiction" not in refused.error.policy_ids
    far = family.people["broker"].model_copy(update={"role": "privacy_officer"})
    outside = flows.answer(session=family.session, guard=family.at(130), principal=far, request_id=request_id)
    assert isinstance(outside.error, AccessDenied) and "jurisdiction" in str(outside.error)


def test_the_deletion_letter_says_what_remains_and_a_second_request_says_it_was_done(erasing: Erasing) -> None:
    family = erasing.family
    session = family.session
    report = session.get(DeathReport, erasing.report)
    assert report is not None
    call = Dispatch(
        incident_no="INC-2026-0001",
        org_id=report.hospital_org_id,
        district="310112",
        priority="P1",
        pickup_address="上海市闵行区莘庄镇七莘路99号",
        chief_complaint="chest pain",
        caller_phone=PHONE,
    )
    session.add(call)
    session.flush()
    report.dispatch_id = call.id
    erasing.hand_over()
    request_id = erasing.request(["relative_contacts"])
    letter = erasing.answer(request_id).unwrap()
    assert isinstance(letter, DeletionLetter)
    assert letter.remains == [deletions.REMAINS_CALL, deletions.REMAINS_SEARCHES, deletions.REMAINS_BACKUPS]
    assert call.caller_phone == PHONE  # the emergency centre's record: another controller's, not deleted here
    english = html.unescape(render.render(letter, "html", "en").decode())
    chinese = render.render(letter, "html", "zh").decode()
    assert "emergency centre" in english and "typed into a" in english and "Backups" in english
    assert "急救中心" in chinese and PHONE not in english + chinese
    # The evidence holds the deletion itself, not only the request's own events.
    row = session.get(FamilyRequest, request_id)
    assert row is not None
    ids = set(service.request_event_ids(session, row))
    erased = [e for e in ledger.iter_events(session=session) if list(e.fields) == [deletions.ERASED_FIELD]]
    assert len(erased) == 1 and erased[0].event_id in ids
    # A second request: nothing left, and the letter says it was deleted on an earlier request.
    later = erasing.request(["relative_contacts"])
    again = erasing.answer(later, who="third", seconds=200).unwrap()
    assert isinstance(again, DeletionLetter)
    assert [(i.outcome, i.reason) for i in again.items] == [("not_held", deletions.ALREADY_DELETED)]
    assert again.remains == [] and "此前的申请已将" in render.render(again, "html", "zh").decode()


def test_a_correction_requests_evidence_holds_the_corrections_it_made(family: Family) -> None:
    session = family.session
    request_id = _request(family, _old_report(family))
    _decide(family, request_id, 80).unwrap()  # type: ignore[attr-defined]
    row = session.get(FamilyRequest, request_id)
    assert row is not None
    ids = set(service.request_event_ids(session, row))
    made = [e for e in ledger.iter_events(session=session) if list(e.fields) == ["report.name"]]
    assert len(made) == 1 and made[0].event_id in ids
    other = _request(family, _old_report(family, subject="subj-other"), seconds=90)
    other_row = session.get(FamilyRequest, other)
    assert other_row is not None and made[0].event_id not in set(service.request_event_ids(session, other_row))
