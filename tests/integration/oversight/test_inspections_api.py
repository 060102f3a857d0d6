"""Inspections over HTTP on SQLite and PostgreSQL: roles (403 with the reason), 422 naming the field,
own-evidence refusal, overdue items for the health commission, spot checks to closure."""

from __future__ import annotations

import itertools
import time
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
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url
from tests.integration.oversight.apisite import ApiSite

BASE = "/api/v1/oversight"
DOC = "cd" * 32


REFERENCES = itertools.count(7)


@dataclass
class Site(ApiSite):
    """The app over a committed database, its people and a hospital's death reports."""

    terminal: ClassVar[str] = "ws-7"

    def recommend(
        self, who: str = "inspector", *, deadline: datetime | None = None, reference_no: str | None = None, **item: Any
    ) -> Any:
        body = {
            "source": "internal_audit",
            # One recommendation per reference number of an authority.
            "reference_no": reference_no or f"AUD-2025-{next(REFERENCES):03d}",
            "issuing_authority": "Hospital internal audit office",  # an internal audit names its organisation
            "issued_on": datetime.now(UTC).date().isoformat(),
            "text": "Ambulance terminals show relatives' phone numbers.",
            "items": [
                {
                    "description": "Replace phone numbers on MDT screens with virtual numbers",
                    "owner_org_id": self.ids["hosp"],
                    "responsible_id": self.ids["owner"],
                    "deadline": (deadline or datetime.now(UTC) + timedelta(days=30)).isoformat(),
                    "required_evidence": "Screenshot of the MDT screen and the release note",
                    **item,
                }
            ],
        }
        return self.client.post(f"{BASE}/recommendations", json=body, headers=self.h(who))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    load_all_models()
    tmp_path = tmp_path_factory.mktemp(request.param)
    for url in private_database_url(request.param, tmp_path, prefix="inspections_api"):
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
            site.ids["hosp"] = records.create_organisation(
                session=db, name="Hospital", org_type="hospital", district="310112"
            ).id
            site.ids["hc"] = records.create_organisation(
                session=db, name="Commission", org_type="health_commission", district="310112"
            ).id
            for who, role, org in (
                ("inspector", "privacy_officer", "hc"),
                ("second", "admin", "hc"),
                ("hospital_po", "privacy_officer", "hosp"),
                ("owner", "emt", "hosp"),
                ("colleague", "physician", "hosp"),
            ):
                site.add_person(
                    db,
                    secret=secret,
                    who=who,
                    username=f"{who.replace('_', '.')}.api",
                    role=role,
                    org_id=site.ids[org],
                    trained_at=now - timedelta(days=10),
                )
            for n in range(6):
                report = records.create_report(
                    session=db,
                    hospital_org_id=site.ids["hosp"],
                    subject_id=f"api-subj-{n}",
                    name="李秀英",
                    sex="female",
                    death_time=now - timedelta(days=1, hours=n),
                    place_of_death="hospital",
                    district="310112",
                    part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
                )
                ledger.append(
                    session=db,
                    event=AccessEvent(
                        event_id=new_id(),
                        time=now - timedelta(hours=2),
                        user_id=site.ids["colleague"],
                        role="physician",
                        org_id=site.ids["hosp"],
                        action="read",
                        resource_type="death_report",
                        resource_id=report.id,
                        subject_id=f"api-subj-{n}",
                    ),
                )
        with site.client:
            yield site
        engine.dispose()


def test_follow_up_over_http_with_own_evidence_refused(site: Site) -> None:
    # The hospital's own audit, recorded by its officer, who is also the item's responsible person.
    made = site.recommend("hospital_po", responsible_id=site.ids["hospital_po"])
    assert made.status_code == 201, made.text
    item = made.json()["items"][0]
    assert item["status"] == "open" and item["overdue"] is False
    posted = site.client.post(
        f"{BASE}/rectifications/{item['id']}/evidence",
        json={"description": "Release note 4.2 and a screenshot", "sha256": DOC},
        headers=site.h("hospital_po"),
    )
    assert posted.status_code == 201, posted.text
    evidence = posted.json()["evidence"][0]
    own = site.client.post(
        f"{BASE}/rectifications/{item['id']}/evidence/{evidence['id']}/verify",
        json={"reason": "I checked it myself"},
        headers=site.h("hospital_po"),
    )
    assert own.status_code == 403 and "cannot verify or reject it yourself" in own.json()["detail"]
    assert own.json()["policy_ids"] == ["own-evidence"]
    last = site.last_event()
    assert last.outcome == "denied" and last.resource_type == "rectification" and last.resource_id == item["id"]
    verified = site.client.post(
        f"{BASE}/rectifications/{item['id']}/evidence/{evidence['id']}/verify",
        json={"reason": "the MDT screen shows virtual numbers only"},
        headers=site.h("inspector"),
    )
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    event = site.last_event()
    assert (event.action, event.resource_type, event.outcome) == ("update", "rectification", "allowed")
    assert event.reason is not None and "sha256=" in event.reason


def test_roles_are_checked_by_the_policy_with_the_reason(site: Site) -> None:
    refused = site.recommend("colleague")
    assert refused.status_code == 403 and "inspectors" in refused.json()["detail"]
    item = site.recommend().json()["items"][0]
    stranger = site.client.post(
        f"{BASE}/rectifications/{item['id']}/evidence",
        json={"description": "not my item at all", "reference": "doc-1"},
        headers=site.h("colleague"),
    )
    assert stranger.status_code == 403 and "responsible person" in stranger.json()["detail"]
    assert site.client.get(f"{BASE}/rectifications/{item['id']}", headers=site.h("owner")).status_code == 200
    assert site.client.get(f"{BASE}/rectifications/{item['id']}", headers=site.h("colleague")).status_code == 403
    mine = site.client.get(f"{BASE}/rectifications", headers=site.h("owner")).json()
    assert mine["count"] >= 1 and {i["responsible_id"] for i in mine["items"]} == {site.ids["owner"]}
    assert site.client.get(f"{BASE}/spot-checks", headers=site.h("owner")).status_code == 403
    assert site.client.get(f"{BASE}/recommendations", headers=site.h("second")).status_code == 200


def test_bad_input_is_422_naming_the_field(site: Site) -> None:
    backdated = site.recommend(deadline=datetime.now(UTC) - timedelta(days=1))
    assert backdated.status_code == 422
    assert backdated.json()["errors"][0]["field"] == "items[0].deadline"
    assert "backdated" in backdated.json()["errors"][0]["reason"]
    naive = site.recommend(deadline=datetime(2030, 1, 1))
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"].endswith("deadline")
    bad_hash = site.client.post(
        f"{BASE}/rectifications/{site.recommend().json()['items'][0]['id']}/evidence",
        json={"description": "a document", "sha256": "not-a-hash"},
        headers=site.h("owner"),
    )
    assert bad_hash.status_code == 422 and bad_hash.json()["errors"][0]["field"] == "sha256"
    unknown = site.recommend(owner_org_id="no-such-org")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "items[0].owner_org_id"
    size = site.client.post(
        f"{BASE}/spot-checks",
        json={"title": "too big", "org_id": site.ids["hosp"], "size": 0},
        headers=site.h("inspector"),
    )
    assert size.status_code == 422 and size.json()["errors"][0]["field"] == "size"
    unknown = f"{BASE}/rectifications/01ARZ3NDEKTSV4RRFFQ69G5FAV"  # well-formed, not on record
    assert site.client.get(unknown, headers=site.h("inspector")).status_code == 404


def test_overdue_items_reach_the_health_commission(site: Site) -> None:
    soon = site.recommend(deadline=datetime.now(UTC) + timedelta(seconds=2)).json()["items"][0]
    time.sleep(2.5)  # server time passes the deadline; nobody can set "now"
    overdue = site.client.get(f"{BASE}/rectifications/overdue", headers=site.h("inspector"))
    assert overdue.status_code == 200
    found = {i["id"]: i for i in overdue.json()["items"]}
    assert soon["id"] in found and found[soon["id"]]["escalated_to"] == [site.ids["hc"]]
    assert found[soon["id"]]["status"] == "overdue"
    extended = site.client.post(
        f"{BASE}/rectifications/{soon['id']}/deadline",
        json={"deadline": (datetime.now(UTC) + timedelta(days=7)).isoformat(), "reason": "supplier delivery delayed"},
        headers=site.h("second"),
    )
    assert extended.status_code == 201 and extended.json()["status"] == "open"
    assert extended.json()["extensions"][0]["reason"] == "supplier delivery delayed"


def test_spot_check_over_http_until_closed(site: Site) -> None:
    body = {"title": "Six deaths and their readers", "org_id": site.ids["hosp"], "size": 2, "seed": "api-1"}
    drawn = site.client.post(f"{BASE}/spot-checks", json=body, headers=site.h("inspector"))
    assert drawn.status_code == 201, drawn.text
    check = drawn.json()
    assert check["seed"] == "api-1" and check["population_size"] == 6 and check["sample_size"] == 2
    readers = [i for i in check["items"] if i["item_type"] == "reader"]
    assert len(readers) == 2 and {r["ref_id"] for r in readers} == {site.ids["colleague"]}
    again = site.client.get(f"{BASE}/spot-checks/{check['id']}/reproduction", headers=site.h("second")).json()
    assert again["reproduced"] is True and again["population_matches"] is True and again["list_matches"] is True
    for item in check["items"]:
        outcome = "unsatisfactory" if item["item_type"] == "reader" else "satisfactory"
        recorded = site.client.post(
            f"{BASE}/spot-checks/{check['id']}/findings",
            json={"item_id": item["id"], "outcome": outcome, "note": "checked the task relationship"},
            headers=site.h("inspector"),
        )
        assert recorded.status_code == 201, recorded.text
    early = site.client.post(
        f"{BASE}/spot-checks/{check['id']}/close", json={"reason": "all fine, honestly"}, headers=site.h("inspector")
    )
    assert early.status_code == 409 and "re-inspection" in early.json()["detail"]
    day = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    scheduled = site.client.post(
        f"{BASE}/spot-checks/{check['id']}/reinspections",
        json={"scheduled_for": day, "reason": "the physician's reads need an explanation"},
        headers=site.h("inspector"),
    )
    assert scheduled.status_code == 201 and scheduled.json()["status"] == "reinspection_scheduled"
    for item in readers:
        site.client.post(
            f"{BASE}/spot-checks/{check['id']}/findings",
            json={"item_id": item["id"], "outcome": "satisfactory", "note": "the reads were for coding queries"},
            headers=site.h("second"),
        )
    closed = site.client.post(
        f"{BASE}/spot-checks/{check['id']}/close",
        json={"reason": "every read explained and documented"},
        headers=site.h("inspector"),
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    listed = site.client.get(f"{BASE}/spot-checks", params={"status": "closed"}, headers=site.h("inspector")).json()
    assert check["id"] in {c["id"] for c in listed["items"]}
