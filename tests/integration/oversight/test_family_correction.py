"""A close relative's correction request (PIPL Art. 46, 49) through the guarded flows on SQLite and PostgreSQL:
referred to the certifier, corrected through the report's own correction workflow (linked, history kept) or
declined with a reason, answered with a letter that names fields, never values; refusals leave nothing behind."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard import resident_id
from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.oversight.common import Outcome
from piguard.oversight.family import correction_flows, corrections, flows, render
from piguard.oversight.family.models import FamilyRequest, FamilyRequestItem
from piguard.oversight.family.schemas import CorrectionLetter, FamilyRequestIn
from piguard.records import service as records
from piguard.records import workflow_flows
from piguard.records.models import DeathReport, ReportCorrection, TaskRelationship
from tests.integration.oversight.test_family_requests import Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture

NEW_ADDRESS = "上海市闵行区莘庄镇七莘路99号"
WHY = "the household register shows the other address"
DECLINE = "the manner of death is my medical judgement and I stand by it"


def _request(family: Family, corrections: list[dict[str, object]], who: str = "officer", report: str = "") -> str:
    made = family.register(
        who=who,
        kind="correction",
        corrections=corrections,
        report_id=report or family.report,  # type: ignore[arg-type]
    )
    return str(made.unwrap().id)  # type: ignore[attr-defined]


def _decide(family: Family, request_id: str, position: int, *, correct: bool, reason: str, who: str = "certifier",
            seconds: float = 90) -> Outcome[object]:  # fmt: skip
    return correction_flows.decide(  # type: ignore[return-value]
        session=family.session,
        guard=family.at(seconds),
        principal=family.people[who],
        request_id=request_id,
        position=position,
        correct=correct,
        reason=reason,
    )


def _events(session: Session) -> list[AccessEvent]:
    return list(ledger.iter_events(session=session))


def _referral(session: Session, request_id: str) -> TaskRelationship:
    found = session.scalar(
        select(TaskRelationship).where(TaskRelationship.created_by == corrections.referral(request_id))
    )
    assert found is not None
    return found


def test_the_certifier_corrects_through_the_workflow_and_the_letter_names_fields_not_values(family: Family) -> None:
    session, people = family.session, family.people
    request_id = _request(
        family,
        [
            {"field": "usual_address", "value": NEW_ADDRESS, "reason": WHY},
            {"field": "manner", "value": "accident", "reason": "she fell down the stairs at home"},
        ],
    )
    row = session.get(FamilyRequest, request_id)
    assert row is not None and (row.kind, row.state) == ("correction", "received")
    referral = _referral(session, request_id)
    assert (referral.account_id, referral.kind, referral.resource_id) == (
        people["certifier"].account_id,
        "family_correction",
        family.report,
    )
    assert referral.valid_to == row.due_at  # until the due date at most; ended earlier with the answer
    # The certifier sees the items, not who asked or what the officer checked.
    review = correction_flows.review(
        session=session, guard=family.at(70), principal=people["certifier"], request_id=request_id
    ).unwrap()
    assert [(i.position, i.field, i.value, i.outcome) for i in review.items] == [
        (1, "usual_address", NEW_ADDRESS, "pending"),
        (2, "manner", "accident", "pending"),
    ]
    shown = review.model_dump_json()
    assert "王小明" not in shown and "household register" not in shown.replace(WHY, "")
    # Item 1: corrected through the report's correction workflow, linked to the item.
    item = _decide(family, request_id, 1, correct=True, reason="checked against the household register").unwrap()
    assert item.outcome == "corrected"  # type: ignore[attr-defined]
    report = session.get(DeathReport, family.report)
    assert report is not None and report.usual_address == NEW_ADDRESS and report.version == 2
    made = session.scalars(select(ReportCorrection).where(ReportCorrection.report_id == family.report)).all()
    assert [(c.field, c.old_value, c.new_value, c.account_id) for c in made] == [
        ("usual_address", None, NEW_ADDRESS, people["certifier"].account_id)
    ]
    assert made[0].reason.startswith(f"family request {request_id} item 1: ")
    stored = session.scalars(select(FamilyRequestItem).where(FamilyRequestItem.request_id == request_id)).all()
    assert stored[0].correction_ids == [made[0].id]
    workflow_event, decision_event = _events(session)[-2:]
    assert (workflow_event.resource_type, workflow_event.action, list(workflow_event.fields)) == (
        "death_report",
        "update",
        ["report.usual_address"],
    )
    assert (decision_event.resource_id, decision_event.subject_id, decision_event.outcome) == (
        request_id,
        family.subject,
        "allowed",
    )
    assert decision_event.reason is not None and "item 1 corrected" in decision_event.reason
    assert NEW_ADDRESS not in json.dumps(
        [workflow_event.model_dump(mode="json"), decision_event.model_dump(mode="json")]
    )
    # Item 2: declined; the reason is the family's to read.
    _decide(family, request_id, 2, correct=False, reason=DECLINE, seconds=100).unwrap()
    assert report.manner == "natural"
    again = _decide(family, request_id, 2, correct=True, reason="changed my mind after all", seconds=105)
    assert isinstance(again.error, ConflictError) and "final" in str(again.error)
    # The officer answers with the letter; the certifier's task ends with it.
    letter = flows.answer(session=session, guard=family.at(120), principal=people["officer"], request_id=request_id)
    issued = letter.unwrap()
    assert isinstance(issued, CorrectionLetter)
    assert [(i.position, i.field, i.outcome, i.reason) for i in issued.items] == [
        (1, "usual_address", "corrected", None),
        (2, "manner", "declined", DECLINE),
    ]
    kept = render.as_json(issued).decode("utf-8")
    pages = {
        "zh": render.render(issued, "html", "zh").decode(),
        "en": html.unescape(render.render(issued, "html", "en").decode()),
    }
    for text in (kept, *pages.values()):
        assert NEW_ADDRESS not in text and "accident" not in text
    assert "常住地址" in pages["zh"] and "已更正" in pages["zh"] and "未更正" in pages["zh"] and DECLINE in pages["zh"]
    assert "usual address" in pages["en"] and "Articles 46 and 49" in pages["en"]
    session.refresh(referral)
    assert referral.valid_to == family.at(120).now
    row = session.get(FamilyRequest, request_id)
    assert row is not None and row.state == "answered" and row.answer == kept
    answered = _events(session)[-1]
    assert (answered.action, list(answered.fields)) == (
        "export",
        ["deceased.name", "family_request.correction_letter"],  # the letter names the deceased
    )
    assert answered.reason is not None and f"sha256={row.answer_sha256}" in answered.reason
    # Printed again exactly as issued.
    reprint = flows.issued_letter(
        session=session, guard=family.at(130), principal=people["second"], request_id=request_id
    ).unwrap()
    assert render.as_json(reprint) == kept.encode("utf-8")
    assert render.render(reprint, "html") == render.render(issued, "html")


def test_fields_that_are_never_corrected_this_way_are_refused_naming_the_field() -> None:
    base = {
        "report_id": "r1",
        "requester_name": "王小明",
        "relationship": "child",
        "proof": "ID card",
        "kind": "correction",
    }
    cases = {
        "part1": "medical opinion",
        "underlying_icd10": "medical opinion",
        "status": "reporting workflow",
        "relatives": "their own personal information",
        "relative.phone": "their own personal information",
        "death_time": "does not correct this field",
        "shoe_size": "unknown field",
    }
    for field, why in cases.items():
        with pytest.raises(ValidationError) as caught:
            FamilyRequestIn.model_validate(base | {"corrections": [{"field": field, "value": "x", "reason": WHY}]})
        error = caught.value.errors()[0]
        assert error["loc"] == ("corrections", 0, "field") and why in error["msg"], field
    for extra, where in (
        ({}, "corrections"),  # a correction request names its fields
        ({"corrections": [{"field": "name", "value": "a", "reason": WHY}] * 2}, "corrections"),  # once each
        ({"kind": "copy", "corrections": [{"field": "name", "value": "a", "reason": WHY}]}, "corrections"),
        ({"kind": "deletion"}, "erase"),
        ({"kind": "deletion", "erase": ["cause_of_death"]}, "erase"),
    ):
        with pytest.raises(ValidationError) as caught:
            FamilyRequestIn.model_validate(base | extra)
        assert caught.value.errors()[0]["loc"][0] == where, extra


def test_a_value_that_breaks_the_fields_rule_is_refused_and_nothing_is_written(family: Family) -> None:
    session = family.session
    before = session.scalars(select(FamilyRequest.id)).all()
    refused = family.register(
        kind="correction",
        corrections=[{"field": "id_number", "value": "110105194912310021", "reason": WHY}],  # type: ignore[arg-type]
    )
    assert isinstance(refused.error, InputError) and refused.error.where == "corrections.0.value"
    assert "id_number" in str(refused.error) and "110105" not in str(refused.error)
    assert session.scalars(select(FamilyRequest.id)).all() == before
    assert not session.scalars(select(FamilyRequestItem.id)).all()
    last = _events(session)[-1]
    assert (last.outcome, last.action, last.subject_id) == ("denied", "create", family.subject)


def test_a_correction_the_workflow_refuses_leaves_nothing_behind_and_a_pair_is_corrected_in_steps(
    family: Family,
) -> None:
    session = family.session
    report = session.get(DeathReport, family.report)
    assert report is not None
    report.birth_date = date(1949, 12, 31)
    session.flush()
    first17 = "11010519500101002"  # born 1950-01-01: disagrees with the recorded birth date
    number = first17 + resident_id.check_character(first17)
    request_id = _request(
        family,
        [
            {"field": "id_number", "value": number, "reason": WHY},
            {"field": "birth_date", "value": "1950-01-01", "reason": WHY},
        ],
    )
    events = len(_events(session))
    failed = _decide(family, request_id, 1, correct=True, reason="as the family's documents show")
    assert isinstance(failed.error, InputError) and failed.error.where == "item"
    assert "item 1 (id_number)" in str(failed.error) and "birth" in str(failed.error)
    session.refresh(report)
    assert report.id_number is None and report.version == 1
    assert not session.scalars(select(ReportCorrection.id).where(ReportCorrection.report_id == family.report)).all()
    item = session.scalars(
        select(FamilyRequestItem).where(FamilyRequestItem.request_id == request_id, FamilyRequestItem.position == 1)
    ).one()
    assert (item.outcome, item.decided_by, item.correction_ids) == ("pending", None, [])
    added = _events(session)[events:]  # only the refusal: nothing of the correction is left behind
    assert [(e.outcome, e.resource_type, e.resource_id) for e in added] == [("denied", "family_request", request_id)]
    # In the order that agrees with the number as stored (blank), the pair is corrected item by item.
    _decide(family, request_id, 2, correct=True, reason="as the family's documents show", seconds=100).unwrap()
    _decide(family, request_id, 1, correct=True, reason="as the family's documents show", seconds=105).unwrap()
    session.refresh(report)
    assert (report.id_number, report.birth_date) == (number, date(1950, 1, 1))


def test_only_the_records_certifier_decides_and_refusals_are_recorded(family: Family) -> None:
    session, people = family.session, family.people
    request_id = _request(family, [{"field": "name", "value": "李秀瑛", "reason": WHY}])
    for who in ("broker", "officer", "second"):
        refused = _decide(family, request_id, 1, correct=True, reason="I would correct it myself", who=who)
        assert isinstance(refused.error, AccessDenied), who
        last = _events(session)[-1]
        assert (last.outcome, last.user_id, last.resource_id) == ("denied", people[who].account_id, request_id)
        peek = correction_flows.review(
            session=session, guard=family.at(80), principal=people[who], request_id=request_id
        )
        assert isinstance(peek.error, AccessDenied), who
    now = family.guard.now
    assert now is not None
    lapsed = people["certifier"].model_copy(update={"training_valid_until": now - timedelta(days=1)})
    gated = correction_flows.decide(
        session=session, guard=family.at(95), principal=lapsed, request_id=request_id, position=1, correct=True,
        reason="as the family's documents show",
    )  # fmt: skip
    assert isinstance(gated.error, AccessDenied) and "training-gate" in gated.error.policy_ids
    report = session.get(DeathReport, family.report)
    assert report is not None and report.name == "李秀英"
    # The officer can neither answer before the certifier decided nor refuse after a correction.
    early = flows.answer(session=session, guard=family.at(100), principal=people["officer"], request_id=request_id)
    assert isinstance(early.error, ConflictError) and "item 1 (name)" in str(early.error)
    _decide(family, request_id, 1, correct=True, reason="as the family's documents show", seconds=110).unwrap()
    refusal = flows.refuse_request(
        session=session,
        guard=family.at(120),
        principal=people["officer"],
        request_id=request_id,
        reason="the requester could not show the relationship",
    )
    assert isinstance(refusal.error, ConflictError) and "answer the request" in str(refusal.error)
    row = session.get(FamilyRequest, request_id)
    assert row is not None and row.state == "received"


def test_a_refused_request_ends_the_certifiers_task(family: Family) -> None:
    session, people = family.session, family.people
    request_id = _request(family, [{"field": "name", "value": "李秀瑛", "reason": WHY}])
    flows.refuse_request(
        session=session,
        guard=family.at(80),
        principal=people["second"],
        request_id=request_id,
        reason="the deceased's written instruction forbids it",
    ).unwrap()
    assert _referral(session, request_id).valid_to == family.at(80).now
    late = _decide(family, request_id, 1, correct=True, reason="as the family's documents show", seconds=90)
    assert isinstance(late.error, AccessDenied)  # the referral ended; their own certifier relationship does not count


def test_the_request_lets_the_certifier_correct_after_their_own_window_and_only_until_answered(family: Family) -> None:
    session, people = family.session, family.people
    now = family.guard.now
    assert now is not None
    old = records.create_report(
        session=session,
        hospital_org_id=people["certifier"].org_id,
        subject_id="subj-old",
        name="赵国强",
        sex="male",
        death_time=now - timedelta(days=200),
        place_of_death="hospital",
        district="310112",
        part1=[{"line": "a", "text": "肺癌", "icd10": "C34.9"}],
    )
    records.certify(session=session, report_id=old.id, certifier_id=people["certifier"].account_id,
                    at=now - timedelta(days=199))  # fmt: skip
    session.flush()

    def direct(seconds: float) -> object:
        return workflow_flows.correct_report(
            session=session, guard=family.at(seconds), principal=people["certifier"], report_id=old.id,
            field="name", value="赵国祥", reason="a typing error in the name",
        ).error  # fmt: skip

    assert isinstance(direct(10), AccessDenied)  # the certifier's 90 days are long over
    request_id = _request(family, [{"field": "name", "value": "赵国祥", "reason": WHY}], report=old.id)
    listed = correction_flows.referrals(session=session, guard=family.at(70), principal=people["certifier"]).unwrap()
    assert [r.request_id for r in listed] == [request_id]
    assert correction_flows.referrals(session=session, guard=family.at(70), principal=people["broker"]).unwrap() == []
    _decide(family, request_id, 1, correct=True, reason="the household register shows it", seconds=80).unwrap()
    assert session.get(DeathReport, old.id).name == "赵国祥"  # type: ignore[union-attr]
    flows.answer(session=session, guard=family.at(100), principal=people["officer"], request_id=request_id).unwrap()
    assert isinstance(direct(110), AccessDenied)  # the task ended with the answer
    assert (
        correction_flows.referrals(session=session, guard=family.at(120), principal=people["certifier"]).unwrap() == []
    )


def test_a_draft_report_has_no_certifier_to_refer_to(family: Family) -> None:
    draft = records.create_report(
        session=family.session,
        hospital_org_id=family.people["certifier"].org_id,
        subject_id="subj-draft",
        name="钱多多",
        sex="male",
        death_time=(family.guard.now or datetime.now(UTC)) - timedelta(hours=3),
        place_of_death="hospital",
        district="310112",
        part1=[{"line": "a", "text": "肺炎", "icd10": "J18.9"}],
    )
    family.session.flush()
    refused = family.register(
        report_id=draft.id,
        kind="correction",
        corrections=[{"field": "name", "value": "钱朵朵", "reason": WHY}],  # type: ignore[arg-type]
    )
    assert isinstance(refused.error, ConflictError) and "not certified" in str(refused.error)
    assert not family.session.scalars(select(FamilyRequest.id).where(FamilyRequest.report_id == draft.id)).all()
