"""Rectification items over HTTP outside the officer's jurisdiction (SQLite and PostgreSQL): 403 with
policy id ``jurisdiction`` and a reason naming none of the item's content; lists leave them out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from piguard.db import make_session_factory
from piguard.records import service as records
from tests.integration.oversight.test_inspections_api import BASE, Site
from tests.integration.oversight.test_inspections_api import site as site  # the fixture


@pytest.fixture(scope="module")
def other(site: Site) -> Site:
    """The site with a second hospital (same district) and its privacy officer."""
    app = site.client.app
    with make_session_factory(site.engine)() as db, db.begin():
        site.ids["other"] = records.create_organisation(
            session=db, name="Riverside Hospital", org_type="hospital", district="310112"
        ).id
        site.add_person(
            db,
            secret=app.state.secret,  # type: ignore[attr-defined]
            who="other_po",
            username="other.po.api",
            role="privacy_officer",
            org_id=site.ids["other"],
            trained_at=datetime.now(UTC) - timedelta(days=10),
        )
    return site


def test_another_hospitals_officer_is_refused_for_the_jurisdiction(other: Site) -> None:
    made = other.recommend()  # by the district commission, the item owned by the first hospital
    assert made.status_code == 201, made.text
    recommendation = made.json()
    item = recommendation["items"][0]
    for path in (f"/rectifications/{item['id']}", f"/recommendations/{recommendation['id']}"):
        refused = other.client.get(f"{BASE}{path}", headers=other.h("other_po"))
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["policy_ids"] == ["jurisdiction"] and "outside your jurisdiction" in body["detail"]
        for secret in (recommendation["reference_no"], recommendation["text"], item["description"], other.ids["hosp"]):
            assert secret not in refused.text
        last = other.last_event()
        assert last.outcome == "denied" and last.user_id == other.ids["other_po"]
    extended = other.client.post(
        f"{BASE}/rectifications/{item['id']}/deadline",
        json={"deadline": (datetime.now(UTC) + timedelta(days=90)).isoformat(), "reason": "they asked us nicely"},
        headers=other.h("other_po"),
    )
    assert extended.status_code == 403 and extended.json()["policy_ids"] == ["jurisdiction"]
    for path in ("/rectifications", "/recommendations"):
        listed = other.client.get(f"{BASE}{path}", headers=other.h("other_po"))
        assert listed.status_code == 200 and listed.json()["count"] == 0, listed.text
    # The first hospital's own officer follows its item up.
    own = other.client.get(f"{BASE}/rectifications/{item['id']}", headers=other.h("hospital_po"))
    assert own.status_code == 200 and own.json()["id"] == item["id"]
