"""Monthly privacy reports on SQLite and PostgreSQL: the numbers against data made here, the
role checks, the export event, and byte-identical HTML and PDF from the same data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccessDenied, InputError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.oversight.cases.models import CaseEvent, Disposition, DispositionDecision, OversightCase
from piguard.oversight.common import local_principal
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.inspections.models import Recommendation, RectificationItem
from piguard.oversight.reports import flows
from piguard.policy.pdp import default_engine
from piguard.records import service as records
from piguard.records.guard import Guard

MONTH = "2025-03"
NOW = datetime(2025, 4, 5, 10, 0, tzinfo=UTC)
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def day(d: int, month: int = 3, hour: int = 10) -> datetime:
    return datetime(2025, month, d, hour, tzinfo=UTC)


@dataclass
class City:
    guard: Guard
    orgs: dict[str, str]
    ids: dict[str, str]

    def who(self, session: Session, key: str) -> Principal:
        return local_principal(
            session=session, username=identity.get_account(session=session, account_id=self.ids[key]).username
        )


def _event(
    user: str, org: str, at: datetime, *, action: str = "read", outcome: str = "allowed", reason: str = ""
) -> AccessEvent:
    return AccessEvent(
        event_id=new_id(),
        time=at,
        user_id=user,
        role="physician",
        org_id=org,
        action=action,
        resource_type="death_report",
        resource_id="r1",
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason or None,
        purpose="TREAT",
    )


def _journal(actor: str, at: datetime) -> dict[str, object]:
    return {"created_by": actor, "created_at": at, "ledger_event_id": new_id(), "digest": "0" * 64}


def _case(
    session: Session, *, org: str, actor: str, source: str, opened: datetime, states: list[tuple[str, datetime]]
) -> str:
    case = OversightCase(
        title="case",
        source=source,
        org_id=org,
        opened_by=actor,
        opened_at=opened,
        assignee_id=actor,
        state=states[-1][0] if states else "open",
    )
    session.add(case)
    session.flush()
    previous = None
    for seq, (state, at) in enumerate([("open", opened), *states], start=1):
        session.add(
            CaseEvent(
                case_id=case.id,
                seq=seq,
                kind="opened" if seq == 1 else "transition",
                from_state=previous,
                to_state=state,
                reason="test",
                actor_id=actor,
                at=at,
                ledger_event_id=new_id(),
                digest="0" * 64,
            )
        )
        previous = state
    session.flush()
    return case.id


@pytest.fixture
def city(session: Session, tmp_path_factory: pytest.TempPathFactory) -> City:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    orgs = {
        key: records.create_organisation(session=session, name=f"org {key}", org_type=kind, district="310112").id
        for key, kind in (("hosp", "hospital"), ("other", "hospital"), ("hc", "health_commission"))
    }
    ids = {}
    for key, username, role, org, until in (
        ("officer", "sun.li", "privacy_officer", "hosp", datetime(2026, 1, 1, tzinfo=UTC)),
        ("doctor", "wang.fang", "physician", "hosp", datetime(2026, 1, 1, tzinfo=UTC)),
        ("nurse", "li.na", "nurse", "hosp", day(10)),  # lapses in the middle of the month
        ("other_officer", "zhao.lei", "privacy_officer", "other", datetime(2026, 1, 1, tzinfo=UTC)),
        ("commission", "qian.hao", "privacy_officer", "hc", datetime(2026, 1, 1, tzinfo=UTC)),
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
            now=CREATED,
        )
        ids[key] = made.account.id
        identity.record_training(
            session=session,
            account_id=made.account.id,
            course_code="privacy-basics",
            score=90,
            completed_at=datetime(2025, 1, 2, tzinfo=UTC),
            now=datetime(2025, 1, 2, tzinfo=UTC),  # entered when taken
            valid_until=until,
        )
    hosp, other, doctor = orgs["hosp"], orgs["other"], ids["doctor"]
    # Months are Beijing months: 16:30 UTC on 28 February is already 1 March there.
    events = [_event(doctor, hosp, at) for at in (datetime(2025, 2, 28, 16, 30, tzinfo=UTC), day(1), day(2), day(15))]
    events += [_event(doctor, hosp, datetime(2025, 3, 31, 15, 59, tzinfo=UTC))]  # 23:59 on 31 March in Beijing
    events += [
        _event(doctor, hosp, day(3), outcome="denied", reason="training-gate: mandatory privacy training has lapsed")
    ]
    events += [_event(doctor, hosp, day(3, hour=11), outcome="denied", reason="no task relationship")]
    events += [_event(doctor, hosp, day(4), action="breakglass")]
    events += [_event("x", other, day(d)) for d in (5, 6, 7)]
    # Outside the month in Beijing: 23:59 on 28 February, 00:00 on 1 April.
    events += [
        _event(doctor, hosp, datetime(2025, 2, 28, 15, 59, tzinfo=UTC)),
        _event(doctor, hosp, datetime(2025, 3, 31, 16, 0, tzinfo=UTC)),
    ]
    ledger.append_many(session=session, events=sorted(events, key=lambda e: e.time))
    officer = ids["officer"]
    first = _case(
        session,
        org=hosp,
        actor=officer,
        source="alert",
        opened=day(5),
        states=[("investigating", day(6)), ("substantiated", day(20))],
    )
    _case(
        session,
        org=hosp,
        actor=officer,
        source="complaint",
        opened=day(10),
        states=[("investigating", day(11)), ("unsubstantiated", day(24)), ("closed", day(25))],
    )
    _case(session, org=hosp, actor=officer, source="alert", opened=day(2, month=4), states=[])
    _case(session, org=other, actor=officer, source="manual", opened=day(12), states=[])
    disposition = Disposition(
        case_id=first,
        kind="warning",
        target_user_id=doctor,
        effective_date=date(2025, 3, 21),
        authority="hospital",
        reason="test",
        proposed_by=officer,
        proposed_at=day(20),
    )
    session.add(disposition)
    session.flush()
    session.add(
        DispositionDecision(
            disposition_id=disposition.id,
            decision="approved",
            decided_by=ids["commission"],
            decided_at=day(21),
            reason="agreed",
        )
    )
    recommendation = Recommendation(
        source="procuratorial_recommendation",
        reference_no="闵检建〔2025〕3号",
        issuing_authority="procuratorate",
        issued_on=date(2025, 2, 1),
        text="rectify",
        org_id=hosp,
        **_journal(officer, day(1, month=2)),
    )
    session.add(recommendation)
    session.flush()
    for seq, owner, responsible, deadline in (
        (1, hosp, officer, day(15)),
        (2, hosp, officer, day(1, month=5)),
        (3, other, ids["other_officer"], day(16)),
    ):
        session.add(
            RectificationItem(
                recommendation_id=recommendation.id,
                seq=seq,
                description=f"item {seq}",
                owner_org_id=owner,
                responsible_id=responsible,
                deadline=deadline,
                required_evidence="a document",
                **_journal(officer, day(1, month=2) + timedelta(minutes=seq)),
            )
        )
    session.flush()
    _family_requests(session, orgs, officer)
    guard = Guard(engine=default_engine(), settings=settings, secret=b"s" * 32, now=NOW)
    return City(guard, orgs, ids)


def _family_requests(session: Session, orgs: dict[str, str], officer: str) -> None:
    """Relatives' requests about the hospital's records and one about the other hospital's."""
    reports = {}
    for key, org in (("hosp", orgs["hosp"]), ("other", orgs["other"])):
        reports[key] = records.create_report(
            session=session,
            hospital_org_id=org,
            subject_id=f"subj-{key}",
            name="李秀英",
            sex="female",
            death_time=day(1, month=1),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        )
    session.flush()
    for key, received, state, decided in (
        ("hosp", day(2), "answered", day(10)),  # answered in the month
        ("hosp", day(20, month=1), "received", None),  # overdue since February
        ("hosp", day(5), "refused", day(6)),
        ("hosp", day(1, month=2), "answered", day(2, month=4)),  # answered late: overdue at the month's end
        ("other", day(3), "received", None),  # another hospital's record, due in April
    ):
        report = reports[key]
        session.add(
            FamilyRequest(
                report_id=report.id,
                subject_id=report.subject_id,
                requester_name="王小明",
                relationship="child",
                proof="ID card",
                received_by=officer,
                received_at=received,
                due_at=received + timedelta(days=30),
                state=state,
                decided_by=officer if decided else None,
                decided_at=decided,
            )
        )
    session.flush()


def test_the_numbers_match_the_data(session: Session, city: City) -> None:
    officer = city.who(session, "officer")
    report = flows.monthly_report(
        session=session, guard=city.guard, principal=officer, org_id=city.orgs["hosp"], month=MONTH
    ).unwrap()
    d = report.data
    assert (d.accesses, d.denials, d.breakglass) == (5, 2, 1)
    assert [(day_, a, n) for day_, a, n in d.daily if a or n] == [
        (1, 2, 0),
        (2, 1, 0),
        (3, 0, 2),
        (15, 1, 0),
        (31, 1, 0),
    ]
    assert len(d.daily) == 31
    assert d.denial_reasons == [
        ("no task relationship", 1),
        ("training-gate: mandatory privacy training has lapsed", 1),
    ]
    assert d.breakglass_users == [(city.ids["doctor"], 1)]
    assert (d.alerts_source, d.alerts) == ("cases", 1)
    assert (d.cases_opened, d.cases_closed) == (2, 1)
    assert d.cases_by_state == [("closed", 1), ("substantiated", 1)]
    assert d.dispositions == [("warning", 1)]
    assert dict(d.rectification) == {"open": 1, "awaiting_review": 0, "rejected": 0, "overdue": 1, "verified": 0}
    assert [(o.seq, o.days_overdue) for o in d.overdue] == [(1, 16)]
    assert (d.trained, d.staff) == (2, 3)  # the nurse's training lapsed on 10 March
    # Relatives' requests as of the end of March (one answered in April counts as overdue then).
    assert (d.family_received, d.family_answered, d.family_refused, d.family_overdue) == (2, 1, 1, 2)
    assert b"Close relatives' requests" in report.content
    assert b"Monthly privacy report" in report.content and b"<svg" in report.content
    event = list(ledger.iter_events(session=session))[-1]
    assert (event.action, event.resource_type, event.outcome, event.user_id) == (
        "export",
        "privacy_report",
        "allowed",
        city.ids["officer"],
    )
    assert event.resource_id == f"{city.orgs['hosp']}:{MONTH}" and event.time == NOW


def test_the_city_report_is_the_commission_s(session: Session, city: City) -> None:
    refused = flows.monthly_report(
        session=session, guard=city.guard, principal=city.who(session, "officer"), org_id=None, month=MONTH
    )
    assert isinstance(refused.error, AccessDenied)
    assert list(ledger.iter_events(session=session))[-1].outcome == "denied"
    report = flows.monthly_report(
        session=session, guard=city.guard, principal=city.who(session, "commission"), org_id=None, month=MONTH
    ).unwrap()
    d = report.data
    assert (d.accesses, d.denials, d.breakglass, d.cases_opened) == (8, 2, 1, 3)
    assert [(o.seq, o.owner_org) for o in d.overdue] == [(1, "org hosp"), (3, "org other")]
    assert (d.trained, d.staff) == (4, 5)
    assert d.training_by_org == [("org hc", 1, 1), ("org hosp", 2, 3), ("org other", 1, 1)]
    assert (d.family_received, d.family_answered, d.family_refused, d.family_overdue) == (3, 1, 1, 2)
    # ... and every organisation's, but not for the doctor or another hospital's officer.
    for who in ("commission",):
        assert (
            flows.monthly_report(
                session=session,
                guard=city.guard,
                principal=city.who(session, who),
                org_id=city.orgs["hosp"],
                month=MONTH,
            ).error
            is None
        )
    for who in ("doctor", "other_officer"):
        outcome = flows.monthly_report(
            session=session, guard=city.guard, principal=city.who(session, who), org_id=city.orgs["hosp"], month=MONTH
        )
        assert isinstance(outcome.error, AccessDenied)


def test_bad_input_is_refused_with_the_field(session: Session, city: City) -> None:
    officer = city.who(session, "officer")
    for month, fmt in (("2025-13", "html"), ("March", "html"), ("2025-05", "html"), (MONTH, "docx")):
        outcome = flows.monthly_report(
            session=session, guard=city.guard, principal=officer, org_id=city.orgs["hosp"], month=month, fmt=fmt
        )
        assert isinstance(outcome.error, InputError)
        assert outcome.error.where == ("format" if fmt == "docx" else "month")


def test_alerts_come_from_a_detection_file_when_given(session: Session, city: City, tmp_path: Path) -> None:
    def alert(alert_id: str, user: str, first: datetime, severity: str) -> dict[str, object]:
        return {
            "alert_id": alert_id,
            "user_id": user,
            "score": 0.9,
            "severity": severity,
            "first_event_time": first.isoformat(),
            "last_event_time": first.isoformat(),
            "reasons": [],
        }

    path = tmp_path / "alerts.json"
    path.write_text(
        json.dumps(
            {
                "generated_at": NOW.isoformat(),
                "engine": "duckdb",
                "events_read": 10,
                "explained_fraction": 0.9,
                "alerts": [
                    alert("a1", city.ids["doctor"], day(3), "high"),
                    alert("a2", city.ids["nurse"], day(9), "medium"),
                    alert("a3", city.ids["doctor"], day(2, month=4), "high"),  # next month
                    alert("a4", city.ids["other_officer"], day(9), "low"),  # another organisation
                ],
            }
        ),
        encoding="utf-8",
    )
    d = (
        flows.monthly_report(
            session=session,
            guard=city.guard,
            principal=city.who(session, "officer"),
            org_id=city.orgs["hosp"],
            month=MONTH,
            alerts_file=path,
        )
        .unwrap()
        .data
    )
    assert (d.alerts_source, d.alerts, d.alerts_by_severity) == ("file", 2, [("high", 1), ("medium", 1)])


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_same_data_same_bytes(session: Session, city: City, fmt: str) -> None:
    officer = city.who(session, "officer")
    runs = []
    for hours in (0, 30):  # later runs see more ledger events (the earlier exports), all after the month
        guard = Guard(
            engine=city.guard.engine, settings=city.guard.settings, secret=b"s" * 32, now=NOW + timedelta(hours=hours)
        )
        runs.append(
            flows.monthly_report(
                session=session, guard=guard, principal=officer, org_id=city.orgs["hosp"], month=MONTH, fmt=fmt
            )
            .unwrap()
            .content
        )
    assert runs[0] == runs[1]
    assert runs[0].startswith(b"%PDF" if fmt == "pdf" else b"<!doctype html>")
    if fmt == "pdf":
        assert b"D:20250401" in runs[0]  # the creation date is the end of the report month
