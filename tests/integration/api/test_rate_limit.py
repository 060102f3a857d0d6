"""The per-account limit on record-disclosing requests, over HTTP on SQLite and PostgreSQL.

The routes run under a small allowance (3 at once, 6 a minute, 20 an hour for people; 5 at
once for service accounts) and a clock driven through the guard, as the flows' tests do: no
sleeping. Every request, refused by the limit or not, leaves exactly one access event. Besides
the site's people and records, the module adds a dispatcher of the emergency centre and five
more reports certified by the site's certifier (named 张…), for searches that return several.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from piguard.api.app import create_app
from piguard.api.deps import get_guard
from piguard.config import Settings
from piguard.db import make_session_factory
from piguard.identity import allowance
from piguard.identity import service as identity
from piguard.identity.models import DisclosureAllowance
from piguard.ledger import service as ledger
from piguard.records import service as records
from piguard.records.guard import Guard
from tests.integration.api.conftest import PASSWORD, RELATIVE_PHONE, Site

TIGHT = {
    "disclosure_burst": 3,
    "disclosure_per_minute": 6,  # one more every 10 s
    "disclosure_per_hour": 20,  # one more every 180 s
    "service_disclosure_burst": 5,
    "service_disclosure_per_minute": 60,
    "service_disclosure_per_hour": 100,
}
PERSON_INTERVAL, PERSON_HOUR_INTERVAL = 10, 180
MORE_REPORTS = 5  # certified by the site's certifier, found by q=张


@dataclass
class Limited:
    """An app with a tight allowance over the site's database, and the clock its guard reads."""

    site: Site
    client: TestClient
    now: datetime

    def get(self, url: str, who: str, terminal: str = "ws-1", **params: str) -> Response:
        return self.client.get(url, params=params, headers=self.site.token(who, terminal))

    def read(self, who: str = "certifier") -> Response:
        return self.get(f"/api/v1/death-reports/{self.site.ids['report']}", who, purpose="TREAT")

    def resolve(self, handle: str) -> Response:
        bridge = {"Authorization": f"Bearer {self.site.bridge_key}", "X-Terminal-Id": "pbx-1"}
        return self.client.post("/api/v1/handles/resolve", json={"handle": handle}, headers=bridge)

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def reset(self) -> None:
        """Forget every account's use of its allowance (the site's database is shared by the module)."""
        with make_session_factory(self.site.engine)() as db, db.begin():
            db.execute(delete(DisclosureAllowance))


def _app_with(site: Site, **overrides: Any) -> FastAPI:
    app: FastAPI = site.client.app  # type: ignore[assignment]
    base: Settings = app.state.settings
    return create_app(Settings(data_dir=base.data_dir, database_url=base.database_url, **overrides))


def _add_dispatcher_and_reports(site: Site) -> None:
    """A dispatcher of the emergency centre, and more reports of the certifier (for searches returning several)."""
    app: FastAPI = site.client.app  # type: ignore[assignment]
    state = app.state
    now = datetime.now(UTC)
    with make_session_factory(site.engine)() as db, db.begin():
        ledger.bind_settings(db, state.settings)
        made = identity.create_account(
            session=db,
            secret=state.secret,
            username="zhou.min",
            display_name="dispatcher",
            role="dispatcher",
            org_id=site.ids["org_ec"],
            password=PASSWORD,
            demo=True,
        )
        identity.record_training(
            session=db,
            account_id=made.account.id,
            course_code="privacy-basics",
            score=90,
            completed_at=now - timedelta(days=10),
        )
        site.ids["dispatcher"], site.usernames["dispatcher"] = made.account.id, made.account.username
        site.totp["dispatcher"] = made.totp_secret or ""
        for n in range(MORE_REPORTS):
            report = records.create_report(
                session=db,
                hospital_org_id=site.ids["org_a"],
                subject_id=f"subj-z{n}",
                name=f"张{n}",
                sex="male",
                death_time=now - timedelta(days=1),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "肺炎", "icd10": "J18.9"}],
            )
            records.certify(
                session=db, report_id=report.id, certifier_id=site.ids["certifier"], at=now - timedelta(hours=20)
            )


@pytest.fixture(scope="module")
def tight(site: Site) -> Iterator[Limited]:
    """The site's database behind an app with the tight allowance; tokens from the site work here too."""
    _add_dispatcher_and_reports(site)
    app = _app_with(site, **TIGHT)
    limited = Limited(site=site, client=TestClient(app), now=datetime.now(UTC) + timedelta(minutes=1))

    async def clocked() -> Guard:
        state = app.state
        return Guard(engine=state.policy, settings=state.settings, secret=state.secret, now=limited.now)

    app.dependency_overrides[get_guard] = clocked
    for who, terminal in (("certifier", "ws-1"), ("broker", "ws-1"), ("emt", "mdt-1"), ("dispatcher", "ws-1")):
        site.token(who, terminal)  # log in first, so that counting events counts only the requests
    with limited.client:
        yield limited


@pytest.fixture
def api(tight: Limited) -> Limited:
    """The tight app with every allowance full and the clock a day after the previous test's."""
    tight.reset()
    tight.later(24 * 3600)
    return tight


def _assert_limited(api: Limited, response: Response, before: int, *, retry_after: int) -> Any:
    """A 429 problem with Retry-After and no record data, and exactly one denied event naming the limit."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["Retry-After"] == str(retry_after)
    body = response.json()
    assert (body["type"], body["title"], body["status"]) == ("about:blank", "Too many requests", 429)
    assert body["detail"].startswith("rate limit: ") and f"retry after {retry_after} s" in body["detail"]
    assert set(body) == {"type", "title", "status", "detail", "retry_after"}
    assert "李秀英" not in response.text and RELATIVE_PHONE not in response.text
    assert api.site.events() == before + 1, "every request leaves exactly one access event"
    event = api.site.last_event()
    assert event.outcome == "denied" and event.reason == body["detail"]
    assert event.fields == () and event.result_count is None and event.result_subject_ids == ()
    assert event.time == api.now
    return event


def test_requests_within_the_allowance_are_unaffected(api: Limited) -> None:
    for _ in range(TIGHT["disclosure_burst"]):
        before = api.site.events()
        response = api.read()
        assert response.status_code == 200 and "Retry-After" not in response.headers
        assert response.json()["context"] == "hospital_certifier"
        assert api.site.events() == before + 1 and api.site.last_event().outcome == "allowed"


def test_over_the_burst_is_429_with_retry_after_and_one_denied_event(api: Limited) -> None:
    for _ in range(TIGHT["disclosure_burst"]):
        assert api.read().status_code == 200
    before = api.site.events()
    event = _assert_limited(api, api.read(), before, retry_after=PERSON_INTERVAL)
    assert (event.user_id, event.action, event.resource_type) == (api.site.ids["certifier"], "read", "death_report")
    assert (event.resource_id, event.purpose, event.subject_id) == (api.site.ids["report"], "TREAT", None)
    assert event.terminal_id == "ws-1"
    # Refused requests take nothing: the wait stays what the first 429 said.
    api.later(4)
    before = api.site.events()
    _assert_limited(api, api.read(), before, retry_after=PERSON_INTERVAL - 4)


def test_the_allowance_refills_as_time_passes(api: Limited) -> None:
    for _ in range(TIGHT["disclosure_burst"]):
        assert api.read().status_code == 200
    api.later(PERSON_INTERVAL - 1)
    assert api.read().status_code == 429
    api.later(1)
    assert api.read().status_code == 200  # one back after 10 s
    assert api.read().status_code == 429
    api.later(TIGHT["disclosure_burst"] * PERSON_INTERVAL)
    assert [api.read().status_code for _ in range(4)] == [200, 200, 200, 429]  # the whole burst back


def test_the_hourly_allowance_binds_a_steady_stream(api: Limited) -> None:
    """One read every 10 s fits the per-minute rate, but not the 20 an hour (refilled one per 180 s)."""
    statuses = []
    for _ in range(30):
        statuses.append(api.read().status_code)
        if statuses[-1] == 429:
            break
        api.later(PERSON_INTERVAL)
    # 20 from the full hour bucket, plus one regained at 180 s.
    assert statuses == [200] * 21 + [429]
    wait = int(api.read().headers["Retry-After"])
    assert PERSON_INTERVAL < wait <= PERSON_HOUR_INTERVAL
    assert "20 an hour" in api.site.last_event().reason
    api.later(wait - 1)
    assert api.read().status_code == 429
    api.later(1)
    assert api.read().status_code == 200


def test_accounts_are_limited_separately(api: Limited) -> None:
    for _ in range(TIGHT["disclosure_burst"]):
        assert api.read().status_code == 200
    assert api.read().status_code == 429
    assert api.read("broker").status_code == 403  # the other doctor's own allowance is untouched
    assert not api.site.last_event().reason.startswith("rate limit")


def _routes(api: Limited) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Route name -> (method and path, account, the limited event's expected fields)."""
    ids = api.site.ids
    return {
        "search": (
            "GET /api/v1/death-reports?purpose=treat&q=李&district=310112",
            "certifier",
            {"action": "search", "resource_type": "death_report", "purpose": "TREAT", "query": "q=李;district=310112"},
        ),
        "read": (
            f"GET /api/v1/death-reports/{ids['report']}?purpose=SELL",
            "certifier",
            {"action": "read", "resource_type": "death_report", "resource_id": ids["report"], "purpose": None},
        ),
        "dispatch list": (  # the dispatcher's list holds the one open call: one request, one record
            "GET /api/v1/dispatches?purpose=ETREAT",
            "dispatcher",
            {"action": "search", "resource_type": "dispatch", "purpose": "ETREAT", "query": "assigned"},
        ),
        "dispatch display": (
            f"GET /api/v1/dispatches/{ids['call']}/display?purpose=TREAT",
            "dispatcher",
            {"action": "read", "resource_type": "dispatch", "resource_id": ids["call"], "purpose": "TREAT"},
        ),
        "present code": (
            "POST /api/v1/death-reports/present-code",
            "certifier",
            {"action": "update", "resource_type": "death_report", "resource_id": None, "purpose": "FAMRQT"},
        ),
    }


@pytest.mark.parametrize("route", ["search", "read", "dispatch list", "dispatch display", "present code"])
def test_every_disclosing_route_counts_and_records_its_refusal(api: Limited, route: str) -> None:
    target, who, expected = _routes(api)[route]
    method, _, path = target.partition(" ")
    terminal = "mdt-1" if who == "emt" else "ws-1"
    headers = api.site.token(who, terminal)

    def send() -> Response:
        if method == "POST":
            return api.client.post(path, json={"code": "AAAA-BBBB-CCCC"}, headers=headers)
        return api.client.get(path, headers=headers)

    # Allowed or refused by the policy, each request counts.
    for _ in range(TIGHT["disclosure_burst"]):
        assert send().status_code != 429
    before = api.site.events()
    event = _assert_limited(api, send(), before, retry_after=PERSON_INTERVAL)
    got = {name: getattr(event, name) for name in expected}
    assert got == expected


def test_a_service_account_has_its_own_allowance(api: Limited) -> None:
    display = api.get(f"/api/v1/dispatches/{api.site.ids['call']}/display", "emt", "mdt-1", purpose="TREAT")
    handle = display.json()["caller_handle"]
    for _ in range(TIGHT["service_disclosure_burst"]):  # more than a person's burst of 3
        resolved = api.resolve(handle)
        assert resolved.status_code == 200 and resolved.json()["number"] == "13787654321"
    before = api.site.events()
    refused = api.resolve(handle)
    event = _assert_limited(api, refused, before, retry_after=1)  # 60 a minute: one back each second
    assert "13787654321" not in refused.text
    assert (event.user_id, event.role, event.action) == (api.site.ids["bridge"], "service", "resolve_handle")
    assert (event.resource_type, event.purpose) == ("contact", "TREAT")
    assert "5 at once, 60 a minute, 100 an hour" in event.reason
    api.later(1)
    assert api.resolve(handle).status_code == 200


def test_concurrent_requests_through_two_engines_share_one_count(api: Limited) -> None:
    """Like several server processes: twelve requests at one instant, through two connection pools."""
    app: FastAPI = api.client.app  # type: ignore[assignment]
    factories = [make_session_factory(api.site.engine), make_session_factory(app.state.engine)]
    start = Barrier(12)
    limit = allowance.Allowance(burst=3, per_minute=6, per_hour=20)

    def request(n: int) -> int | None:
        with factories[n % 2]() as db:
            start.wait()
            with db.begin():
                return allowance.take(session=db, account_id=api.site.ids["broker"], allowance=limit, at=api.now)

    with ThreadPoolExecutor(max_workers=12) as pool:
        waits = list(pool.map(request, range(12)))
    assert sorted(waits, key=lambda w: w or 0) == [None] * 3 + [PERSON_INTERVAL] * 9


def test_the_limit_can_be_switched_off(site: Site) -> None:
    app = _app_with(site, **{**TIGHT, "disclosure_limit_enabled": False})
    with TestClient(app) as client:
        url = f"/api/v1/death-reports/{site.ids['report']}"
        statuses = {
            client.get(url, params={"purpose": "TREAT"}, headers=site.token("certifier")).status_code
            for _ in range(TIGHT["disclosure_burst"] + 3)
        }
    assert statuses == {200}


# Each step: who asks (a reader who is allowed, one the policy refuses) and how long after the last.
steps = st.lists(
    st.tuples(st.sampled_from(["certifier", "broker"]), st.sampled_from([0, 0, 0, 1, 5, 10, 60, 200])),
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_every_request_leaves_one_event_and_the_limit_matches_two_token_buckets(
    api: Limited, plan: list[tuple[str, int]]
) -> None:
    """A reference model (two buckets in exact arithmetic) predicts each 429; each request is one event."""
    api.reset()
    api.later(24 * 3600)
    model: dict[str, list[float]] = {}  # account -> [burst bucket full at, hour bucket full at] (seconds)
    clock = 0.0
    for who, pause in plan:
        api.later(pause)
        clock += pause
        burst_full, hour_full = model.setdefault(who, [clock, clock])
        fits = burst_full - clock <= (3 - 1) * PERSON_INTERVAL and hour_full - clock <= (20 - 1) * PERSON_HOUR_INTERVAL
        if fits:
            model[who] = [max(burst_full, clock) + PERSON_INTERVAL, max(hour_full, clock) + PERSON_HOUR_INTERVAL]
        before = api.site.events()
        response = api.read(who)
        assert api.site.events() == before + 1, "every request leaves exactly one access event"
        event = api.site.last_event()
        assert event.user_id == api.site.ids[who]
        if fits:
            assert response.status_code == (200 if who == "certifier" else 403)
            assert not event.reason.startswith("rate limit")
        else:
            assert response.status_code == 429 and "Retry-After" in response.headers
            assert event.outcome == "denied" and event.reason.startswith("rate limit: ")
            assert "李秀英" not in response.text and RELATIVE_PHONE not in response.text


def _search(api: Limited, q: str, who: str = "certifier") -> Response:
    return api.get("/api/v1/death-reports", who, purpose="TREAT", q=q)


def test_a_search_is_charged_by_the_records_it_returns(api: Limited) -> None:
    """Five records with a burst of three: the answer is whole, and the next request waits out the debt."""
    response = _search(api, "张")
    assert response.status_code == 200 and "Retry-After" not in response.headers
    assert response.json()["count"] == MORE_REPORTS  # never cut short
    event = api.site.last_event()
    assert event.outcome == "allowed" and event.result_count == MORE_REPORTS
    # 1 taken before the search, 4 charged after it: two in debt, so three intervals until one fits.
    debt_wait = (MORE_REPORTS - TIGHT["disclosure_burst"] + 1) * PERSON_INTERVAL
    before = api.site.events()
    _assert_limited(api, api.read(), before, retry_after=debt_wait)
    api.later(debt_wait - 1)
    assert api.read().headers["Retry-After"] == "1"
    api.later(1)  # Retry-After is enough
    assert api.read().status_code == 200
    assert api.read().status_code == 429


def test_the_plain_worklist_costs_one_request_however_many_it_lists(api: Limited) -> None:
    """No filter, no paging: the same newest tasks every time, so a refresh is one request, not one per record."""
    for _ in range(TIGHT["disclosure_burst"]):
        listed = api.get("/api/v1/death-reports", "certifier", purpose="TREAT")
        assert listed.status_code == 200 and listed.json()["count"] >= MORE_REPORTS
    before = api.site.events()
    _assert_limited(api, api.read(), before, retry_after=PERSON_INTERVAL)


def test_an_empty_or_refused_search_costs_one_request(api: Limited) -> None:
    empty = _search(api, "无此人")
    assert empty.status_code == 200 and empty.json()["count"] == 0
    refused = api.get("/api/v1/death-reports", "certifier", purpose="SELL", q="张")
    assert refused.status_code == 400
    assert api.read().status_code == 200  # the third of the burst of three
    before = api.site.events()
    _assert_limited(api, api.read(), before, retry_after=PERSON_INTERVAL)


def test_certificate_prefix_searches_are_stopped_after_about_the_burst(api: Limited) -> None:
    """The auditor's pattern: q=DC0 … q=DCF back to back. Records returned before the first 429 stay near the burst."""
    disclosed: set[str] = set()
    largest = 0
    statuses = []
    for digit in "0123456789ABCDEF":
        response = _search(api, f"DC{digit}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
        items = response.json()["items"]
        largest = max(largest, len(items))
        disclosed.update(item["report_id"] for item in items)
    # Each search costs at least one request: refused by the fourth at the latest, not after 16.
    assert statuses[-1] == 429 and len(statuses) <= TIGHT["disclosure_burst"] + 1
    # Every record costs one request: the burst, less one for the search that went into debt, plus that search.
    assert len(disclosed) <= TIGHT["disclosure_burst"] - 1 + largest


def test_a_crew_polling_its_own_open_call_for_three_hours_is_never_refused(api: Limited) -> None:
    """The MDT refreshes the list and the display every 10 s (12 a minute, above the hourly 20 here)."""
    display = f"/api/v1/dispatches/{api.site.ids['call']}/display"
    statuses: set[int] = set()
    for _ in range(3 * 360):
        listed = api.get("/api/v1/dispatches", "emt", "mdt-1", purpose="ETREAT")
        assert listed.json()["count"] == 1
        statuses |= {listed.status_code, api.get(display, "emt", "mdt-1", purpose="ETREAT").status_code}
        api.later(10)
    assert statuses == {200}
    assert api.site.last_event().outcome == "allowed"


def test_a_crew_member_is_counted_for_calls_not_assigned_to_them(api: Limited) -> None:
    """Probing other call ids counts; the crew's own call stays free."""
    other = "/api/v1/dispatches/01ARZ3NDEKTSV4RRFFQ69G5FAV/display"  # no such call
    for _ in range(TIGHT["disclosure_burst"]):
        assert api.get(other, "emt", "mdt-1", purpose="TREAT").status_code == 403
    before = api.site.events()
    event = _assert_limited(api, api.get(other, "emt", "mdt-1", purpose="TREAT"), before, retry_after=PERSON_INTERVAL)
    assert (event.action, event.resource_type) == ("read", "dispatch")
    # The crew's own call is still shown while its allowance is spent.
    own = api.get(f"/api/v1/dispatches/{api.site.ids['call']}/display", "emt", "mdt-1", purpose="ETREAT")
    assert own.status_code == 200


def test_a_dispatcher_polling_the_same_way_is_still_limited(api: Limited) -> None:
    display = f"/api/v1/dispatches/{api.site.ids['call']}/display"
    statuses = []
    for _ in range(3 * 360):
        statuses.append(api.get("/api/v1/dispatches", "dispatcher", purpose="ETREAT").status_code)
        statuses.append(api.get(display, "dispatcher", purpose="ETREAT").status_code)
        if 429 in statuses:
            break
        api.later(10)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    assert len(statuses) < 3 * 360  # refused within minutes under 20 an hour
