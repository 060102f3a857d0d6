"""Declared purposes and contexts reach the flows whatever their length, routes with a fixed purpose refuse
another one, the MDT routes honour ``context``, statistics refuse filters they lack, and unparsable JSON is a 422."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Site

LONG = "X" * 10_000


def _bridge(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.bridge_key}", "X-Terminal-Id": "pbx-1"}


def _headers(site: Site, who: str) -> dict[str, str]:
    if who == "bridge":
        return _bridge(site)
    return site.token(who, terminal="mdt-1" if who == "emt" else "ws-1")


def _recorded_refusal(site: Site, method: str, url: str, who: str, body: Any = None) -> tuple[int, str, Any]:
    """Send the request; it must be a problem+json that leaves exactly one (denied) event."""
    headers = _headers(site, who)  # a first login is an event of its own
    before = site.events()
    response = site.client.request(method, url, headers=headers, json=body)
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    assert site.events() == before + 1, "the refusal is one access event"
    event = site.last_event()
    assert event.outcome == "denied" and event.fields == ()
    return response.status_code, str(response.json().get("detail", "")), event


# --- 1. any purpose or context reaches the flow: an unknown one is a recorded 400 ---------------


@pytest.mark.parametrize("route", ["/api/v1/death-reports/{report}", "/api/v1/death-reports"], ids=["read", "search"])
@pytest.mark.parametrize("purpose", ["MARKETING_RESEARCH", LONG], ids=["17-chars", "10000-chars"])
def test_an_unknown_purpose_of_any_length_is_a_recorded_400(site: Site, route: str, purpose: str) -> None:
    """Not a 422 that skips the ledger: the attempt is recorded, without the declared text."""
    url = route.format(report=site.ids["report"])
    status, detail, event = _recorded_refusal(site, "GET", f"{url}?purpose={purpose}", "certifier")
    assert status == 400 and detail.startswith("purpose: unknown purpose of use")
    assert event.purpose is None and "unknown purpose of use" in event.reason
    # Neither the answer nor the ledger keeps the declared text whole (the event is bounded).
    assert "XXXXXXXX" not in detail and "XXXXXXXX" not in repr(event) and "MARKETING" not in repr(event)
    assert len(repr(event)) < 2_000


@pytest.mark.parametrize("context", ["c" * 33, "x" * 10_000], ids=["33-chars", "10000-chars"])
def test_an_unknown_context_of_any_length_is_a_recorded_400(site: Site, context: str) -> None:
    url = f"/api/v1/death-reports/{site.ids['report']}?purpose=TREAT&context={context}"
    status, detail, event = _recorded_refusal(site, "GET", url, "certifier")
    assert status == 400 and detail.startswith("context: unknown display context")
    assert (event.action, event.resource_id, event.purpose) == ("read", site.ids["report"], "TREAT")
    assert context[:8] not in detail and context[:8] not in repr(event)


# --- 2. routes with a fixed purpose ---------------------------------------------------------------

# (method, route, who, body, the route's purpose, action, resource type, resource id key)
FIXED: list[tuple[str, str, str, dict[str, Any] | None, str, str, str, str | None]] = [
    ("GET", "/api/v1/oversight/cases", "officer", None, "HOPERAT", "read", "case", None),
    ("GET", "/api/v1/breakglass/pending", "officer", None, "HOPERAT", "read", "breakglass_review", None),
    ("GET", "/api/v1/oversight/training/status", "officer", None, "HOPERAT", "read", "training_record", None),
    ("GET", "/api/v1/oversight/rectifications", "officer", None, "HOPERAT", "read", "rectification", None),
    ("GET", "/api/v1/oversight/family-requests", "officer", None, "FAMRQT", "read", "family_request", None),
    ("GET", "/api/v1/oversight/reports/{org_cdc}/2026-01", "officer", None, "HOPERAT", "read", "privacy_report",
     "org_cdc"),
    ("POST", "/api/v1/handles/resolve", "bridge", {"handle": "951234567890"}, "TREAT", "resolve_handle", "contact",
     None),
    ("POST", "/api/v1/death-reports/{report}/corrections", "certifier",
     {"field": "place_detail", "value": "ward 3", "reason": "typo in the ward"}, "HOPERAT", "update", "death_report",
     "report"),
    # A physician presenting a code acts for a family (FAMRQT); only a police registrar's is LEGAL.
    ("POST", "/api/v1/death-reports/present-code", "certifier", {"code": "ABCD-1234"}, "FAMRQT", "update",
     "death_report", None),
]  # fmt: skip
FIXED_IDS = [f"{row[0]} {row[1]}" for row in FIXED]


def _fixed_url(site: Site, route: str) -> str:
    return route.format(report=site.ids["report"], org_cdc=site.ids["org_cdc"])


@pytest.mark.parametrize(
    "query",
    [
        "?purpose=HMARKT",
        "?purpose=LEGAL",
        "?purpose=SELL&purpose=X",
        "?purpose={own}&purpose={own}",
        f"?purpose={LONG}",
    ],
    ids=["marketing", "another-known", "twice-unknown", "own-twice", "10000-chars"],
)
@pytest.mark.parametrize(("method", "route", "who", "body", "own", "action", "kind", "key"), FIXED, ids=FIXED_IDS)
def test_a_declared_purpose_other_than_the_routes_own_is_a_recorded_400(
    site: Site,
    query: str,
    method: str,
    route: str,
    who: str,
    body: dict[str, Any] | None,
    own: str,
    action: str,
    kind: str,
    key: str | None,
) -> None:
    """The ledger must not say HOPERAT when the caller declared HMARKT: nothing runs, the attempt is recorded."""
    status, detail, event = _recorded_refusal(site, method, _fixed_url(site, route) + query.format(own=own), who, body)
    assert status == 400
    if "&" in query:
        assert detail == "purpose: given more than once; send exactly one value"
    else:
        assert detail.startswith(f"purpose: this route acts only for {own} ")
        assert "XXXXXXXX" not in detail and "HMARKT" not in detail
    assert (event.action, event.resource_type, event.purpose) == (action, kind, None)
    assert event.resource_id == (site.ids[key] if key else None)
    assert event.reason.startswith("purpose: ") and "XXXXXXXX" not in repr(event)


@pytest.mark.parametrize(
    "route", ["/api/v1/oversight/cases", "/api/v1/breakglass/pending", "/api/v1/oversight/training/status"]
)
@pytest.mark.parametrize("declared", [None, "", "HOPERAT", "hoperat"], ids=["absent", "empty", "same", "lower"])
def test_the_routes_own_purpose_or_none_is_accepted(site: Site, route: str, declared: str | None) -> None:
    params = {} if declared is None else {"purpose": declared}
    response = site.client.get(route, params=params, headers=site.token("officer"))
    assert response.status_code == 200, response.text
    event = site.last_event()
    assert (event.outcome, event.purpose) == ("allowed", "HOPERAT")


def test_the_family_routes_accept_famrqt_and_the_bridge_treat(site: Site) -> None:
    officer = site.token("officer")
    listed = site.client.get("/api/v1/oversight/family-requests", params={"purpose": "FAMRQT"}, headers=officer)
    assert listed.status_code == 200 and site.last_event().purpose == "FAMRQT"
    emt = site.token("emt", terminal="mdt-1")
    call = site.client.get(f"/api/v1/dispatches/{site.ids['call']}/display?purpose=TREAT", headers=emt).json()
    resolved = site.client.post(
        "/api/v1/handles/resolve?purpose=TREAT", json={"handle": call["caller_handle"]}, headers=_bridge(site)
    )
    assert resolved.status_code == 200 and site.last_event().purpose == "TREAT"


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", "/api/v1/oversight/cases/nope?purpose=HMARKT", "path.case_id"),
        ("POST", "/api/v1/breakglass/nope/review?purpose=HMARKT", "path.grant_id"),
        ("GET", "/api/v1/oversight/cases?purpose=HMARKT&limit=0", "query.limit"),
    ],
    ids=["path", "path-post", "query"],
)
def test_a_malformed_path_or_query_stays_a_422_that_reaches_no_ledger(
    site: Site, method: str, url: str, field: str
) -> None:
    officer = site.token("officer")
    before = site.events()
    body = {"outcome": "justified", "note": "fine."} if method == "POST" else None
    response = site.client.request(method, url, headers=officer, json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert site.events() == before


def test_unauthenticated_with_a_wrong_purpose_is_still_a_401(site: Site) -> None:
    before = site.events()
    assert site.client.get("/api/v1/oversight/cases?purpose=HMARKT").status_code == 401
    assert site.events() == before


# --- 3. the MDT routes honour context; statistics refuse filters they do not have ----------------


@pytest.mark.parametrize(
    ("route", "action", "key"),
    [("/api/v1/dispatches", "search", None), ("/api/v1/dispatches/{call}/display", "read", "call")],
    ids=["list", "display"],
)
def test_a_dispatch_route_refuses_another_screen_and_records_it(
    site: Site, route: str, action: str, key: str | None
) -> None:
    url = route.format(call=site.ids["call"])
    status, detail, event = _recorded_refusal(site, "GET", f"{url}?purpose=TREAT&context=hospital_certifier", "emt")
    assert status == 400 and detail.startswith("context: unknown display context")
    assert (event.action, event.resource_type, event.purpose) == (action, "dispatch", "TREAT")
    assert event.resource_id == (site.ids[key] if key else None)
    status, detail, event = _recorded_refusal(site, "GET", f"{url}?purpose=TREAT&context=a&context=b", "emt")
    assert status == 400 and detail == "context: given more than once; send exactly one value"
    assert (event.action, event.resource_type) == (action, "dispatch")
    # A bad purpose is refused first, as on every route.
    status, detail, _ = _recorded_refusal(site, "GET", f"{url}?purpose=SELL&context=hospital_certifier", "emt")
    assert status == 400 and detail.startswith("purpose:")
    emt = site.token("emt", terminal="mdt-1")
    shown = site.client.get(url, params={"purpose": "TREAT", "context": "ambulance_mdt"}, headers=emt)
    assert shown.status_code == 200 and shown.json()["context"] == "ambulance_mdt"


def test_statistics_refuse_filters_they_do_not_have(site: Site) -> None:
    """A month or chapter filter was ignored: every cell came back as if it had applied."""
    epi = site.token("epi")
    before = site.events()
    response = site.client.get("/api/v1/statistics/deaths?purpose=PUBHLTH&month=2026-11&chapter=I", headers=epi)
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["query.chapter", "query.month"]
    assert site.events() == before
    kept = site.client.get("/api/v1/statistics/deaths?purpose=PUBHLTH&district=310112", headers=epi)
    assert kept.status_code == 200 and site.last_event().query == "district=310112"


# --- 4. a body that is not JSON at all ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[" * 50_000 + b'"secret"' + b"]" * 50_000, "not valid JSON: nested too deeply"),
        (b'{"handle": "95\xff\xfe"}', "not valid JSON"),
    ],
    ids=["nested", "not-utf8"],
)
def test_an_unparsable_body_is_a_422_naming_the_body(site: Site, content: bytes, reason: str) -> None:
    headers = {**_bridge(site), "Content-Type": "application/json"}
    before = site.events()
    response = site.client.post("/api/v1/handles/resolve", content=content, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [{"field": "body", "reason": reason}]
    assert "secret" not in response.text
    assert site.events() == before
