"""``GET /api/v1/oversight/reports/{org_id|city}/{month}`` on SQLite and PostgreSQL: who may read
which report, the content types, the export event, identical bytes on a second request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.oversight.test_training_api import Site, build_site

BASE = "/api/v1/oversight/reports"
LAST_MONTH = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from build_site(request.param, tmp_path_factory, "report_api")


def test_reports_over_http(site: Site) -> None:
    client, h, hosp = site.client, site.h, site.orgs["hosp"]
    page = client.get(f"{BASE}/{hosp}/{LAST_MONTH}", headers=h("officer"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert b"Monthly privacy report: org hosp" in page.content and b"<svg" in page.content
    event = site.last_event()
    assert (event.action, event.resource_type, event.resource_id, event.outcome) == (
        "export",
        "privacy_report",
        f"{hosp}:{LAST_MONTH}",
        "allowed",
    )
    pdf = client.get(f"{BASE}/{hosp}/{LAST_MONTH}", params={"format": "pdf"}, headers=h("officer"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    again = client.get(f"{BASE}/{hosp}/{LAST_MONTH}", params={"format": "pdf"}, headers=h("officer"))
    assert again.content == pdf.content and pdf.content.startswith(b"%PDF")
    # The city's report is the health commission's; another hospital's officer and staff get nothing.
    assert client.get(f"{BASE}/city/{LAST_MONTH}", headers=h("officer")).status_code == 403
    assert site.last_event().outcome == "denied"
    assert client.get(f"{BASE}/city/{LAST_MONTH}", headers=h("commission")).status_code == 200
    assert client.get(f"{BASE}/{hosp}/{LAST_MONTH}", headers=h("commission")).status_code == 200
    assert client.get(f"{BASE}/{hosp}/{LAST_MONTH}", headers=h("outsider")).status_code == 403
    assert client.get(f"{BASE}/{hosp}/{LAST_MONTH}", headers=h("doctor")).status_code == 403
    bad = client.get(f"{BASE}/{hosp}/2025-13", headers=h("officer"))
    assert bad.status_code in (400, 422) and "month" in bad.text
    assert client.get(f"{BASE}/{hosp}/{LAST_MONTH}", params={"format": "docx"}, headers=h("officer")).status_code == 422
    assert client.get(f"{BASE}/01ARZ3NDEKTSV4RRFFQ69G5FAV/{LAST_MONTH}", headers=h("commission")).status_code == 404
    assert client.get(f"{BASE}/{hosp}/{LAST_MONTH}").status_code == 401
