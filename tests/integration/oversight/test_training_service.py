"""Training on SQLite and PostgreSQL: catalogue, completions, attestations, the gate on the real
guarded read path, reminders, coverage, refusals recorded in the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.oversight.common import local_principal
from piguard.oversight.training import flows, service
from piguard.oversight.training.models import TrainingCourse
from piguard.oversight.training.schemas import CompletionIn, CourseIn
from piguard.policy.pdp import default_engine
from piguard.records import flows as record_flows
from piguard.records import service as records
from piguard.records.guard import Guard

NOW = datetime(2025, 6, 15, 9, 0, tzinfo=UTC)


@dataclass
class Town:
    guard: Guard
    orgs: dict[str, str]
    ids: dict[str, str]
    report: str

    def who(self, session: Session, key: str) -> Principal:
        """The principal as authentication loads it (training validity from the identity service)."""
        account = identity.get_account(session=session, account_id=self.ids[key])
        return local_principal(session=session, username=account.username)


@pytest.fixture
def town(session: Session, tmp_path_factory: pytest.TempPathFactory) -> Town:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    orgs = {
        key: records.create_organisation(session=session, name=key, org_type=kind, district=district, level=level).id
        for key, kind, district, level in (
            ("hosp", "hospital", "310112", "district"),
            ("other", "hospital", "310112", "district"),
            ("hc", "health_commission", "310000", "municipal"),  # the city's: it adds mandatory courses
        )
    }
    ids = {}
    for key, username, role, org in (
        ("doctor", "wang.fang", "physician", "hosp"),
        ("nurse", "li.na", "nurse", "hosp"),
        ("officer", "sun.li", "privacy_officer", "hosp"),
        ("outsider", "zhao.lei", "privacy_officer", "other"),
        ("commission", "qian.hao", "privacy_officer", "hc"),
    ):
        made = identity.create_account(
            session=session,
            secret=b"s" * 32,
            username=username,
            display_name=key,
            role=role,
            org_id=orgs[org],
            password="correct horse battery",
            demo=True,
            now=NOW - timedelta(days=400),
        )
        ids[key] = made.account.id
        identity.record_training(
            session=session,
            account_id=made.account.id,
            course_code="privacy-basics",
            score=90,
            completed_at=NOW - timedelta(days=100),
            now=NOW - timedelta(days=100),  # entered when taken
        )
    report = records.create_report(
        session=session,
        hospital_org_id=orgs["hosp"],
        subject_id="subj-1",
        name="李秀英",
        sex="female",
        id_number="310112194503070046",
        death_time=NOW - timedelta(days=2),
        place_of_death="hospital",
        district="310112",
        part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9", "interval": "2小时"}],
        relatives=[],
        usual_address="上海市闵行区莘庄镇某路1号",
        household_address="上海市闵行区莘庄镇某路1号",
    )
    records.certify(session=session, report_id=report.id, certifier_id=ids["doctor"], at=NOW - timedelta(days=2))
    session.flush()
    guard = Guard(engine=default_engine(), settings=settings, secret=b"s" * 32, now=NOW)
    return Town(guard, orgs, ids, report.id)


def _course(code: str = "deceased-data", *, mandatory: bool = True, days: int = 180) -> CourseIn:
    """A course; a mandatory one binds at once (no adoption period), as these tests need."""
    return CourseIn(
        code=code, title="Handling the deceased's data", mandatory=mandatory, validity_days=days,
        binds_from=NOW if mandatory else None,
    )  # fmt: skip


def _read(session: Session, town: Town) -> bool:
    """The doctor reads the report they certified, through the real guarded path."""
    outcome = record_flows.read_report(
        session=session, guard=town.guard, principal=town.who(session, "doctor"), report_id=town.report, purpose="TREAT"
    )
    return outcome.allowed


def test_a_new_mandatory_course_closes_the_gate_until_it_is_passed(session: Session, town: Town) -> None:
    assert _read(session, town)
    officer = town.who(session, "officer")
    commission = town.who(session, "commission")
    before = ledger.count(session=session)
    added = flows.add_course(session=session, guard=town.guard, principal=commission, data=_course()).unwrap()
    assert added.mandatory and ledger.count(session=session) == before + 1
    event = list(ledger.iter_events(session=session))[-1]
    assert (event.action, event.resource_type, event.resource_id, event.outcome) == (
        "create",
        "training_course",
        "deceased-data",
        "allowed",
    )
    # The doctor has not taken the new mandatory course: the policy's training gate refuses.
    refused = record_flows.read_report(
        session=session, guard=town.guard, principal=town.who(session, "doctor"), report_id=town.report, purpose="TREAT"
    )
    assert isinstance(refused.error, AccessDenied) and "training-gate" in refused.error.policy_ids
    done = flows.record_completion(
        session=session,
        guard=town.guard,
        principal=officer,
        data=CompletionIn(
            account_id=town.ids["doctor"], course_code="deceased-data", score=85, completed_at=NOW - timedelta(days=1)
        ),
    ).unwrap()
    assert done.valid_until == NOW - timedelta(days=1) + timedelta(days=180) and done.pass_mark == 80
    assert _read(session, town)
    # Training lapses: the earliest mandatory expiry is the gate's (privacy-basics, 265 days later).
    later = Guard(
        engine=town.guard.engine, settings=town.guard.settings, secret=b"s" * 32, now=NOW + timedelta(days=200)
    )
    lapsed = record_flows.read_report(
        session=session, guard=later, principal=town.who(session, "doctor"), report_id=town.report, purpose="TREAT"
    )
    assert not lapsed.allowed and "training" in str(lapsed.error)


def test_refusals_are_recorded_and_leave_nothing_behind(session: Session, town: Town) -> None:
    doctor = town.who(session, "doctor")
    before = ledger.count(session=session)
    refused = flows.add_course(session=session, guard=town.guard, principal=doctor, data=_course())
    assert isinstance(refused.error, AccessDenied)
    assert ledger.count(session=session) == before + 1
    assert list(ledger.iter_events(session=session))[-1].outcome == "denied"
    assert session.query(TrainingCourse).count() == 0
    officer = town.who(session, "officer")
    # Another organisation's officer may not record completions for this hospital's staff.
    outsider = flows.record_completion(
        session=session,
        guard=town.guard,
        principal=town.who(session, "outsider"),
        data=CompletionIn(account_id=town.ids["nurse"], course_code="privacy-basics", score=90, completed_at=NOW),
    )
    assert isinstance(outsider.error, AccessDenied)
    future = flows.record_completion(
        session=session,
        guard=town.guard,
        principal=officer,
        data=CompletionIn(
            account_id=town.ids["nurse"], course_code="privacy-basics", score=90, completed_at=NOW + timedelta(days=1)
        ),
    )
    assert isinstance(future.error, InputError) and future.error.where == "completed_at"
    failed = flows.record_completion(
        session=session,
        guard=town.guard,
        principal=officer,
        data=CompletionIn(account_id=town.ids["nurse"], course_code="privacy-basics", score=60, completed_at=NOW),
    )
    assert isinstance(failed.error, InputError) and "pass mark" in str(failed.error)
    commission = town.who(session, "commission")
    flows.add_course(session=session, guard=town.guard, principal=commission, data=_course()).unwrap()
    again = flows.add_course(session=session, guard=town.guard, principal=commission, data=_course())
    assert isinstance(again.error, ConflictError)
    # The health commission keeps every organisation's records; its officer needs the new mandatory
    # course first (recorded by the server's operator, as `piguard users training` does).
    blocked = flows.record_completion(
        session=session,
        guard=town.guard,
        principal=town.who(session, "commission"),
        data=CompletionIn(account_id=town.ids["nurse"], course_code="deceased-data", score=90, completed_at=NOW),
    )
    assert isinstance(blocked.error, AccessDenied) and blocked.error.policy_ids == ("training-gate",)
    identity.record_training(
        session=session, account_id=town.ids["commission"], course_code="deceased-data", score=90, completed_at=NOW
    )
    commission = flows.record_completion(
        session=session,
        guard=town.guard,
        principal=town.who(session, "commission"),
        data=CompletionIn(account_id=town.ids["nurse"], course_code="deceased-data", score=90, completed_at=NOW),
    )
    assert commission.error is None


def test_a_lapsed_person_still_sees_their_status_and_attests(session: Session, town: Town) -> None:
    commission = town.who(session, "commission")
    flows.add_course(session=session, guard=town.guard, principal=commission, data=_course()).unwrap()
    doctor = town.who(session, "doctor")
    own = flows.status(session=session, guard=town.guard, principal=doctor).unwrap()
    assert not own.training_ok and own.valid_until is None
    assert {c.course_code: c.state for c in own.courses} == {"deceased-data": "missing", "privacy-basics": "valid"}
    attested = flows.attest(session=session, guard=town.guard, principal=doctor).unwrap()
    assert attested.text_sha256 == service.rules_text().sha256 and attested.text_version == service.RULES_VERSION
    assert flows.status(session=session, guard=town.guard, principal=doctor).unwrap().attestation_current
    # ... but not a colleague's status, nor someone else's attestation version.
    other = flows.status(session=session, guard=town.guard, principal=doctor, account_id=town.ids["nurse"])
    assert isinstance(other.error, AccessDenied)
    wrong = flows.attest(session=session, guard=town.guard, principal=town.who(session, "nurse"), version="1999-1")
    assert isinstance(wrong.error, InputError)


def test_reminders_list_the_organisation_s_expiring_training(session: Session, town: Town) -> None:
    officer = town.who(session, "officer")
    commission = town.who(session, "commission")
    flows.add_course(session=session, guard=town.guard, principal=commission, data=_course(days=120)).unwrap()
    for key, ago in (("nurse", 100), ("doctor", 10)):
        flows.record_completion(
            session=session,
            guard=town.guard,
            principal=officer,
            data=CompletionIn(
                account_id=town.ids[key], course_code="deceased-data", score=90, completed_at=NOW - timedelta(days=ago)
            ),
        ).unwrap()
    found = flows.reminders(session=session, guard=town.guard, principal=officer, org_id=town.orgs["hosp"]).unwrap()
    # The officer never took the new course (listed first); the nurse's lapses in 20 days; the
    # doctor's (110 days) and everyone's privacy-basics (265 days) are outside the window.
    assert [(r.username, r.course_code, r.state, r.days_left) for r in found] == [
        ("sun.li", "deceased-data", "missing", None),
        ("li.na", "deceased-data", "expiring", 20),
    ]
    wide = flows.reminders(
        session=session, guard=town.guard, principal=officer, org_id=town.orgs["hosp"], days=120
    ).unwrap()
    assert [(r.username, r.days_left) for r in wide] == [("sun.li", None), ("li.na", 20), ("wang.fang", 110)]
    assert list(ledger.iter_events(session=session))[-1].action == "search"
    refused = flows.reminders(
        session=session, guard=town.guard, principal=town.who(session, "doctor"), org_id=town.orgs["hosp"]
    )
    assert isinstance(refused.error, AccessDenied)
    other = flows.reminders(
        session=session, guard=town.guard, principal=town.who(session, "outsider"), org_id=town.orgs["hosp"]
    )
    assert isinstance(other.error, AccessDenied)
    cover = service.coverage(session=session, at=NOW, org_ids=[town.orgs["hosp"]])
    assert (cover.trained, cover.staff) == (2, 3)  # the officer lacks the mandatory course
    cover = service.coverage(session=session, at=NOW + timedelta(days=21), org_ids=[town.orgs["hosp"]])
    assert (cover.trained, cover.staff) == (1, 3)
    # As of a moment before the course existed, only privacy-basics counted.
    cover = service.coverage(session=session, at=NOW - timedelta(days=1), org_ids=[town.orgs["hosp"]])
    assert (cover.trained, cover.staff) == (3, 3)


def test_a_course_can_require_the_rules_attestation(session: Session, town: Town) -> None:
    officer = town.who(session, "officer")
    course = CourseIn(
        code="deceased-data", title="Handling the deceased's data", mandatory=True, validity_days=180,
        requires_attestation=True, binds_from=NOW,
    )  # fmt: skip
    flows.add_course(session=session, guard=town.guard, principal=town.who(session, "commission"), data=course).unwrap()
    flows.record_completion(
        session=session,
        guard=town.guard,
        principal=officer,
        data=CompletionIn(account_id=town.ids["doctor"], course_code="deceased-data", score=90, completed_at=NOW),
    ).unwrap()
    # Course passed, rules not attested: the gate stays closed, and status and reminders say why.
    assert not _read(session, town)
    own = flows.status(session=session, guard=town.guard, principal=town.who(session, "doctor")).unwrap()
    assert {c.course_code: c.state for c in own.courses}["rules-attestation"] == "missing" and not own.training_ok
    reminders = flows.reminders(session=session, guard=town.guard, principal=officer, org_id=town.orgs["hosp"])
    assert ("wang.fang", "rules-attestation") in {(r.username, r.course_code) for r in reminders.unwrap()}
    flows.attest(session=session, guard=town.guard, principal=town.who(session, "doctor")).unwrap()
    assert _read(session, town)
    own = flows.status(session=session, guard=town.guard, principal=town.who(session, "doctor")).unwrap()
    assert own.training_ok and own.valid_until == NOW + timedelta(days=180)
    # The batch path (reports, reminders) agrees with the gate's single statement.
    cover = service.coverage(session=session, at=NOW, org_ids=[town.orgs["hosp"]])
    assert (cover.trained, cover.staff) == (1, 3)


def test_catalogue_rows_are_append_only(session: Session, town: Town) -> None:
    commission = town.who(session, "commission")
    flows.add_course(session=session, guard=town.guard, principal=commission, data=_course()).unwrap()
    row = session.query(TrainingCourse).one()
    row.validity_days = 9999
    with pytest.raises(ConflictError):
        session.flush()


def test_a_course_in_its_adoption_period_is_due_not_binding(session: Session, town: Town) -> None:
    commission, officer = town.who(session, "commission"), town.who(session, "officer")
    soon = CourseIn(
        code="deceased-data", title="Handling the deceased's data", mandatory=True, validity_days=180,
        binds_from=NOW + timedelta(days=10),
    )  # fmt: skip
    added = flows.add_course(session=session, guard=town.guard, principal=commission, data=soon).unwrap()
    assert added.binds_from == NOW + timedelta(days=10)
    event = list(ledger.iter_events(session=session))[-1]
    assert event.reason is not None and "binding from 2025-" in event.reason
    found = flows.reminders(session=session, guard=town.guard, principal=officer, org_id=town.orgs["hosp"]).unwrap()
    due = [(r.username, r.state, r.days_left) for r in found if r.course_code == "deceased-data"]
    assert sorted(due) == [("li.na", "due", 10), ("sun.li", "due", 10), ("wang.fang", "due", 10)]
    # Passed before it binds: no longer due. Coverage before it binds ignores it; after, counts it.
    flows.record_completion(
        session=session, guard=town.guard, principal=officer,
        data=CompletionIn(account_id=town.ids["doctor"], course_code="deceased-data", score=90, completed_at=NOW),
    ).unwrap()  # fmt: skip
    found = flows.reminders(session=session, guard=town.guard, principal=officer, org_id=town.orgs["hosp"]).unwrap()
    assert "wang.fang" not in [r.username for r in found if r.course_code == "deceased-data"]
    hosp = [town.orgs["hosp"]]
    assert service.coverage(session=session, at=NOW + timedelta(days=9), org_ids=hosp).trained == 3
    assert service.coverage(session=session, at=NOW + timedelta(days=11), org_ids=hosp).trained == 1
    status = service.status(session=session, account_id=town.ids["nurse"], at=NOW)
    assert status.training_ok and ("deceased-data", "due", 10) in [
        (line.course_code, line.state, line.days_left) for line in status.courses
    ]
    # Refused: a date in the past, and a binding date on an optional course.
    for bad in (
        soon.model_copy(update={"code": "backdated", "binds_from": NOW - timedelta(days=1)}),
        soon.model_copy(update={"code": "optional-one", "mandatory": False}),
    ):
        refused = flows.add_course(session=session, guard=town.guard, principal=commission, data=bad)
        assert isinstance(refused.error, InputError) and refused.error.where == "binds_from"
