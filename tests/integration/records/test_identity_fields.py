"""A report's ID number and birth date, opened and corrected: checked alone, against each other and
against the death; a refusal names the field, never the value, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.ledger import service as ledger
from piguard.records import service as records
from piguard.records import workflow_flows
from piguard.records.models import DeathReport, Relative, ReportCorrection
from piguard.resident_id import check_character
from tests.integration.records.conftest import World, report_data

WORLD_ID = "310112194503070046"  # the conftest's number: born 1945-03-07


def valid_id(born: str, seq: str = "004") -> str:
    body = "310112" + born + seq
    return body + check_character(body)


def counts(session: Session) -> tuple[int, int, int, int]:
    """Reports, relatives, corrections and events stored."""
    return (
        int(session.scalar(select(func.count()).select_from(DeathReport)) or 0),
        int(session.scalar(select(func.count()).select_from(Relative)) or 0),
        int(session.scalar(select(func.count()).select_from(ReportCorrection)) or 0),
        ledger.count(session=session),
    )


def open_report(session: Session, world: World, subject: str = "subj-identity", **changes: Any) -> Any:
    data = {**report_data(subject, "周美华"), **changes}
    return workflow_flows.open_report(
        session=session, guard=world.guard, principal=world.people["certifier"], data=data
    )


@pytest.mark.parametrize(
    ("changes", "where", "reason"),
    [
        ({"id_number": WORLD_ID[:17] + "1"}, "id_number", "id_number: check character does not match"),
        ({"id_number": valid_id("19450230")}, "id_number", "id_number: the birth date in the number is not a calendar"),
        ({"id_number": valid_id("18400101")}, "id_number", "id_number: the birth date in the number is before 1850"),
        (
            {"id_number": valid_id("20250308")},
            "id_number",
            "id_number: the birth date in the number lies after the date of death",
        ),
        ({"birth_date": "1945-03-08"}, "birth_date", "birth_date: does not agree with the birth date in id_number"),
        (
            {"id_number": "310112450307004", "birth_date": "1945-03-09"},
            "birth_date",
            "birth_date: does not agree with the birth date in id_number",
        ),
        # The conftest's number ends its sequence code in 4 (even): a woman's.
        ({"sex": "male"}, "sex", "sex: does not agree with the sex digit in id_number"),
        ({"id_number": valid_id("19450307", "005")}, "sex", "sex: does not agree with the sex digit in id_number"),
        ({"district": "310199"}, "district", "is not a GB/T 2260 area code"),
        ({"district": "310100"}, "district", "is a province or prefecture code"),
    ],
)
def test_opening_a_report_with_a_bad_identity_is_refused_and_writes_nothing(
    session: Session, world: World, changes: dict[str, Any], where: str, reason: str
) -> None:
    before = counts(session)
    outcome = open_report(session, world, **changes)
    assert isinstance(outcome.error, InputError), outcome
    assert outcome.error.where == where and outcome.error.reason.startswith(reason)
    assert all(str(value) not in str(outcome.error) for value in changes.values())
    assert outcome.event is not None and outcome.event.outcome == "denied"
    reports, relatives, corrections, events = counts(session)
    assert (reports, relatives, corrections, events) == (*before[:3], before[3] + 1)
    assert all(str(value) not in outcome.event.reason for value in changes.values())


def test_opening_a_report_with_agreeing_identity_fields(session: Session, world: World) -> None:
    outcome = open_report(session, world, birth_date="1945-03-07")
    assert outcome.error is None and outcome.value.id_number == WORLD_ID
    legacy = open_report(session, world, "subj-legacy", id_number="310112450307004", birth_date="1945-03-07")
    assert legacy.error is None and legacy.value.id_number == "310112450307004"


def _correct(session: Session, world: World, field: str, value: str | None) -> Any:
    return records.correct_report(
        session=session,
        report_id=world.report_a,
        account_id="acc-cert",
        field=field,
        value=value,
        reason="the household register says otherwise",
        at=world.guard.clock(),
    )


def _refused(session: Session, world: World, field: str, value: str | None, reason: str) -> None:
    report = session.get(DeathReport, world.report_a)
    assert report is not None
    stored = (report.version, report.id_number, report.birth_date)
    before = counts(session)
    with pytest.raises(InputError) as refused:
        _correct(session, world, field, value)
    assert refused.value.where == "value" and refused.value.reason == reason
    assert value is None or value not in str(refused.value)
    session.expire_all()
    report = session.get(DeathReport, world.report_a)
    assert report is not None and (report.version, report.id_number, report.birth_date) == stored
    assert counts(session) == before


def test_a_correction_checks_the_combination_after_it(session: Session, world: World) -> None:
    _refused(session, world, "id_number", WORLD_ID[:17] + "0", "id_number: check character does not match")
    _refused(session, world, "birth_date", "1945-03-08", "birth_date: does not agree with the birth date in id_number")
    _correct(session, world, "birth_date", "1945-03-07")
    other = valid_id("19460101")
    _refused(
        session, world, "id_number", other, "id_number: the birth date in the number does not agree with birth_date"
    )
    _refused(
        session,
        world,
        "id_number",
        valid_id("20250308"),
        "id_number: the birth date in the number lies after the date of death",
    )
    # Both wrong: clear the birth date, correct the number, then set the birth date it carries.
    _correct(session, world, "birth_date", None)
    _correct(session, world, "id_number", other)
    _refused(session, world, "birth_date", "1945-03-07", "birth_date: does not agree with the birth date in id_number")
    report = _correct(session, world, "birth_date", "1946-01-01")
    assert (report.id_number, str(report.birth_date)) == (other, "1946-01-01")


def test_a_correction_of_sex_or_number_keeps_the_sex_digit_in_agreement(session: Session, world: World) -> None:
    _refused(session, world, "sex", "male", "sex: does not agree with the sex digit in id_number")
    man = valid_id("19450307", "005")
    _refused(session, world, "id_number", man, "id_number: the sex digit in the number does not agree with sex")
    # Unknown sex never disagrees; from there the number, then the sex, can be put right.
    _correct(session, world, "sex", "unknown")
    _correct(session, world, "id_number", man)
    report = _correct(session, world, "sex", "male")
    assert (report.id_number, report.sex) == (man, "male")


def test_a_second_report_about_the_same_subject_is_refused_by_name(session: Session, world: World) -> None:
    assert open_report(session, world, subject="subj-twice").error is None
    before = counts(session)
    again = open_report(session, world, subject="subj-twice")
    assert isinstance(again.error, InputError) and again.error.where == "subject_id"
    assert "already exists" in again.error.reason and "subj-twice" not in str(again.error)
    reports, relatives, corrections, events = counts(session)
    assert (reports, relatives, corrections, events) == (*before[:3], before[3] + 1)
