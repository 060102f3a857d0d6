"""Training on SQLite and PostgreSQL: a past instant's coverage is fixed once it has passed (staff
counted as they were then), only the municipal commission adds mandatory courses, and nobody
records their own completion (four eyes)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.identity import service as identity
from piguard.identity.models import TrainingCompletion
from piguard.ledger import service as ledger
from piguard.oversight.training import flows, service
from piguard.oversight.training.models import TrainingCourse
from piguard.oversight.training.schemas import CompletionIn, CourseIn
from tests.integration.oversight.test_training_service import NOW, Town, _read
from tests.integration.oversight.test_training_service import town as town  # the fixture


def test_a_past_coverage_does_not_change_when_an_account_is_disabled_later(session: Session, town: Town) -> None:
    hosp = [town.orgs["hosp"]]
    month_end = NOW - timedelta(days=30)
    assert (service.coverage(session=session, at=month_end, org_ids=hosp).staff) == 3
    identity.disable_account(session=session, account_id=town.ids["nurse"], now=NOW)
    # The nurse worked there at the month's end: the figure stays as it was.
    then = service.coverage(session=session, at=month_end, org_ids=hosp)
    assert (then.trained, then.staff) == (3, 3)
    later = service.coverage(session=session, at=NOW + timedelta(minutes=1), org_ids=hosp)
    assert (later.trained, later.staff) == (2, 2)
    # An account disabled before the instant is not staff at it; before its disabling, it was.
    identity.disable_account(session=session, account_id=town.ids["doctor"], now=NOW - timedelta(days=60))
    assert service.coverage(session=session, at=month_end, org_ids=hosp).staff == 2
    assert service.coverage(session=session, at=NOW - timedelta(days=90), org_ids=hosp).staff == 3
    # The city's figure agrees with the organisations' (the commission and the other hospital too).
    city = service.coverage(session=session, at=month_end)
    assert city.staff == 4 and city.by_org[town.orgs["hosp"]] == (2, 2)


def test_a_completion_dated_back_does_not_change_a_past_coverage(session: Session, town: Town) -> None:
    hosp = [town.orgs["hosp"]]
    month_end = NOW - timedelta(days=30)
    late = identity.create_account(
        session=session, secret=b"s" * 32, username="zhou.min", display_name="Zhou Min", role="nurse",
        org_id=town.orgs["hosp"], password="correct horse battery", demo=True, now=NOW - timedelta(days=90),
    ).account.id  # fmt: skip
    assert _trained(service.coverage(session=session, at=month_end, org_ids=hosp)) == (3, 4)
    # Entered today, dated before last month's end: last month's figure stays as it was reported.
    done = identity.record_training(
        session=session, account_id=late, course_code="privacy-basics", score=90,
        completed_at=month_end - timedelta(days=5), now=NOW,
    )  # fmt: skip
    assert _trained(service.coverage(session=session, at=month_end, org_ids=hosp)) == (3, 4)
    assert _trained(service.coverage(session=session, at=NOW + timedelta(minutes=1), org_ids=hosp)) == (4, 4)
    row = session.scalar(select(TrainingCompletion).where(TrainingCompletion.account_id == late))
    assert row is not None and row.recorded_at == NOW and row.completed_at == done.completed_at


def _trained(cover: service.Coverage) -> tuple[int, int]:
    return cover.trained, cover.staff


def test_a_hospital_officer_adds_optional_courses_and_no_mandatory_one(session: Session, town: Town) -> None:
    officer = town.who(session, "officer")
    before = ledger.count(session=session)
    lockout = CourseIn(code="lockout", title="Hospital A course", mandatory=True, validity_days=30)
    refused = flows.add_course(session=session, guard=town.guard, principal=officer, data=lockout)
    assert isinstance(refused.error, AccessDenied) and refused.error.policy_ids == (flows.CITY_WIDE,)
    assert "municipal health commission" in str(refused.error)
    events = list(ledger.iter_events(session=session))[before:]
    assert [(e.action, e.resource_type, e.resource_id, e.outcome) for e in events] == [
        ("create", "training_course", "lockout", "denied")
    ]
    assert session.scalar(select(TrainingCourse).where(TrainingCourse.code == "lockout")) is None
    assert _read(session, town)  # nobody was locked out
    optional = CourseIn(code="ward-etiquette", title="Ward etiquette", mandatory=False, validity_days=30)
    assert flows.add_course(session=session, guard=town.guard, principal=officer, data=optional).unwrap().code == (
        "ward-etiquette"
    )
    assert _read(session, town)  # an optional course closes no gate
    # Another hospital's officer is refused the same way; the municipal commission adds it.
    outsider = flows.add_course(
        session=session, guard=town.guard, principal=town.who(session, "outsider"), data=lockout
    )
    assert isinstance(outsider.error, AccessDenied) and outsider.error.policy_ids == (flows.CITY_WIDE,)
    added = flows.add_course(session=session, guard=town.guard, principal=town.who(session, "commission"), data=lockout)
    assert added.unwrap().mandatory and not _read(session, town)


def test_nobody_records_their_own_completion(session: Session, town: Town) -> None:
    officer = town.who(session, "officer")
    own = CompletionIn(account_id=town.ids["officer"], course_code="privacy-basics", score=99, completed_at=NOW)
    before = ledger.count(session=session)
    refused = flows.record_completion(session=session, guard=town.guard, principal=officer, data=own)
    assert isinstance(refused.error, AccessDenied) and refused.error.policy_ids == ("four-eyes",)
    assert list(ledger.iter_events(session=session))[before:][-1].outcome == "denied"
    rows = session.scalars(select(TrainingCompletion).where(TrainingCompletion.account_id == town.ids["officer"]))
    assert len(list(rows)) == 1  # the fixture's; nothing added
    # The health commission (or another officer of the hospital) records it.
    done = flows.record_completion(
        session=session, guard=town.guard, principal=town.who(session, "commission"), data=own
    )
    assert done.error is None
