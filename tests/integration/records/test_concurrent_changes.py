"""Changes that depend on a row's state, made by two people at the same moment, on SQLite and
PostgreSQL (committed transactions on their own connections)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.locking import get_for_update
from piguard.db.registry import load_all_models
from piguard.errors import ConflictError
from piguard.records import service as records
from piguard.records.models import DeathReport, TaskRelationship
from tests.conftest import private_database_url

NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str, str, str]]:
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="present_race"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as db, db.begin():
            hospital = records.create_organisation(session=db, name="H", org_type="hospital", district="310112")
            home = records.create_organisation(session=db, name="F", org_type="funeral_home", district="310112")
            report = records.create_report(
                session=db,
                hospital_org_id=hospital.id,
                subject_id="subj-race",
                name="李秀英",
                sex="female",
                death_time=NOW - timedelta(days=1),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            )
            records.certify(session=db, report_id=report.id, certifier_id="acc-cert", at=NOW - timedelta(hours=2))
            codes = records.issue_parts(session=db, report_id=report.id, at=NOW - timedelta(hours=1))
            org = home.id
            report_id = report.id
        yield engine, codes["funeral"], org, report_id
        engine.dispose()


def test_get_for_update_waits_for_a_writer_and_reads_its_change(committed: tuple[Engine, str, str, str]) -> None:
    engine, _, _, report_id = committed
    sessions = make_session_factory(engine)
    a_ready, b_started = threading.Event(), threading.Event()

    def writer() -> None:
        with sessions() as db, db.begin():
            row = get_for_update(db, DeathReport, report_id)
            assert row is not None
            row.occupation = "retired teacher"
            db.flush()
            a_ready.set()
            b_started.wait(10)
            time.sleep(0.3)

    first = threading.Thread(target=writer)
    first.start()
    assert a_ready.wait(30)
    with sessions() as db, db.begin():
        stale = db.get(DeathReport, report_id)  # the session held the row before the writer committed
        assert stale is not None and stale.occupation is None
        b_started.set()
        fresh = get_for_update(db, DeathReport, report_id)
        assert fresh is stale and fresh.occupation == "retired teacher"
    first.join(30)
    with sessions() as db:
        assert get_for_update(db, DeathReport, "no-such-id") is None


def test_a_code_presented_twice_at_once_opens_the_record_once(committed: tuple[Engine, str, str, str]) -> None:
    engine, code, org, _ = committed
    sessions = make_session_factory(engine)
    a_ready, b_started = threading.Event(), threading.Event()

    def clerk_a() -> None:
        with sessions() as db, db.begin():
            records.present_code(session=db, code=code, account_id="clerk-a", role="funeral_clerk", org_id=org, at=NOW)
            a_ready.set()
            b_started.wait(10)
            time.sleep(0.3)  # clerk B is presenting the same code now

    first = threading.Thread(target=clerk_a)
    first.start()
    assert a_ready.wait(30)
    with sessions() as db, db.begin():
        b_started.set()
        with pytest.raises(ConflictError, match="already been presented"):
            records.present_code(session=db, code=code, account_id="clerk-b", role="funeral_clerk", org_id=org, at=NOW)
    first.join(30)
    with sessions() as db:
        holders = db.scalars(select(TaskRelationship.account_id).where(TaskRelationship.kind == "funeral")).all()
    assert holders == ["clerk-a"]
