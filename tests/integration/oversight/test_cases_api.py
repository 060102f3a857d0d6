"""Investigation cases over HTTP on SQLite and PostgreSQL: roles, state machine, the investigator's
scoped read through the real record route, four-eyes, 422s naming the field, the bundle."""

from __future__ import annotations

import io
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
from piguard.localtime import beijing_date
from piguard.oversight.cases import service as cases
from piguard.records import service as records
from tests.conftest import private_database_url
from tests.integration.oversight.apisite import ApiSite

PHONE = "13912345678"
BASE = "/api/v1/oversight/cases"


@dataclass
class Site(ApiSite):
    """The app over a committed database, its people and two death reports."""

    terminal: ClassVar[str] = "ws-9"

    def open(self, who: str = "officer", **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "Complaint: family cold-called by a funeral parlour",
            "source": "complaint",
            "source_ref": "cmp-2025-031",
            "suspect_user_id": self.ids["broker"],
            "assignee_id": self.ids["officer"],
            "subjects": [self.ids["report_a"]],
            "reason": "the family named the day the calls began",
            **overrides,
        }
        response = self.client.post(BASE, json=body, headers=self.h(who))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def move(self, case_id: str, to_state: str, who: str = "officer") -> Any:
        return self.client.post(
            f"{BASE}/{case_id}/transitions",
            json={"to_state": to_state, "reason": f"the review supports {to_state}"},
            headers=self.h(who),
        )

    def read(self, who: str, report: str) -> Any:
        return self.client.get(
            f"/api/v1/death-reports/{self.ids[report]}",
            params={"purpose": "LEGAL", "context": "privacy_review"},
            headers=self.h(who),
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    load_all_models()
    tmp_path = tmp_path_factory.mktemp(request.param)
    for url in private_database_url(request.param, tmp_path, prefix="cases_api"):
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
                for key, kind in (("a", "hospital"), ("b", "hospital"), ("hc", "health_commission"))
            }
            for who, username, role, org in (
                ("officer", "sun.li", "privacy_officer", "hc"),
                ("second", "zhou.min", "privacy_officer", "hc"),
                ("admin", "qian.hao", "admin", "hc"),
                ("broker", "chen.jie", "physician", "b"),
            ):
                site.add_person(
                    db,
                    secret=secret,
                    who=who,
                    username=username,
                    role=role,
                    org_id=orgs[org],
                    trained_at=now - timedelta(days=10),
                )
            for key, subject in (("report_a", "subj-1"), ("report_b", "subj-2")):
                report = records.create_report(
                    session=db,
                    hospital_org_id=orgs["a"],
                    subject_id=subject,
                    name="李秀英",
                    sex="female",
                    death_time=now - timedelta(days=1),
                    place_of_death="hospital",
                    district="310112",
                    part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
                    relatives=[{"name": "王小明", "relationship": "儿子", "phone": PHONE}],
                )
                records.certify(session=db, report_id=report.id, certifier_id="acc-cert", at=now - timedelta(hours=5))
                site.ids[key] = report.id
        with site.client:
            yield site
        engine.dispose()


def test_investigator_reads_only_the_case_records_and_only_while_investigating(site: Site) -> None:
    case = site.open()
    assert case["state"] == "open" and case["assignee_id"] == site.ids["officer"]
    read = site.read("officer", "report_a")
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["context"] == "privacy_review" and PHONE not in read.text
    other = site.read("officer", "report_b")
    assert other.status_code == 403 and "no task relationship" in other.json()["detail"]
    assert site.move(case["id"], "investigating").status_code == 200
    assert site.read("officer", "report_a").status_code == 200
    found = site.move(case["id"], "unsubstantiated")
    assert found.status_code == 200 and found.json()["state"] == "unsubstantiated"
    assert site.read("officer", "report_a").status_code == 403
    closed = site.move(case["id"], "closed")
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    assert site.read("officer", "report_a").status_code == 403
    history = site.client.get(f"{BASE}/{case['id']}", headers=site.h("admin")).json()["history"]
    assert [h["kind"] for h in history] == ["opened", "assigned", "subject_added"] + ["transition"] * 3
    assert all(h["reason"] for h in history)


def test_invalid_transition_is_409_with_the_reason_and_recorded(site: Site) -> None:
    case = site.open()
    refused = site.move(case["id"], "closed")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "must first be investigated" in refused.json()["detail"]
    last = site.last_event()
    assert last.outcome == "denied" and last.resource_id == case["id"] and last.resource_type == "case"
    assert site.client.get(f"{BASE}/{case['id']}", headers=site.h("officer")).json()["state"] == "open"
    assert site.client.get(f"{BASE}/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=site.h("officer")).status_code == 404


def test_other_roles_get_403_with_the_reason(site: Site) -> None:
    headers = site.h("broker")
    listed = site.client.get(BASE, headers=headers)
    assert listed.status_code == 403 and "no policy permits role 'physician'" in listed.json()["detail"]
    made = site.client.post(
        BASE,
        json={"title": "x" * 5, "source": "manual", "assignee_id": site.ids["broker"], "reason": "closing my own"},
        headers=headers,
    )
    assert made.status_code == 403 and site.last_event().outcome == "denied"
    assert site.client.get(BASE).status_code == 401


def test_bad_input_is_422_naming_the_field(site: Site) -> None:
    headers = site.h("officer")
    case = site.open()

    def field_of(response: Any) -> str:
        assert response.status_code == 422, response.text
        return str(response.json()["errors"][0]["field"])

    no_reason = site.client.post(
        f"{BASE}/{case['id']}/transitions", json={"to_state": "investigating"}, headers=headers
    )
    assert field_of(no_reason) == "reason"
    bad_state = site.client.post(
        f"{BASE}/{case['id']}/transitions",
        json={"to_state": "archived", "reason": "long enough reason"},
        headers=headers,
    )
    assert field_of(bad_state) == "to_state"
    backdated = site.client.post(
        f"{BASE}/{case['id']}/transitions",
        json={"to_state": "investigating", "reason": "long enough reason", "at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert field_of(backdated) == "at"  # clients cannot supply times: history is server time
    bad_hash = site.client.post(
        f"{BASE}/{case['id']}/evidence",
        json={"kind": "document", "reference": "notes.pdf", "sha256": "xyz", "reason": "interview notes"},
        headers=headers,
    )
    assert field_of(bad_hash) == "sha256"
    unhashed = site.client.post(
        f"{BASE}/{case['id']}/evidence",
        json={"kind": "document", "reference": "notes.pdf", "reason": "interview notes"},
        headers=headers,
    )
    assert field_of(unhashed) == "sha256" and "sha256" in unhashed.json()["detail"]
    no_ref = site.client.post(
        BASE,
        json={"title": "From a canary", "source": "canary", "assignee_id": site.ids["officer"], "reason": "canary hit"},
        headers=headers,
    )
    assert field_of(no_ref) == "source_ref"
    bad_subject = site.client.post(
        f"{BASE}/{case['id']}/subjects", json={"subjects": ["nobody"], "reason": "one more record"}, headers=headers
    )
    assert field_of(bad_subject) == "subjects[0]"
    bad_list = site.client.get(BASE, params={"state": "lost"}, headers=headers)
    assert field_of(bad_list).endswith("state")


def test_four_eyes_disposition_and_verifiable_bundle(site: Site, tmp_path: Path) -> None:
    case = site.open(subjects=[])
    doc = site.client.post(
        f"{BASE}/{case['id']}/evidence",
        json={"kind": "document", "reference": "call-records.pdf", "sha256": "b" * 64, "reason": "carrier call list"},
        headers=site.h("officer"),
    )
    assert doc.status_code == 201 and doc.json()["sha256"] == "b" * 64
    too_early = site.client.post(
        f"{BASE}/{case['id']}/dispositions",
        json={
            "kind": "warning",
            "target_user_id": site.ids["broker"],
            "effective_date": beijing_date(datetime.now(UTC)).isoformat(),
            "authority": "hospital B",
            "reason": "looked up records without need",
        },
        headers=site.h("officer"),
    )
    assert too_early.status_code == 409 and "only on substantiated" in too_early.json()["detail"]
    assert site.move(case["id"], "investigating").status_code == 200
    assert site.move(case["id"], "substantiated").status_code == 200
    proposal = {
        "kind": "referral_procuratorate",
        "target_user_id": site.ids["broker"],
        "effective_date": beijing_date(datetime.now(UTC)).isoformat(),
        "authority": "Minhang District Health Commission",
        "reason": "sold records of 14 deceased to a funeral business",
    }
    made = site.client.post(f"{BASE}/{case['id']}/dispositions", json=proposal, headers=site.h("officer"))
    assert made.status_code == 201 and made.json()["status"] == "proposed"
    url = f"{BASE}/{case['id']}/dispositions/{made.json()['id']}/approve"
    own = site.client.post(url, json={"reason": "approving my own proposal"}, headers=site.h("officer"))
    assert own.status_code == 403 and "four-eyes" in own.json()["detail"]
    assert own.json()["policy_ids"] == ["four-eyes"]
    approved = site.client.post(url, json={"reason": "evidence is conclusive"}, headers=site.h("second"))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == site.ids["second"]
    again = site.client.post(url, json={"reason": "evidence is conclusive"}, headers=site.h("admin"))
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    assert site.move(case["id"], "closed", who="second").status_code == 200

    bundle = site.client.get(f"{BASE}/{case['id']}/bundle", headers=site.h("admin"))
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / f"case-{case['id']}"
    history = site.client.get(f"{BASE}/{case['id']}", headers=site.h("admin")).json()["history"]
    assert evidence.verify_evidence(folder).entries == len(history)
    assert cases.verify_history(folder) == len(history)
    assert site.client.get(f"{BASE}/{case['id']}/bundle", headers=site.h("broker")).status_code == 403


def test_two_findings_at_once_cannot_both_be_recorded(site: Site) -> None:
    # Officer A records "substantiated" but has not committed when officer B records
    # "unsubstantiated". B must wait for A and be refused; on SQLite too, where plain reads take
    # no lock and B would otherwise act on the state it read before A's commit.
    from piguard.errors import ConflictError
    from piguard.oversight.common import local_principal

    case = site.open()
    assert site.move(case["id"], "investigating").status_code == 200
    sessions = make_session_factory(site.engine)
    settings = site.client.app.state.settings
    a_ready, b_started = threading.Event(), threading.Event()

    def officer_a() -> None:
        with sessions() as db, db.begin():
            ledger.bind_settings(db, settings)
            who = local_principal(session=db, username=site.usernames["officer"])
            cases.transition(
                session=db,
                principal=who,
                at=datetime.now(UTC),
                case_id=case["id"],
                to_state="substantiated",
                reason="the access log shows the lookups",
            )
            a_ready.set()
            b_started.wait(10)
            time.sleep(0.3)  # B is now trying to record its finding

    first = threading.Thread(target=officer_a)
    first.start()
    assert a_ready.wait(30)
    with sessions() as db, db.begin():
        ledger.bind_settings(db, settings)
        who = local_principal(session=db, username=site.usernames["admin"])
        b_started.set()
        with pytest.raises(ConflictError, match="substantiated"):
            cases.transition(
                session=db,
                principal=who,
                at=datetime.now(UTC),
                case_id=case["id"],
                to_state="unsubstantiated",
                reason="no evidence of a leak was found",
            )
    first.join(30)
    history = site.client.get(f"{BASE}/{case['id']}", headers=site.h("officer")).json()["history"]
    assert [h["to_state"] for h in history if h["kind"] == "transition"] == ["investigating", "substantiated"]
