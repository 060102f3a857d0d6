"""ID number and birth date corrections over HTTP: a number with a wrong check character, or one
whose birth date disagrees with the report's, is a 422 naming ``value`` and the field, never the
number, with nothing written and one denied event."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from piguard.db import make_session_factory
from piguard.records.models import DeathReport, ReportCorrection
from piguard.resident_id import check_character
from tests.integration.api.conftest import Site

REASON = "the family brought the household register"


def valid_id(born: str) -> str:
    body = "310112" + born + "004"
    return body + check_character(body)


def _stored(site: Site) -> tuple[Any, Any, int, int]:
    with make_session_factory(site.engine)() as db:
        report = db.get(DeathReport, site.ids["report"])
        assert report is not None
        history = db.scalar(
            select(func.count()).select_from(ReportCorrection).where(ReportCorrection.report_id == report.id)
        )
        return report.id_number, report.birth_date, report.version, int(history or 0)


def _correct(site: Site, field: str, value: str | None) -> Any:
    return site.client.post(
        f"/api/v1/death-reports/{site.ids['report']}/corrections",
        json={"field": field, "value": value, "reason": REASON},
        headers=site.token("certifier"),
    )


def _refused(site: Site, field: str, value: str, reason: str) -> None:
    site.token("certifier")
    before, events = _stored(site), site.events()
    response = _correct(site, field, value)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert (error["field"], error["reason"]) == ("value", reason)
    assert value not in response.text
    assert _stored(site) == before
    assert site.events() == events + 1 and site.last_event().outcome == "denied"
    assert value not in site.last_event().reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (valid_id("19450307")[:17] + "1", "id_number: check character does not match"),
        (valid_id("19280917")[:17] + "X", "id_number: check character does not match"),
        (valid_id("19450230"), "id_number: the birth date in the number is not a calendar date"),
        (valid_id("18400101"), "id_number: the birth date in the number is before 1850"),
    ],
)
def test_a_number_failing_its_own_check_is_a_422_with_nothing_written(site: Site, value: str, reason: str) -> None:
    assert valid_id("19280917")[-1] != "X"
    _refused(site, "id_number", value, reason)


def test_the_number_and_the_birth_date_must_agree_after_a_correction(site: Site) -> None:
    assert _correct(site, "birth_date", "1945-03-07").status_code == 204
    _refused(
        site,
        "id_number",
        valid_id("19460307"),
        "id_number: the birth date in the number does not agree with birth_date",
    )
    assert _correct(site, "id_number", valid_id("19450307")).status_code == 204
    _refused(site, "birth_date", "1945-03-08", "birth_date: does not agree with the birth date in id_number")
    assert _stored(site)[:2] == (valid_id("19450307"), date(1945, 3, 7))
