"""Purpose of use on every route that reads (missing or repeated: 400 and recorded), and the MDT list -> display."""

from __future__ import annotations

import re

import pytest

from piguard.api.ids import ULID_PATTERN
from tests.integration.api.conftest import Site

# (route, who, terminal, action, resource type, resource id key in site.ids, takes a context)
ROUTES: list[tuple[str, str, str, str, str, str | None, bool]] = [
    ("/api/v1/dispatches", "emt", "mdt-1", "search", "dispatch", None, False),
    ("/api/v1/dispatches/{call}/display", "emt", "mdt-1", "read", "dispatch", "call", False),
    ("/api/v1/death-reports", "certifier", "ws-1", "search", "death_report", None, True),
    ("/api/v1/death-reports/{report}", "certifier", "ws-1", "read", "death_report", "report", True),
    ("/api/v1/statistics/deaths", "epi", "ws-1", "read", "statistics", None, False),
]
IDS = [route[0] for route in ROUTES]


def _url(site: Site, route: str) -> str:
    return route.format(call=site.ids["call"], report=site.ids["report"])


def _refused(site: Site, url: str, query: str, who: str, terminal: str) -> tuple[int, str]:
    headers = site.token(who, terminal=terminal)  # a first login is an event of its own
    before = site.events()
    response = site.client.get(f"{url}{query}", headers=headers)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert site.events() == before + 1, "the refusal is one access event"
    return response.status_code, str(response.json().get("detail", ""))


@pytest.mark.parametrize("missing", ["", "?purpose="], ids=["absent", "empty"])
@pytest.mark.parametrize(("route", "who", "terminal", "action", "kind", "key", "ctx"), ROUTES, ids=IDS)
def test_a_missing_purpose_is_a_400_and_one_denied_event(
    site: Site, missing: str, route: str, who: str, terminal: str, action: str, kind: str, key: str | None, ctx: bool
) -> None:
    """No route assumes a purpose: the dispatch routes refuse like the death-report routes."""
    del ctx
    status, detail = _refused(site, _url(site, route), missing, who, terminal)
    assert status == 400 and detail.startswith("purpose:")
    event = site.last_event()
    assert (event.outcome, event.action, event.resource_type, event.purpose) == ("denied", action, kind, None)
    assert event.resource_id == (site.ids[key] if key else None)
    assert event.fields == () and "purpose of use is required" in event.reason


@pytest.mark.parametrize(
    "query",
    ["?purpose=SELL&purpose=TREAT", "?purpose=TREAT&purpose=TREAT", "?purpose=TREAT&purpose=SELL"],
    ids=["unknown-then-known", "same-twice", "known-then-unknown"],
)
@pytest.mark.parametrize(("route", "who", "terminal", "action", "kind", "key", "ctx"), ROUTES, ids=IDS)
def test_a_repeated_purpose_is_a_400_naming_it_and_recorded(
    site: Site,
    query: str,
    route: str,
    who: str,
    terminal: str,
    action: str,
    kind: str,
    key: str | None,
    ctx: bool,
) -> None:
    """The last value no longer wins: which purpose was declared is ambiguous, so nothing is read."""
    del ctx
    if kind == "statistics":
        query = query.replace("TREAT", "PUBHLTH")
    status, detail = _refused(site, _url(site, route), query, who, terminal)
    assert status == 400 and detail == "purpose: given more than once; send exactly one value"
    event = site.last_event()
    assert (event.outcome, event.action, event.resource_type, event.purpose) == ("denied", action, kind, None)
    assert event.resource_id == (site.ids[key] if key else None)
    assert event.fields == () and event.result_count is None
    assert "more than once" in event.reason


@pytest.mark.parametrize(
    ("route", "who", "terminal", "action", "kind", "key", "ctx"),
    [route for route in ROUTES if route[6]],
    ids=[route[0] for route in ROUTES if route[6]],
)
def test_a_repeated_context_is_a_400_where_a_context_is_taken(
    site: Site, route: str, who: str, terminal: str, action: str, kind: str, key: str | None, ctx: bool
) -> None:
    del ctx
    query = "?purpose=TREAT&context=hospital_certifier&context=privacy_review"
    status, detail = _refused(site, _url(site, route), query, who, terminal)
    assert status == 400 and detail == "context: given more than once; send exactly one value"
    event = site.last_event()
    assert (event.outcome, event.action, event.resource_type) == ("denied", action, kind)
    assert event.resource_id == (site.ids[key] if key else None)


def test_a_malformed_id_stays_a_422_that_reaches_no_ledger(site: Site) -> None:
    """The repetition check runs after validation: a bad path is refused before any record or event."""
    emt = site.token("emt", terminal="mdt-1")
    before = site.events()
    response = site.client.get("/api/v1/dispatches/nope/display?purpose=TREAT&purpose=SELL", headers=emt)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.dispatch_id"]
    assert site.events() == before


def test_the_list_gives_the_id_that_opens_the_display(site: Site) -> None:
    """The list names each call by its opaque id; that id opens the call's MDT display."""
    emt = site.token("emt", terminal="mdt-1")
    listed = site.client.get("/api/v1/dispatches", params={"purpose": "TREAT"}, headers=emt)
    assert listed.status_code == 200
    assert "dispatch_id" in site.last_event().fields  # the ledger names what the list disclosed
    (item,) = listed.json()["items"]
    dispatch_id = item["dispatch_id"]
    assert re.fullmatch(ULID_PATTERN, dispatch_id) and dispatch_id == site.ids["call"]
    before = site.events()
    display = site.client.get(f"/api/v1/dispatches/{dispatch_id}/display", params={"purpose": "TREAT"}, headers=emt)
    assert display.status_code == 200
    body = display.json()
    assert body["dispatch_id"] == dispatch_id and body["incident_id"] == item["incident_id"]
    assert body["context"] == "ambulance_mdt" and "13787654321" not in display.text
    event = site.last_event()
    assert site.events() == before + 1
    assert (event.outcome, event.action, event.resource_id, event.purpose) == ("allowed", "read", dispatch_id, "TREAT")
    assert set(event.fields) == {k for k, v in body.items() if v is not None} - {"context"}
