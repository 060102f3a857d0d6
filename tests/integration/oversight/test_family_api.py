"""Close relatives' requests over HTTP on SQLite and PostgreSQL: roles, 422s naming the field, the
account and the copy as JSON and HTML, finality, and the evidence bundle."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url
from tests.integration.oversight.apisite import ApiSite

PHONE = "13912345678"
BASE = "/api/v1/oversight/family-requests"


@dataclass
class Site(ApiSite):
    """The app over a committed database, a privacy officer, a physician and one death report."""

    terminal: ClassVar[str] = "ws-3"

    def register(self, who: str = "officer", **overrides: Any) -> Any:
        body = {
            "report_id": self.ids["report"],
            "requester_name": "王小明",
            "relationship": "child",
            "proof": "ID card; household register",
        } | overrides
        return self.client.post(BASE, json=body, headers=self.h(who))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    load_all_models()
    tmp_path = tmp_path_factory.mktemp(request.param)
    for url in private_database_url(request.param, tmp_path, prefix="family_api"):
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
            hospital = records.create_organisation(
                session=db, name="闵行区中心医院", org_type="hospital", district="310112"
            )
            office = records.create_organisation(
                session=db, name="Health Commission", org_type="health_commission", district="310112"
            )
            for who, username, role, org in (
                ("officer", "sun.li", "privacy_officer", office.id),
                ("second", "zhou.min", "privacy_officer", office.id),
                ("physician", "wang.fang", "physician", hospital.id),
            ):
                site.add_person(
                    db,
                    secret=secret,
                    who=who,
                    username=username,
                    role=role,
                    org_id=org,
                    trained_at=now - timedelta(days=10),
                )
            report = records.create_report(
                session=db,
                hospital_org_id=hospital.id,
                subject_id="subj-api-1",
                name="李秀英",
                sex="female",
                death_time=now - timedelta(days=1),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
                relatives=[{"name": "王小明", "relationship": "儿子", "phone": PHONE}],
            )
            records.certify(session=db, report_id=report.id, certifier_id=site.ids["physician"], at=now)
            site.ids["report"] = report.id
        with site.client:
            yield site
        engine.dispose()


def test_register_answer_and_fetch_the_account(site: Site) -> None:
    read = site.client.get(
        f"/api/v1/death-reports/{site.ids['report']}", params={"purpose": "TREAT"}, headers=site.h("physician")
    )
    assert read.status_code == 200, read.text
    made = site.register()
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    assert made.json()["state"] == "received" and not made.json()["overdue"]
    answered = site.client.post(f"{BASE}/{request_id}/answer", headers=site.h("officer"))
    assert answered.status_code == 200, answered.text
    account = answered.json()
    assert account["format"] == "piguard-family-account/1"
    assert [(line["role"], line["action"]) for line in account["lines"]][:1] == [("physician", "read")]
    assert site.ids["physician"] not in answered.text and PHONE not in answered.text
    page = site.client.get(f"{BASE}/{request_id}/account", headers=site.h("officer"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and "李秀英" in page.text and site.ids["physician"] not in page.text
    english = site.client.get(f"{BASE}/{request_id}/account", params={"lang": "en"}, headers=site.h("officer"))
    assert "Account of accesses" in english.text and "访问记录告知书" in page.text
    assert (
        site.client.get(f"{BASE}/{request_id}/account", params={"lang": "fr"}, headers=site.h("officer")).status_code
        == 422
    )
    as_json = site.client.get(f"{BASE}/{request_id}/account", params={"format": "json"}, headers=site.h("officer"))
    assert as_json.json() == account
    assert site.client.get(f"{BASE}/{request_id}", headers=site.h("officer")).json()["state"] == "answered"
    again = site.client.post(f"{BASE}/{request_id}/answer", headers=site.h("officer"))
    assert again.status_code == 409 and "final" in again.json()["detail"]
    bundle = site.client.get(f"{BASE}/{request_id}/evidence", headers=site.h("officer"))
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = archive.namelist()
        assert f"family-request-{request_id}/entries.jsonl" in names


def test_other_roles_get_403_and_the_attempt_is_recorded(site: Site) -> None:
    refused = site.register(who="physician")
    assert refused.status_code == 403 and "no policy permits role 'physician'" in refused.json()["detail"]
    last = site.last_event()
    assert (last.outcome, last.resource_type, last.subject_id) == ("denied", "family_request", "subj-api-1")
    assert site.client.get(BASE, headers=site.h("physician")).status_code == 403


def test_bad_input_is_422_naming_the_field(site: Site) -> None:
    def field_of(response: Any) -> str:
        assert response.status_code == 422, response.text
        return str(response.json()["errors"][0]["field"])

    assert field_of(site.register(relationship="neighbour")) == "relationship"
    assert field_of(site.register(proof="")) == "proof"
    assert field_of(site.register(certificate_no="DC0123456789")) == "certificate_no"  # both named
    made = site.register().json()
    short = site.client.post(f"{BASE}/{made['id']}/refuse", json={"reason": "no"}, headers=site.h("officer"))
    assert field_of(short) == "reason"
    assert site.register(report_id="01JZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404
    listed = site.client.get(BASE, params={"state": "received"}, headers=site.h("officer"))
    assert made["id"] in [item["id"] for item in listed.json()["items"]]


def test_the_bundle_verifies(site: Site, tmp_path: Path) -> None:
    made = site.register().json()
    assert site.client.post(f"{BASE}/{made['id']}/answer", headers=site.h("officer")).status_code == 200
    bundle = site.client.get(f"{BASE}/{made['id']}/evidence", headers=site.h("officer"))
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        archive.extractall(tmp_path)
    assert evidence.verify_evidence(tmp_path / f"family-request-{made['id']}").entries >= 1


def test_two_officers_answering_at_once_cannot_both_issue_an_answer(site: Site) -> None:
    # Officer A has built and stored an answer but not yet committed when officer B starts to
    # answer the same request. B must wait for A and then be refused: an answer the family may
    # already hold is never overwritten (on SQLite, too, where plain reads take no lock).
    from piguard.errors import ConflictError
    from piguard.oversight.common import local_principal
    from piguard.oversight.family import service as family
    from piguard.oversight.family.models import FamilyRequest

    made = site.register().json()
    sessions = make_session_factory(site.engine)
    settings = site.client.app.state.settings
    a_ready, b_started = threading.Event(), threading.Event()
    issued: list[str] = []

    def officer_a() -> None:
        with sessions() as db, db.begin():
            ledger.bind_settings(db, settings)
            who = local_principal(session=db, username=site.usernames["officer"])
            account = family.answer(
                session=db, settings=settings, principal=who, at=datetime.now(UTC), request_id=made["id"]
            )
            issued.append(account.model_dump_json())
            a_ready.set()
            b_started.wait(10)
            time.sleep(0.3)  # B is now trying to answer too

    first = threading.Thread(target=officer_a)
    first.start()
    assert a_ready.wait(30)
    with sessions() as db, db.begin():
        ledger.bind_settings(db, settings)
        who = local_principal(session=db, username=site.usernames["officer"])
        b_started.set()
        with pytest.raises(ConflictError, match="already answered"):
            family.answer(session=db, settings=settings, principal=who, at=datetime.now(UTC), request_id=made["id"])
    first.join(30)
    with sessions() as check:
        row = check.get(FamilyRequest, made["id"])
        assert row is not None and row.answer is not None
        assert json.loads(row.answer) == json.loads(issued[0])  # A's answer stands


def test_a_copy_request_answers_with_the_copy_and_serves_it_again(site: Site, tmp_path: Path) -> None:
    made = site.register(kind="copy")
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    shown = site.client.get(f"{BASE}/{request_id}", headers=site.h("officer")).json()
    assert (shown["kind"], shown["state"]) == ("copy", "received")
    assert site.client.post(f"{BASE}/{request_id}/answer", headers=site.h("physician")).status_code == 403
    # Four eyes: the officer who registered a copy request does not issue the copy.
    same = site.client.post(f"{BASE}/{request_id}/answer", headers=site.h("officer"))
    assert same.status_code == 409 and "four eyes" in same.json()["detail"]
    answered = site.client.post(f"{BASE}/{request_id}/answer", headers=site.h("second"))
    assert answered.status_code == 200, answered.text
    copy = answered.json()
    assert copy["format"] == "piguard-family-copy/1" and copy["request_id"] == request_id
    assert set(copy["record"]) == {"context", "report_id", "deceased", "death", "certificate"}
    record = copy["record"]
    assert record["deceased"]["name"] == "李秀英" and record["certificate"]["institution"] == "闵行区中心医院"
    assert PHONE not in answered.text and "王小明" not in json.dumps(record, ensure_ascii=False)
    assert site.ids["physician"] not in answered.text
    # The officer answers an account request before printing the copy (which would make them conflicted).
    other = site.register().json()
    assert site.client.post(f"{BASE}/{other['id']}/answer", headers=site.h("officer")).status_code == 200
    no_copy = site.client.get(f"{BASE}/{other['id']}/copy", headers=site.h("officer"))
    assert no_copy.status_code == 409 and "account of accesses" in no_copy.json()["detail"]
    kept = site.client.get(f"{BASE}/{request_id}/copy", params={"format": "json"}, headers=site.h("officer"))
    assert kept.status_code == 200 and kept.json() == copy
    page = site.client.get(f"{BASE}/{request_id}/copy", headers=site.h("officer"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "个人信息副本" in page.text and "急性心肌梗死" in page.text and PHONE not in page.text
    assert 'filename="copy-' in page.headers["content-disposition"]
    english = site.client.get(f"{BASE}/{request_id}/copy", params={"lang": "en"}, headers=site.h("officer"))
    assert "Copy of the personal information" in english.text and PHONE not in english.text
    # A copy request has no account of accesses, and an account request no copy: 409 saying which it is.
    account = site.client.get(f"{BASE}/{request_id}/account", headers=site.h("officer"))
    assert account.status_code == 409 and "copy" in account.json()["detail"]
    assert site.client.get(f"{BASE}/{request_id}/copy", headers=site.h("physician")).status_code == 403
    again = site.client.post(f"{BASE}/{request_id}/answer", headers=site.h("officer"))
    assert again.status_code == 409 and "final" in again.json()["detail"]
    bundle = site.client.get(f"{BASE}/{request_id}/evidence", headers=site.h("officer"))
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        archive.extractall(tmp_path)
    assert evidence.verify_evidence(tmp_path / f"family-request-{request_id}").entries >= 2


def test_a_request_asks_for_the_account_unless_it_says_copy(site: Site) -> None:
    def field_of(response: Any) -> str:
        assert response.status_code == 422, response.text
        return str(response.json()["errors"][0]["field"])

    assert field_of(site.register(kind="photocopy")) == "kind"
    assert field_of(site.register(kind=None)) == "kind"
    made = site.register()
    assert made.status_code == 201 and made.json()["kind"] == "disclosures"
