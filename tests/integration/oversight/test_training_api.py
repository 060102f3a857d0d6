"""Training over HTTP on SQLite and PostgreSQL: roles through the policy, one's own status, the
gate closing on the real record route when a mandatory course is added, 422s naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url
from tests.integration.oversight.apisite import PASSWORD, ApiSite

BASE = "/api/v1/oversight/training"
PEOPLE = (
    ("officer", "sun.li", "privacy_officer", "hosp"),
    ("doctor", "wang.fang", "physician", "hosp"),
    ("nurse", "li.na", "nurse", "hosp"),
    ("outsider", "zhao.lei", "privacy_officer", "other"),
    ("commission", "qian.hao", "privacy_officer", "hc"),
)


@dataclass
class Site(ApiSite):
    """The app over a committed database, its people and one certified death report."""

    orgs: dict[str, str] = field(default_factory=dict)
    report: str = ""
    terminal: ClassVar[str] = "ws-7"


def build_site(backend: str, tmp_path_factory: pytest.TempPathFactory, prefix: str) -> Iterator[Site]:
    """A committed database with three organisations, five people (trained) and a certified report."""
    load_all_models()
    tmp_path = tmp_path_factory.mktemp(backend)
    for url in private_database_url(backend, tmp_path, prefix=prefix):
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
            site.orgs = {
                key: records.create_organisation(
                    session=db, name=f"org {key}", org_type=kind, district=district, level=level
                ).id
                for key, kind, district, level in (
                    ("hosp", "hospital", "310112", "district"),
                    ("other", "hospital", "310112", "district"),
                    ("hc", "health_commission", "310000", "municipal"),  # the city's commission
                )
            }
            for who, username, role, org in PEOPLE:
                made = identity.create_account(
                    session=db,
                    secret=secret,
                    username=username,
                    display_name=who,
                    role=role,
                    org_id=site.orgs[org],
                    password=PASSWORD,
                    demo=True,
                    now=now - timedelta(days=400),
                )
                site.ids[who], site.usernames[who] = made.account.id, made.account.username
                site.secrets[who] = made.totp_secret or ""
                identity.record_training(
                    session=db,
                    account_id=made.account.id,
                    course_code="privacy-basics",
                    score=90,
                    completed_at=now - timedelta(days=10 if who != "nurse" else 350),
                )
            report = records.create_report(
                session=db,
                hospital_org_id=site.orgs["hosp"],
                subject_id="subj-1",
                name="李秀英",
                sex="female",
                death_time=now - timedelta(days=1),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            )
            records.certify(
                session=db, report_id=report.id, certifier_id=site.ids["doctor"], at=now - timedelta(hours=20)
            )
            site.report = report.id
        yield site
        site.client.close()
        site.client.app.state.engine.dispose()  # type: ignore[attr-defined]  # no lifespan ran to dispose it
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from build_site(request.param, tmp_path_factory, "training_api")


def test_training_over_http(site: Site) -> None:
    client, h = site.client, site.h
    # Everyone reads the catalogue and their own status; nobody but officers changes anything.
    assert client.get(f"{BASE}/courses", headers=h("doctor")).json()["items"][0]["code"] == "privacy-basics"
    own = client.get(f"{BASE}/status", headers=h("nurse")).json()
    assert own["training_ok"] and own["courses"][0]["state"] == "expiring" and own["courses"][0]["days_left"] == 14
    course = {"code": "deceased-data", "title": "Handling the deceased's data", "mandatory": True, "validity_days": 180}
    refused = client.post(f"{BASE}/courses", json=course, headers=h("doctor"))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert site.last_event().outcome == "denied"
    assert client.get(f"{BASE}/status/{site.ids['nurse']}", headers=h("doctor")).status_code == 403
    assert client.get(f"{BASE}/status/{site.ids['nurse']}", headers=h("officer")).status_code == 200
    assert client.get(f"{BASE}/status/{site.ids['nurse']}", headers=h("outsider")).status_code == 403
    reminders = client.get(f"{BASE}/reminders/{site.orgs['hosp']}", headers=h("officer")).json()
    assert [(r["username"], r["state"]) for r in reminders["items"]] == [("li.na", "expiring")]
    assert client.get(f"{BASE}/reminders/{site.orgs['hosp']}", headers=h("commission")).status_code == 200
    assert client.get(f"{BASE}/reminders/{site.orgs['hosp']}", headers=h("outsider")).status_code == 403
    bad = client.post(f"{BASE}/courses", json={**course, "validity_days": 0}, headers=h("officer"))
    assert bad.status_code == 422 and "validity_days" in bad.text

    # The doctor reads the report they certified ...
    read = f"/api/v1/death-reports/{site.report}"
    assert client.get(read, params={"purpose": "TREAT"}, headers=h("doctor")).status_code == 200
    # ... until a new mandatory course is added that they have not taken: by the municipal health
    # commission only (a hospital's officer adds optional courses).
    hospital = client.post(f"{BASE}/courses", json=course, headers=h("officer"))
    assert hospital.status_code == 403 and hospital.json()["policy_ids"] == ["city-wide-course"]
    assert client.get(read, params={"purpose": "TREAT"}, headers=h("doctor")).status_code == 200
    # By default a new mandatory course binds after 30 days: until then it is due, and reads go on.
    soon = {**course, "code": "deceased-data-2027"}
    added = client.post(f"{BASE}/courses", json=soon, headers=h("commission"))
    assert added.status_code == 201, added.text
    binds = datetime.fromisoformat(added.json()["binds_from"])
    assert timedelta(days=29, hours=23) < binds - datetime.now(UTC) <= timedelta(days=30)
    assert client.get(read, params={"purpose": "TREAT"}, headers=h("doctor")).status_code == 200
    mine = client.get(f"{BASE}/status", headers=h("doctor")).json()
    assert mine["training_ok"] and {"course_code": "deceased-data-2027", "state": "due", "days_left": 29} in [
        {k: line[k] for k in ("course_code", "state", "days_left")} for line in mine["courses"]
    ]
    past = {**course, "code": "backdated", "binds_from": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    refused_past = client.post(f"{BASE}/courses", json=past, headers=h("commission"))
    assert refused_past.status_code == 422 and "binds_from" in refused_past.text
    # Bound at once (the commission's explicit choice), it closes the gate of those without it.
    now = {**course, "binds_from": datetime.now(UTC).isoformat()}
    assert client.post(f"{BASE}/courses", json=now, headers=h("commission")).status_code == 201
    assert site.last_event().resource_type == "training_course"
    gated = client.get(read, params={"purpose": "TREAT"}, headers=h("doctor"))
    assert gated.status_code == 403 and "training" in gated.text
    # The lapsed doctor still sees their status and attests; the officer records the course.
    assert not client.get(f"{BASE}/status", headers=h("doctor")).json()["training_ok"]
    rules = client.get(f"{BASE}/rules", headers=h("doctor")).json()
    attested = client.post(f"{BASE}/attestations", json={"version": rules["version"]}, headers=h("doctor"))
    assert attested.status_code == 201 and attested.json()["text_sha256"] == rules["sha256"]
    stale = client.post(f"{BASE}/attestations", json={"version": "2019-1"}, headers=h("doctor"))
    assert stale.status_code == 422 or stale.status_code == 400
    completion = {
        "account_id": site.ids["doctor"],
        "course_code": "deceased-data",
        "score": 91,
        "completed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }
    # The officer is locked out by the new course too, until the operator records theirs.
    assert client.post(f"{BASE}/completions", json=completion, headers=h("officer")).status_code == 403
    with make_session_factory(site.engine)() as db, db.begin():
        identity.record_training(
            session=db,
            account_id=site.ids["officer"],
            course_code="deceased-data",
            score=95,
            completed_at=datetime.now(UTC) - timedelta(hours=2),
        )
    done = client.post(f"{BASE}/completions", json=completion, headers=h("officer"))
    assert done.status_code == 201 and done.json()["pass_mark"] == 80
    assert site.last_event().resource_type == "training_completion"
    assert client.get(read, params={"purpose": "TREAT"}, headers=h("doctor")).status_code == 200
    future = {**completion, "completed_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    answer = client.post(f"{BASE}/completions", json=future, headers=h("officer"))
    assert answer.status_code in (400, 422) and "completed_at" in answer.text
