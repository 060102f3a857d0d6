"""A correction that changes nothing is refused, and the correction history keeps the order of the changes
when two certifiers correct one report at once (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import InputError
from piguard.ledger import service as ledger
from piguard.records import service as records
from piguard.records import workflow_flows
from piguard.records.models import DeathReport, ReportCorrection
from tests.conftest import private_database_url
from tests.integration.api.conftest import Site
from tests.integration.api.conftest import site as site  # the fixture
from tests.integration.records.conftest import NOW, World

REASON = "the police investigation found a fall"
START = datetime.now(UTC)


def _history_count(session: Session, report_id: str) -> int:
    count = session.scalar(
        select(func.count()).select_from(ReportCorrection).where(ReportCorrection.report_id == report_id)
    )
    return int(count or 0)


def test_the_service_refuses_a_correction_to_the_value_already_held(session: Session, world: World) -> None:
    report = session.get(DeathReport, world.report_a)
    assert report is not None and report.manner == "natural"
    version, rows = report.version, _history_count(session, world.report_a)
    for field, value in (("manner", "natural"), ("name", f"  {report.name}  ")):  # normalised before comparing
        with pytest.raises(InputError, match="already has this value") as refused:
            records.correct_report(
                session=session,
                report_id=world.report_a,
                account_id="acc-cert",
                field=field,
                value=value,
                reason=REASON,
                at=NOW,
            )
        assert refused.value.where == "value" and refused.value.reason.startswith(f"{field}: ")
    session.refresh(report)
    assert (report.version, _history_count(session, world.report_a)) == (version, rows)


def test_the_flow_records_the_refused_no_op_correction(session: Session, world: World) -> None:
    before = ledger.count(session=session)
    outcome = workflow_flows.correct_report(
        session=session,
        guard=world.at(NOW),
        principal=world.people["certifier"],
        report_id=world.report_a,
        field="manner",
        value="natural",
        reason=REASON,
    )
    assert isinstance(outcome.error, InputError) and "manner: already has this value" in str(outcome.error)
    events = list(ledger.iter_events(session=session))
    assert len(events) == before + 1
    last = events[-1]
    assert (last.outcome, last.action, last.resource_id, last.user_id) == (
        "denied",
        "update",
        world.report_a,
        "acc-cert",
    )
    assert _history_count(session, world.report_a) == 0
    # A real change goes through afterwards.
    changed = workflow_flows.correct_report(
        session=session,
        guard=world.at(NOW + timedelta(seconds=1)),
        principal=world.people["certifier"],
        report_id=world.report_a,
        field="manner",
        value="accident",
        reason=REASON,
    )
    assert changed.error is None and _history_count(session, world.report_a) == 1


def test_the_api_answers_422_naming_the_field_and_changes_nothing(site: Site) -> None:
    def stored() -> tuple[int, int]:
        with make_session_factory(site.engine)() as db:
            report = db.get(DeathReport, site.ids["report"])
            assert report is not None
            return report.version, _history_count(db, report.id)

    before = stored()
    response = site.client.post(
        f"/api/v1/death-reports/{site.ids['report']}/corrections",
        json={"field": "manner", "value": "natural", "reason": REASON},
        headers=site.token("certifier"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "value", "reason": "manner: already has this value"}]
    assert site.last_event().outcome == "denied"
    assert stored() == before


@pytest.fixture(params=["sqlite", "postgresql"])
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A committed database with one certified report (manner natural); the engine and the report id."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="correction_order"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as db, db.begin():
            hospital = records.create_organisation(session=db, name="H", org_type="hospital", district="310112")
            report = records.create_report(
                session=db,
                hospital_org_id=hospital.id,
                subject_id="subj-order",
                name="李秀英",
                sex="female",
                death_time=START - timedelta(days=1),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            )
            records.certify(session=db, report_id=report.id, certifier_id="acc-cert", at=START - timedelta(hours=2))
            report_id = report.id
        yield engine, report_id
        engine.dispose()


def test_a_correction_waiting_for_the_lock_comes_after_the_one_it_waited_for(
    committed: tuple[Engine, str],
) -> None:
    engine, report_id = committed
    sessions = make_session_factory(engine)
    a_ready, b_started = threading.Event(), threading.Event()

    def certifier_a() -> None:
        with sessions() as db, db.begin():
            records.correct_report(
                session=db,
                report_id=report_id,
                account_id="acc-a",
                field="manner",
                value="accident",
                reason=REASON,
                at=START + timedelta(seconds=10),
            )
            db.flush()
            a_ready.set()
            b_started.wait(10)
            time.sleep(0.3)  # certifier B is waiting for the report's lock now

    first = threading.Thread(target=certifier_a)
    first.start()
    assert a_ready.wait(30)
    with sessions() as db, db.begin():
        b_started.set()
        # B's time was read before A committed, so it is earlier than A's.
        records.correct_report(
            session=db,
            report_id=report_id,
            account_id="acc-b",
            field="manner",
            value="suicide",
            reason=REASON,
            at=START + timedelta(seconds=5),
        )
    first.join(30)
    with sessions() as db:
        history = records.correction_history(session=db, report_id=report_id)
        report = db.get(DeathReport, report_id)
    assert report is not None and (report.manner, report.version) == ("suicide", 3)
    chain = [(row.account_id, row.old_value, row.new_value) for row in history if row.field == "manner"]
    assert chain == [("acc-a", "natural", "accident"), ("acc-b", "accident", "suicide")]
    times = [row.at for row in history]
    assert times == sorted(times) and len(set(times)) == len(times)
    # Each row's old value is the value the one before it left.
    assert all(before[2] == after[1] for before, after in pairwise(chain))
