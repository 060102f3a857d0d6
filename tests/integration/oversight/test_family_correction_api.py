"""Close relatives' correction and deletion requests over HTTP on SQLite and PostgreSQL: the certifier's routes,
422s naming the field, 403s for everyone else, the letters as JSON and HTML, and four eyes on deletion."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from piguard.records.models import DeathReport, Relative
from tests.conftest import private_database_url
from tests.integration.oversight.apisite import ApiSite

PHONE = "13912345678"
ADDRESS = "上海市闵行区莘庄镇七莘路99号"
BASE = "/api/v1/oversight/family-requests"
WHY = "the household register shows another spelling"


@dataclass
class Site(ApiSite):
    """The app over a committed database: two privacy officers, the certifier, a colleague, two reports."""

    terminal: ClassVar[str] = "ws-5"

    def register(self, who: str = "officer", report: str = "report", **overrides: Any) -> Any:
        body = {
            "report_id": self.ids[report],
            "requester_name": "王小明",
            "relationship": "child",
            "proof": "ID card; household register",
        } | overrides
        return self.client.post(BASE, json=body, headers=self.h(who))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    load_all_models()
    tmp_path = tmp_path_factory.mktemp(request.param)
    for url in private_database_url(request.param, tmp_path, prefix="family_fix"):
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
                ("colleague", "li.na", "physician", hospital.id),
            ):
                trained = now - timedelta(days=10)
                site.add_person(
                    db, secret=secret, who=who, username=username, role=role, org_id=org, trained_at=trained
                )
            for key, subject in (("report", "subj-fix-1"), ("erase", "subj-fix-2")):
                report = records.create_report(
                    session=db,
                    hospital_org_id=hospital.id,
                    subject_id=subject,
                    name="李秀英",
                    sex="female",
                    death_time=now - timedelta(days=1),
                    place_of_death="hospital",
                    district="310112",
                    part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
                    relatives=[{"name": "王小明", "relationship": "儿子", "phone": PHONE, "address": ADDRESS}],
                )
                records.certify(session=db, report_id=report.id, certifier_id=site.ids["physician"], at=now)
                site.ids[key] = report.id
            records.issue_parts(session=db, report_id=site.ids["erase"], at=now)
        with site.client:
            yield site
        engine.dispose()


def _field_of(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["errors"][0]["field"])


def test_a_correction_request_is_decided_by_the_certifier_and_answered_with_a_letter(site: Site) -> None:
    made = site.register(
        kind="correction",
        corrections=[
            {"field": "name", "value": "李秀瑛", "reason": WHY},
            {"field": "manner", "value": "accident", "reason": "she fell at home, the family says"},
        ],
    )
    assert made.status_code == 201, made.text
    request = made.json()
    rid = request["id"]
    assert [(i["position"], i["field"], i["outcome"]) for i in request["items"]] == [
        (1, "name", "pending"),
        (2, "manner", "pending"),
    ]
    referred = site.client.get("/api/v1/oversight/family-referrals", headers=site.h("physician"))
    assert referred.status_code == 200 and rid in [r["request_id"] for r in referred.json()["items"]]
    assert site.client.get("/api/v1/oversight/family-referrals", headers=site.h("officer")).status_code == 403
    review = site.client.get(f"{BASE}/{rid}/review", headers=site.h("physician"))
    assert review.status_code == 200 and review.json()["context"] == "family_correction"
    assert "requester_name" not in review.json() and "王小明" not in review.text
    for who in ("colleague", "officer"):  # not the certifier
        assert site.client.get(f"{BASE}/{rid}/review", headers=site.h(who)).status_code == 403
        denied = site.client.post(
            f"{BASE}/{rid}/decisions",
            json={"item": 1, "decision": "correct", "reason": "I checked it"},
            headers=site.h(who),
        )
        assert denied.status_code == 403, who
        last = site.last_event()
        assert (last.outcome, last.resource_id, last.subject_id) == ("denied", rid, "subj-fix-1")
    corrected = site.client.post(
        f"{BASE}/{rid}/decisions",
        json={"item": 1, "decision": "correct", "reason": "matches the household register"},
        headers=site.h("physician"),
    )
    assert corrected.status_code == 200 and corrected.json()["outcome"] == "corrected"
    with make_session_factory(site.engine)() as db:
        report = db.get(DeathReport, site.ids["report"])
        assert report is not None and report.name == "李秀瑛"
    short = site.client.post(
        f"{BASE}/{rid}/decisions",
        json={"item": 2, "decision": "decline", "reason": "my judgement"},
        headers=site.h("physician"),
    )
    assert _field_of(short) == "reason"
    early = site.client.post(f"{BASE}/{rid}/answer", headers=site.h("officer"))
    assert early.status_code == 409 and "item 2 (manner)" in early.json()["detail"]
    declined = site.client.post(
        f"{BASE}/{rid}/decisions",
        json={"item": 2, "decision": "decline", "reason": "the manner of death is my medical judgement"},
        headers=site.h("physician"),
    )
    assert declined.status_code == 200 and declined.json()["outcome"] == "declined"
    answered = site.client.post(f"{BASE}/{rid}/answer", headers=site.h("officer"))
    assert answered.status_code == 200, answered.text
    letter = answered.json()
    assert letter["format"] == "piguard-family-correction/1"
    assert [(i["field"], i["outcome"]) for i in letter["items"]] == [("name", "corrected"), ("manner", "declined")]
    assert "accident" not in answered.text and PHONE not in answered.text
    kept = site.client.get(f"{BASE}/{rid}/letter", params={"format": "json"}, headers=site.h("second"))
    assert kept.status_code == 200 and kept.json() == letter
    page = site.client.get(f"{BASE}/{rid}/letter", params={"lang": "en"}, headers=site.h("second"))
    assert page.headers["content-type"].startswith("text/html") and "medical judgement" in page.text
    assert 'filename="letter-' in page.headers["content-disposition"]
    account = site.client.get(f"{BASE}/{rid}/account", headers=site.h("officer"))
    assert account.status_code == 409 and "correction request" in account.json()["detail"]
    late = site.client.post(
        f"{BASE}/{rid}/decisions",
        json={"item": 2, "decision": "correct", "reason": "on reflection"},
        headers=site.h("physician"),
    )
    assert late.status_code == 403  # the referral ended with the answer
    bundle = site.client.get(f"{BASE}/{rid}/evidence", headers=site.h("officer"))
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        entries = archive.read(f"family-request-{rid}/entries.jsonl").decode().splitlines()
    # registered, two decisions, the answer, ... and the correction the request made (its reason cites it)
    assert len(entries) >= 5 and all(rid in line for line in entries)
    assert any("report.name" in line and "workflow:correct_report" in line for line in entries)


def test_bad_correction_input_is_422_naming_the_field(site: Site) -> None:
    def item(field: str, value: str | None = "x") -> dict[str, Any]:
        return {"kind": "correction", "corrections": [{"field": field, "value": value, "reason": WHY}]}

    for field, why in (("part1", "medical opinion"), ("relatives", "their own"), ("death_time", "reissue")):
        response = site.register(**item(field))
        assert _field_of(response) == "corrections.0.field" and why in response.json()["errors"][0]["reason"]
    invalid = site.register(**item("id_number", "110105194912310021"))
    assert _field_of(invalid) == "corrections.0.value" and "110105" not in invalid.text
    assert _field_of(site.register(**item("sex", "woman"))) == "corrections.0.value"
    assert _field_of(site.register(kind="correction")) == "corrections"
    assert _field_of(site.register(kind="deletion", erase=["everything"])) == "erase.0"
    made = site.register(kind="correction", corrections=[{"field": "name", "value": "李秀英", "reason": WHY}]).json()
    zero = site.client.post(
        f"{BASE}/{made['id']}/decisions", json={"item": 0, "decision": "correct", "reason": "x" * 12},
        headers=site.h("physician"),
    )  # fmt: skip
    assert _field_of(zero) == "item"
    wrong = site.client.post(
        f"{BASE}/{made['id']}/decisions", json={"item": 1, "decision": "maybe", "reason": "x" * 12},
        headers=site.h("physician"),
    )  # fmt: skip
    assert _field_of(wrong) == "decision"
    missing = site.client.post(
        f"{BASE}/{made['id']}/decisions",
        json={"item": 5, "decision": "correct", "reason": "x" * 12},
        headers=site.h("physician"),
    )
    assert missing.status_code == 404


def test_a_deletion_request_keeps_the_report_and_deletes_the_contacts_with_four_eyes(site: Site) -> None:
    made = site.register(report="erase", kind="deletion", erase=["report", "relative_contacts"])
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    same = site.client.post(f"{BASE}/{rid}/answer", headers=site.h("officer"))
    assert same.status_code == 409 and "four eyes" in same.json()["detail"]
    assert site.client.post(f"{BASE}/{rid}/answer", headers=site.h("physician")).status_code == 403
    answered = site.client.post(f"{BASE}/{rid}/answer", headers=site.h("second"))
    assert answered.status_code == 200, answered.text
    letter = answered.json()
    assert letter["format"] == "piguard-family-deletion/1"
    assert [(i["field"], i["outcome"]) for i in letter["items"]] == [
        ("report", "kept"),
        ("relative_contacts", "deleted"),
    ]
    assert "Article 47(2)" in letter["items"][0]["reason"]
    assert PHONE not in answered.text and ADDRESS not in answered.text
    with make_session_factory(site.engine)() as db:
        relative = db.query(Relative).filter(Relative.report_id == site.ids["erase"]).one()
        assert (relative.name, relative.phone, relative.address) == ("王小明", None, None)
    page = site.client.get(f"{BASE}/{rid}/letter", headers=site.h("officer"))
    assert page.status_code == 200 and "国卫规划发" in page.text and "已删除" in page.text and PHONE not in page.text
    shown = site.client.get(f"{BASE}/{rid}", headers=site.h("officer")).json()
    assert [i["outcome"] for i in shown["items"]] == ["kept", "deleted"] and shown["state"] == "answered"
