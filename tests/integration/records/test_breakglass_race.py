"""Two break-glass requests for one record by one person at the same moment, on SQLite and
PostgreSQL (committed transactions on their own connections): one grant, one 409."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import ConflictError
from piguard.identity import service as identity
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.oversight.common import local_principal
from piguard.policy.models import BreakGlassGrant
from piguard.policy.pdp import default_engine
from piguard.records import service as records
from piguard.records import support_flows
from piguard.records.guard import Guard, Guarded
from tests.conftest import private_database_url

NOW = datetime.now(UTC)
REASON = "patient arrived in arrest; need prior cardiac history now"


@dataclass
class Site:
    engine: Engine
    settings: Settings
    report_id: str


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="glass_race"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as db, db.begin():
            ledger.bind_settings(db, settings)
            mine = records.create_organisation(session=db, name="A", org_type="hospital", district="310112")
            theirs = records.create_organisation(session=db, name="B", org_type="hospital", district="310112")
            doctor = identity.create_account(
                session=db, secret=b"s" * 32, username="wang.fang", display_name="W", role="physician",
                org_id=mine.id, password="correct horse battery", demo=True, now=NOW - timedelta(days=30),
            ).account.id  # fmt: skip
            identity.record_training(
                session=db, account_id=doctor, course_code="privacy-basics", score=90,
                completed_at=NOW - timedelta(days=10), now=NOW - timedelta(days=10),
            )  # fmt: skip
            report = records.create_report(
                session=db, hospital_org_id=theirs.id, subject_id="subj-race", name="李秀英", sex="female",
                death_time=NOW - timedelta(days=1), place_of_death="hospital", district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            )  # fmt: skip
            records.certify(session=db, report_id=report.id, certifier_id="acc-cert", at=NOW - timedelta(hours=2))
            report_id = report.id
        yield Site(engine, settings, report_id)
        engine.dispose()


def _request(site: Site, session: Session) -> Guarded[support_flows.GrantInfo]:
    guard = Guard(engine=default_engine(), settings=site.settings, secret=b"s" * 32, now=NOW)
    ledger.bind_settings(session, site.settings)
    principal = local_principal(session=session, username="wang.fang")
    return support_flows.request_breakglass(
        session=session, guard=guard, principal=principal, report_id=site.report_id, purpose="BTG", reason=REASON
    )


def test_two_requests_at_once_make_one_grant(site: Site) -> None:
    sessions = make_session_factory(site.engine)
    first_granted, results = threading.Event(), {}

    def first() -> None:
        with sessions() as db, db.begin():
            results["first"] = _request(site, db)
            first_granted.set()
            threading.Event().wait(0.5)  # the second request arrives while this one is uncommitted

    thread = threading.Thread(target=first)
    thread.start()
    assert first_granted.wait(30)
    with sessions() as db, db.begin():
        results["second"] = _request(site, db)
    thread.join(30)
    assert results["first"].error is None
    assert isinstance(results["second"].error, ConflictError), results["second"].error
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(BreakGlassGrant)) == 1
