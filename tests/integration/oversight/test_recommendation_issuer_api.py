"""Over HTTP (SQLite and PostgreSQL): a procuratorial recommendation the district commission recorded is
shown as managed by it; the audited hospital's officer gets 403 ``issuing-body`` for a deadline
extension, a correction or a verdict, and still names the item's responsible person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.oversight.test_inspections_api import BASE, DOC, Site
from tests.integration.oversight.test_inspections_api import site as site  # the fixture


def _procuratorial(site: Site) -> Any:
    body = {
        "source": "procuratorial_recommendation",
        "reference_no": "浦检建〔2026〕7号",
        "issuing_authority": "浦东新区人民检察院",
        "issued_on": datetime.now(UTC).date().isoformat(),
        "text": "Establish a traceable follow-up inspection mechanism.",
        "org_id": site.ids["hosp"],
        "items": [
            {
                "description": "Review cross-department queries of death reports monthly",
                "owner_org_id": site.ids["hosp"],
                "responsible_id": site.ids["owner"],
                "deadline": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
                "required_evidence": "Signed minutes of each monthly review",
            }
        ],
    }
    made = site.client.post(f"{BASE}/recommendations", json=body, headers=site.h("inspector"))
    assert made.status_code == 201, made.text
    return made.json()


def _refused(site: Site, response: Any, *secrets: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["policy_ids"] == ["issuing-body"] and "assigns the responsible person" in body["detail"]
    assert not any(secret in response.text for secret in secrets)
    last = site.last_event()
    assert (last.outcome, last.user_id) == ("denied", site.ids["hospital_po"])


def test_the_audited_hospital_follows_up_but_the_issuing_commission_decides(site: Site) -> None:
    made = _procuratorial(site)
    item = made["items"][0]
    secrets = (made["reference_no"], made["text"], item["description"])
    hospital = site.h("hospital_po")
    extension = {"deadline": (datetime.now(UTC) + timedelta(days=400)).isoformat(), "reason": "we need more time"}
    _refused(site, site.client.post(f"{BASE}/rectifications/{item['id']}/deadline", json=extension, headers=hospital))
    nothing = {"field": "text", "value": "Nothing to do", "reason": "settled between us already"}
    path = f"{BASE}/recommendations/{made['id']}/corrections"
    _refused(site, site.client.post(path, json=nothing, headers=hospital), *secrets)
    assert "issued by an oversight body" in site.client.post(path, json=nothing, headers=hospital).json()["detail"]
    posted = site.client.post(
        f"{BASE}/rectifications/{item['id']}/evidence",
        json={"description": "Minutes of the first review", "sha256": DOC},
        headers=site.h("owner"),
    )
    assert posted.status_code == 201, posted.text
    evidence = posted.json()["evidence"][0]["id"]
    verify = f"{BASE}/rectifications/{item['id']}/evidence/{evidence}/verify"
    _refused(site, site.client.post(verify, json={"reason": "the minutes are complete"}, headers=hospital), *secrets)
    assert (made["managed_by"], made["issuer_org_id"]) == ("issuer", site.ids["hc"])
    assert (item["managed_by"], item["issuer_org_id"]) == ("issuer", site.ids["hc"])
    # Reading it and naming the responsible person stay the hospital's.
    shown = site.client.get(f"{BASE}/rectifications/{item['id']}", headers=hospital)
    assert shown.status_code == 200 and not shown.json()["extensions"] and shown.json()["deadline"] == item["deadline"]
    assign = {"field": "responsible_id", "value": site.ids["colleague"], "reason": "the owner changed departments"}
    assigned = site.client.post(f"{BASE}/rectifications/{item['id']}/corrections", json=assign, headers=hospital)
    assert assigned.status_code == 201 and assigned.json()["responsible_id"] == site.ids["colleague"], assigned.text
    # The issuing commission verifies.
    verified = site.client.post(verify, json={"reason": "the minutes are complete"}, headers=site.h("inspector"))
    assert verified.status_code == 200 and verified.json()["status"] == "verified", verified.text


def test_the_hospital_cannot_record_a_procuratorial_recommendation_itself(site: Site) -> None:
    own = site.recommend("hospital_po", reference_no="HOSP-AUD-1")  # its own internal audit: its own to manage
    assert own.status_code == 201, own.text
    assert own.json()["managed_by"] == "organisation"
    body = {
        "source": "procuratorial_recommendation",
        "reference_no": "浦检建〔2026〕8号",
        "issuing_authority": "浦东新区人民检察院",
        "issued_on": datetime.now(UTC).date().isoformat(),
        "text": "Restrict exports of death reports.",
        "org_id": site.ids["hosp"],
    }
    outside = site.client.post(f"{BASE}/recommendations", json=body, headers=site.h("hospital_po"))
    _refused(site, outside, body["reference_no"], body["text"])
    assert "comes from outside the organisation" in outside.json()["detail"]
