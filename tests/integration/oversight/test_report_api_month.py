"""``GET /api/v1/oversight/reports/{org|city}/{month}`` with a month it cannot represent, or written
in other digits than ASCII, is 422 naming ``month`` (not a server error), on SQLite and PostgreSQL;
the refusal's ledger event does not carry a month in other digits as typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.oversight.test_training_api import Site, build_site

BASE = "/api/v1/oversight/reports"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from build_site(request.param, tmp_path_factory, "report_month")


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "１９９９-01", "２０２６-11"])
def test_a_month_out_of_range_or_in_other_digits_is_422_naming_month(site: Site, month: str) -> None:
    response = site.client.get(f"{BASE}/city/{month}", headers=site.h("commission"))
    assert response.status_code == 422, response.text
    assert "month" in response.text
    event = site.last_event()
    # A month of YYYY-MM shape is recorded as it is; anything else is not copied into the ledger.
    recorded = f"city:{month}" if month.isascii() else "city:invalid"
    assert (event.resource_type, event.outcome, event.resource_id) == ("privacy_report", "denied", recorded)
