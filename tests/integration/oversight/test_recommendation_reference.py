"""One recommendation per reference number of an issuing authority (409 naming ``reference_no``),
also through a correction; nothing of a refused recommendation is kept (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.integration.oversight.test_inspections_api import BASE, Site
from tests.integration.oversight.test_inspections_api import site as site  # the fixture

REFERENCE = "闵检建〔2025〕99号"


def test_a_reference_number_is_recorded_once_per_issuing_authority(site: Site) -> None:
    first = site.recommend(reference_no=REFERENCE)
    assert first.status_code == 201, first.text
    again = site.recommend(reference_no=REFERENCE)
    assert again.status_code == 409 and "reference_no" in again.json()["detail"], again.text
    listed = site.client.get(f"{BASE}/recommendations", headers=site.h("inspector")).json()
    rows = listed["items"] if isinstance(listed, dict) else listed
    assert [row["reference_no"] for row in rows].count(REFERENCE) == 1  # nothing of the refused one is kept
    # Nor can a correction make a second one.
    other = site.recommend(reference_no="闵检建〔2025〕100号").json()
    corrected = site.client.post(
        f"{BASE}/recommendations/{other['id']}/corrections",
        json={"field": "reference_no", "value": REFERENCE, "reason": "typo in the reference number"},
        headers=site.h("inspector"),
    )
    assert corrected.status_code == 409 and "reference_no" in corrected.json()["detail"], corrected.text
