"""Minimised displays over HTTP on SQLite and PostgreSQL: each screen's event lists exactly the fields it
returned, the certifier sees the household address it corrects, a repeated search filter is a recorded 400,
and a dispatcher is told that a closed call is closed (not that they lack a task relationship).

Besides the site's people and records, the module adds a dispatcher, a CDC coder and a police registrar,
a report with every identity field filled (assigned to the coder, its police part's code presented), and
two closed calls of the site's centre: one closed two hours ago, one five minutes ago.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from piguard.db import make_session_factory
from piguard.identity import service as identity
from piguard.ledger import service as ledger
from piguard.records import service as records
from tests.integration.api.conftest import PASSWORD, Site

NAME = "刘超德"
HOUSEHOLD = "上海市闵行区莘庄镇某路1号"
CORRECTED = "上海市闵行区江川路99号"
UNKNOWN_CALL = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
REPEATED = "given more than once; send exactly one value"
USERNAMES = {"dispatcher": "zhou.min", "coder": "wu.hao", "police": "zheng.qiang"}  # personal accounts only


def _person(site: Site, db: Any, who: str, role: str, org: str) -> None:
    app: FastAPI = site.client.app  # type: ignore[assignment]
    made = identity.create_account(
        session=db,
        secret=app.state.secret,
        username=USERNAMES[who],
        display_name=who,
        role=role,
        org_id=org,
        password=PASSWORD,
        demo=True,
    )
    identity.record_training(
        session=db,
        account_id=made.account.id,
        course_code="privacy-basics",
        score=90,
        completed_at=datetime.now(UTC) - timedelta(days=10),
    )
    site.ids[who], site.usernames[who], site.totp[who] = made.account.id, made.account.username, made.totp_secret or ""


def _call(site: Site, db: Any, *, closed_ago: timedelta) -> str:
    now = datetime.now(UTC)
    vehicle = records.create_vehicle(
        session=db, org_id=site.ids["org_ec"], call_sign=f"MH-{closed_ago.seconds}", terminal_id=f"mdt-{closed_ago}"
    )
    call = records.create_dispatch(
        session=db,
        org_id=site.ids["org_ec"],
        district="310112",
        priority="P2",
        pickup_address="莘庄镇某路2号",
        chief_complaint="跌倒",
        at=now - closed_ago - timedelta(hours=1),
    )
    records.assign_crew(
        session=db,
        dispatch_id=call.id,
        vehicle_id=vehicle.id,
        crew_ids=[site.ids["emt"]],
        at=now - closed_ago - timedelta(minutes=50),
    )
    records.advance_dispatch(
        session=db, dispatch_id=call.id, status="closed", at=now - closed_ago, grace=timedelta(minutes=30)
    )
    return call.id


@pytest.fixture(scope="module")
def more(site: Site) -> Site:
    """The site with the module's people, its fully filled report and its two closed calls."""
    app: FastAPI = site.client.app  # type: ignore[assignment]
    now = datetime.now(UTC)
    with make_session_factory(site.engine)() as db, db.begin():
        ledger.bind_settings(db, app.state.settings)
        police = records.create_organisation(session=db, name="police", org_type="police", district="310112").id
        _person(site, db, "dispatcher", "dispatcher", site.ids["org_ec"])
        _person(site, db, "coder", "cdc_coder", site.ids["org_cdc"])
        _person(site, db, "police", "police_registrar", police)
        report = records.create_report(
            session=db,
            hospital_org_id=site.ids["org_a"],
            subject_id="subj-full",
            name=NAME,
            sex="female",
            id_number="310112194503070046",
            birth_date=date(1945, 3, 7),
            ethnicity="汉族",
            marital_status="widowed",
            occupation="retired",
            usual_address="上海市闵行区莘庄镇某路3号",
            household_address=HOUSEHOLD,
            death_time=now - timedelta(days=2),
            place_of_death="home",
            place_detail="卧室",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9", "interval": "2小时"}],
            part2="高血压",
            relatives=[{"name": "王小明", "relationship": "儿子", "phone": "13912345678"}],
        )
        records.certify(session=db, report_id=report.id, certifier_id=site.ids["certifier"], at=now - timedelta(days=2))
        records.report_to_cdc(session=db, report_id=report.id, coder_id=site.ids["coder"], at=now - timedelta(days=1))
        codes = records.issue_parts(session=db, report_id=report.id, at=now - timedelta(days=1))
        site.ids["full"] = report.id
        site.ids["closed_long_ago"] = _call(site, db, closed_ago=timedelta(hours=2))
        site.ids["closed_just_now"] = _call(site, db, closed_ago=timedelta(minutes=5))
    presented = site.client.post(
        "/api/v1/death-reports/present-code", json={"code": codes["police"]}, headers=site.token("police")
    )
    assert presented.status_code == 200, presented.text
    return site


def _names(value: object, prefix: str = "") -> set[str]:
    """Dotted names of a response's non-empty values (lists named in the singular), as the ledger names fields."""
    if isinstance(value, dict):
        return {n for key, item in value.items() for n in _names(item, f"{prefix}.{key}" if prefix else key)}
    if isinstance(value, list):
        singular = prefix.removesuffix("s")
        return {n for item in value for n in (_names(item, singular) if isinstance(item, dict | list) else {singular})}
    return set() if value is None else {prefix}


def _get(site: Site, who: str, url: str, terminal: str = "ws-1") -> tuple[int, Any]:
    headers = site.token(who, terminal=terminal)
    before = site.events()
    response = site.client.get(url, headers=headers)
    assert site.events() == before + 1, "one access event per request"
    return response.status_code, response.json()


# (who, terminal, url, fields the screen must list among the rest)
SCREENS: list[tuple[str, str, str, set[str]]] = [
    ("certifier", "ws-1", "/api/v1/death-reports/{full}?purpose=TREAT", {"deceased.household_address"}),
    ("certifier", "ws-1", f"/api/v1/death-reports?purpose=TREAT&q={NAME}", {"deceased.household_address"}),
    ("coder", "ws-1", "/api/v1/death-reports/{full}?purpose=PUBHLTH", {"place", "status", "report_id"}),
    ("police", "ws-1", "/api/v1/death-reports/{full}?purpose=LEGAL", {"certificate_no", "deceased.id_number"}),
    ("emt", "mdt-1", "/api/v1/dispatches/{call}/display?purpose=TREAT", {"dispatch_id", "caller_handle"}),
    ("dispatcher", "ws-1", "/api/v1/dispatches?purpose=TREAT", {"dispatch_id", "status"}),
]


SCREEN_IDS = ["certifier-read", "certifier-search", "coder-read", "police-read", "crew-display", "dispatcher-list"]


@pytest.mark.parametrize(("who", "terminal", "url", "must"), SCREENS, ids=SCREEN_IDS)
def test_each_screen_s_event_lists_exactly_the_fields_it_returned(
    more: Site, who: str, terminal: str, url: str, must: set[str]
) -> None:
    status, body = _get(more, who, url.format(full=more.ids["full"], call=more.ids["call"]), terminal)
    assert status == 200, body
    items = body.get("items", [body])
    assert items, "the screen returned a record"
    shown = set().union(*(_names(item) for item in items)) - {"context"}
    event = more.last_event()
    assert event.outcome == "allowed" and sorted(event.fields) == list(event.fields)
    assert set(event.fields) == shown
    assert must <= shown


def test_the_certifier_sees_the_household_address_it_corrects(more: Site) -> None:
    url = f"/api/v1/death-reports/{more.ids['full']}?purpose=TREAT"
    status, body = _get(more, "certifier", url)
    assert status == 200 and body["context"] == "hospital_certifier"
    assert body["deceased"]["household_address"] == HOUSEHOLD
    assert "id_number" not in body["deceased"] and body["deceased"]["id_number_masked"].endswith("0046")
    corrected = more.client.post(
        f"/api/v1/death-reports/{more.ids['full']}/corrections",
        json={"field": "household_address", "value": CORRECTED, "reason": "the household register was misread"},
        headers=more.token("certifier"),
    )
    assert corrected.status_code == 204, corrected.text
    status, body = _get(more, "certifier", url)
    assert status == 200 and body["deceased"]["household_address"] == CORRECTED
    assert "deceased.household_address" in more.last_event().fields


@pytest.mark.parametrize(
    ("query", "name"),
    [
        (f"q={NAME}&q=zzz", "q"),
        ("q=zzz&q=zzz", "q"),
        ("district=310112&district=310104", "district"),
        (f"q={NAME}&district=310112&district=310112", "district"),
    ],
    ids=["q-two-values", "q-same-twice", "district-two-values", "district-same-twice"],
)
def test_a_repeated_search_filter_is_a_400_naming_it_and_recorded(more: Site, query: str, name: str) -> None:
    status, body = _get(more, "certifier", f"/api/v1/death-reports?purpose=TREAT&{query}")
    assert (status, body["detail"]) == (400, f"{name}: {REPEATED}")
    event = more.last_event()
    assert (event.outcome, event.action, event.resource_type, event.purpose) == (
        "denied",
        "search",
        "death_report",
        None,
    )
    assert event.query is None and event.fields == () and event.result_count is None
    assert REPEATED in (event.reason or "")


def test_a_single_search_filter_still_searches(more: Site) -> None:
    status, body = _get(more, "certifier", f"/api/v1/death-reports?purpose=TREAT&q={NAME}&district=310112")
    assert status == 200 and body["count"] == 1
    assert more.last_event().query == f"q={NAME};district=310112"


def test_a_dispatcher_is_told_a_closed_call_is_closed(more: Site) -> None:
    for call, told in (
        ("closed_long_ago", "the call is closed, and past the grace period in which its assigned crew keeps the"),
        ("closed_just_now", "the call is closed: only its assigned crew keeps the display in the grace period"),
    ):
        status, body = _get(more, "dispatcher", f"/api/v1/dispatches/{more.ids[call]}/display?purpose=TREAT")
        assert status == 403 and body["detail"].startswith(told), body
        assert "task relationship" not in body["detail"]
        event = more.last_event()
        assert (event.outcome, event.action, event.resource_id) == ("denied", "read", more.ids[call])
        assert event.reason is not None and event.reason.startswith(told) and event.fields == ()


def test_what_a_dispatcher_and_a_crew_may_see_is_unchanged(more: Site) -> None:
    status, _ = _get(more, "dispatcher", f"/api/v1/dispatches/{more.ids['call']}/display?purpose=TREAT")
    assert status == 200  # an open call of the centre: no task relationship needed
    status, body = _get(more, "emt", f"/api/v1/dispatches/{more.ids['closed_just_now']}/display?purpose=TREAT", "mdt-1")
    assert status == 200 and body.get("caller_handle") is None  # the crew's grace period, no number
    status, body = _get(more, "dispatcher", f"/api/v1/dispatches/{UNKNOWN_CALL}/display?purpose=TREAT")
    assert status == 403 and "closed" not in body["detail"]  # an unknown id tells nothing about calls
