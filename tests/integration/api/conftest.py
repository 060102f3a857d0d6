"""The real app over a committed SQLite or PostgreSQL database, with people, a report and a call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.identity import totp
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url

PASSWORD = "correct horse battery"
RELATIVE_PHONE = "13912345678"


@dataclass
class Site:
    """The app over a committed database, its people and records."""

    client: TestClient
    engine: Engine
    ids: dict[str, str] = field(default_factory=dict)
    totp: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    bridge_key: str = ""
    tokens: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def token(self, who: str, terminal: str = "ws-1") -> dict[str, str]:
        # A TOTP code is accepted once per step (replay protection), so each login is kept for the module.
        if (who, terminal) in self.tokens:
            return self.tokens[(who, terminal)]
        code = totp.code_at(self.totp[who], totp.step_of(datetime.now(UTC)))
        response = self.client.post(
            "/api/v1/auth/login",
            json={"username": self.usernames[who], "password": PASSWORD, "totp": code, "terminal_id": terminal},
        )
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}", "X-Terminal-Id": terminal}
        self.tokens[(who, terminal)] = headers
        return headers

    def events(self) -> int:
        with make_session_factory(self.engine)() as db:
            return ledger.count(session=db)

    def last_event(self) -> Any:
        with make_session_factory(self.engine)() as db:
            return list(ledger.iter_events(session=db))[-1]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One committed database per test module and backend: two hospitals, an emergency centre, the CDC."""
    load_all_models()
    tmp_path = tmp_path_factory.mktemp(request.param)
    for url in private_database_url(request.param, tmp_path, prefix="records_api"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        secret = load_secret(settings)
        site = Site(client=TestClient(create_app(settings)), engine=engine)
        now = datetime.now(UTC)
        with make_session_factory(engine)() as db, db.begin():
            ledger.bind_settings(db, settings)
            orgs = {
                key: records.create_organisation(session=db, name=key, org_type=kind, district="310112").id
                for key, kind in (("a", "hospital"), ("b", "hospital"), ("ec", "emergency_center"), ("cdc", "cdc"))
            }
            for who, username, role, org, kind in (
                ("certifier", "wang.fang", "physician", "a", "human"),
                ("broker", "chen.jie", "physician", "b", "human"),
                ("emt", "liu.yang", "emt", "ec", "human"),
                ("epi", "zhao.lei", "cdc_epidemiologist", "cdc", "human"),
                ("officer", "sun.li", "privacy_officer", "cdc", "human"),
                ("bridge", "svc-telephony", "service", "ec", "service"),
            ):
                made = identity.create_account(
                    session=db,
                    secret=secret,
                    username=username,
                    display_name=who,
                    role=role,
                    org_id=orgs[org],
                    password=PASSWORD if kind == "human" else None,
                    demo=True,
                    kind=kind,
                )
                site.ids[who], site.usernames[who] = made.account.id, made.account.username
                if kind == "human":
                    site.totp[who] = made.totp_secret or ""
                    identity.record_training(
                        session=db,
                        account_id=made.account.id,
                        course_code="privacy-basics",
                        score=90,
                        completed_at=now - timedelta(days=10),
                    )
            site.bridge_key = identity.create_api_key(
                session=db, account_id=site.ids["bridge"], scopes=["handles:resolve"]
            )
            report = records.create_report(
                session=db,
                hospital_org_id=orgs["a"],
                subject_id="subj-1",
                name="李秀英",
                sex="female",
                death_time=now - timedelta(days=1),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
                relatives=[{"name": "王小明", "relationship": "儿子", "phone": RELATIVE_PHONE}],
            )
            records.certify(
                session=db, report_id=report.id, certifier_id=site.ids["certifier"], at=now - timedelta(hours=20)
            )
            vehicle = records.create_vehicle(session=db, org_id=orgs["ec"], call_sign="MH1", terminal_id="mdt-1")
            call = records.create_dispatch(
                session=db,
                org_id=orgs["ec"],
                district="310112",
                priority="P1",
                pickup_address="莘庄镇某路1号",
                chief_complaint="胸痛",
                at=now - timedelta(minutes=5),
                patient_age=67,
                caller_phone="13787654321",
            )
            records.assign_crew(
                session=db, dispatch_id=call.id, vehicle_id=vehicle.id, crew_ids=[site.ids["emt"]], at=now
            )
            site.ids["report"], site.ids["call"] = report.id, call.id
            site.ids.update({f"org_{key}": org_id for key, org_id in orgs.items()})
        with site.client:
            yield site
        engine.dispose()
