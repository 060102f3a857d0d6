"""Corrections by the certifier over HTTP: the new value follows the field's rule for opening a report.

Every bad value is a 422 problem+json naming ``value`` and the corrected field, with nothing written
and the refusal recorded as a denied event (never a 204 that stores it, never a 500).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from piguard.db import make_session_factory
from piguard.records.models import DeathReport, ReportCorrection
from piguard.records.schemas import ReportFields
from piguard.records.service import CORRECTABLE
from tests.integration.api.conftest import Site

REASON = "the family brought the household register"


def _stored(site: Site) -> tuple[dict[str, Any], int]:
    """The report's stored columns and the number of corrections in its history."""
    with make_session_factory(site.engine)() as db:
        report = db.get(DeathReport, site.ids["report"])
        assert report is not None
        columns = {column.key: getattr(report, column.key) for column in DeathReport.__table__.columns}
        history = db.scalar(
            select(func.count()).select_from(ReportCorrection).where(ReportCorrection.report_id == report.id)
        )
    return columns, int(history or 0)


def _correct(site: Site, field: str, value: Any, reason: str = REASON) -> Any:
    return site.client.post(
        f"/api/v1/death-reports/{site.ids['report']}/corrections",
        json={"field": field, "value": value, "reason": reason},
        headers=site.token("certifier"),
    )


def test_every_correctable_field_has_a_rule() -> None:
    assert set(CORRECTABLE) <= set(ReportFields.model_fields)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("sex", "banana", "Input should be 'male', 'female' or 'unknown'"),
        ("manner", "alien", "Input should be 'natural'"),
        ("id_number", "x", "must be a resident ID number"),
        ("id_number", "31011219450307002", "must be a resident ID number"),
        ("name", "名" * 300, "at most 100 characters"),
        ("name", None, "must not be null"),
        ("name", "   ", "at least 1 character"),
        ("sex", None, "must not be null"),
        ("manner", None, "must not be null"),
        ("birth_date", "yesterday", "must be a date as YYYY-MM-DD"),
        ("birth_date", "1700000000", "must be a date as YYYY-MM-DD"),
        ("birth_date", "1950-02-30", "valid date"),
        ("birth_date", "2999-01-01", "must not be in the future"),
        ("usual_address", "", "at least 1 character"),
    ],
)
def test_a_bad_value_is_a_422_naming_value_and_the_field_with_nothing_written(
    site: Site, field: str, value: Any, rule: str
) -> None:
    site.token("certifier")  # logged in first: a login is an event of its own
    before, history = _stored(site)
    events = site.events()
    response = _correct(site, field, value)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "value"
    assert error["reason"].startswith(f"{field}: ") and rule in error["reason"]
    if isinstance(value, str) and value.strip():
        assert value not in response.text  # the reason names the rule, never the value
    assert _stored(site) == (before, history)
    # A refusal by the service is a refused workflow step: one denied event.
    assert site.events() == events + 1
    refused = site.last_event()
    assert (refused.action, refused.outcome, refused.resource_id) == ("update", "denied", site.ids["report"])
    assert field in refused.reason


def test_a_field_that_is_not_correctable_is_a_422_naming_field(site: Site) -> None:
    before = _stored(site)
    for field in ("status", "certifier_id", "hospital_org_id", "underlying_icd10"):
        response = _correct(site, field, "x")
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["field"]
        assert site.last_event().outcome == "denied"
    assert _stored(site) == before


def test_a_value_longer_than_the_door_allows_is_refused_before_the_flow(site: Site) -> None:
    site.token("certifier")
    events = site.events()
    response = _correct(site, "usual_address", "路" * 301)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["value"]
    assert site.events() == events  # schema validation at the door leaves no event


def test_good_corrections_are_stored_normalised_with_history(site: Site) -> None:
    before, history = _stored(site)
    corrections: list[tuple[str, Any, Any]] = [
        ("name", "  李秀瑛  ", "李秀瑛"), ("name", " 李秀英", "李秀英"),
        ("sex", "unknown", "unknown"),
        ("manner", "accident", "accident"),
        ("birth_date", "1945-03-07", "1945-03-07"),
        ("id_number", "31011219450307002x", "31011219450307002X"),
        ("usual_address", "上海市闵行区新地址1号", "上海市闵行区新地址1号"),
        ("usual_address", None, None),  # an optional field may be cleared
    ]
    for field, value, _ in corrections:
        response = _correct(site, field, value)
        assert response.status_code == 204, (field, response.text)
        event = site.last_event()
        assert (event.outcome, event.fields) == ("allowed", (f"report.{field}",))
    after, now_history = _stored(site)
    assert after["version"] == before["version"] + len(corrections)
    assert now_history == history + len(corrections)
    assert (after["name"], after["sex"], after["manner"]) == ("李秀英", "unknown", "accident")
    assert str(after["birth_date"]) == "1945-03-07" and after["id_number"] == "31011219450307002X"
    assert after["usual_address"] is None
    with make_session_factory(site.engine)() as db:
        rows = db.scalars(
            select(ReportCorrection)
            .where(ReportCorrection.report_id == site.ids["report"])
            .order_by(ReportCorrection.at, ReportCorrection.id)
        ).all()
    stored = [(row.field, row.new_value) for row in rows[-len(corrections) :]]
    assert sorted(stored, key=str) == sorted([(field, new) for field, _, new in corrections], key=str)
    sexes = [row for row in rows if row.field == "sex"]
    assert sexes[-1].old_value == "female" and sexes[-1].reason == REASON
