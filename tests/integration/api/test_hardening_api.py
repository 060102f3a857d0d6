"""What a penetration test checks at the door: caching, body size, path ids, error bodies, 401/405/500."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.types import Message

from piguard.api.app import create_app
from piguard.api.ids import ORG_OR_CITY_PATTERN, ULID_PATTERN
from piguard.config import Settings
from piguard.db import Base, make_engine
from piguard.db.registry import load_all_models
from piguard.identity import totp
from piguard.keys import ensure_secret
from piguard.ledger.keys import ensure_signing_key
from tests.conftest import BACKENDS, private_database_url
from tests.integration.api.conftest import PASSWORD, RELATIVE_PHONE, Site

UNKNOWN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # well formed, names nothing
CHUNK = 65_536


class _Answer(Protocol):
    """What is checked of a test client's response (httpx or httpx2, whichever Starlette uses)."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def _assert_not_cached(response: _Answer, where: str = "") -> None:
    assert response.headers.get("cache-control") == "no-store", (where, response.headers)
    assert response.headers.get("x-content-type-options") == "nosniff", (where, response.headers)


def _app(site: Site) -> FastAPI:
    app = site.client.app
    assert isinstance(app, FastAPI)
    return app


def _limit(site: Site) -> int:
    limit: int = _app(site).state.settings.max_request_bytes
    return limit


def _grant_body(site: Site, size: int) -> bytes:
    """A valid break-glass request padded with JSON whitespace to exactly ``size`` bytes."""
    core = (
        b'{"report_id": "' + site.ids["report"].encode() + b'", "purpose": "BTG", '
        b'"reason": "patient in arrest, prior history needed"'
    )
    assert len(core) + 1 <= size
    return core + b" " * (size - len(core) - 1) + b"}"


# --- Cache-Control and nosniff ------------------------------------------------------------------


def test_responses_with_personal_or_audit_data_are_never_cached(site: Site) -> None:
    """Success and refusal alike: record views, dispatches, handles, sessions, oversight, audit."""
    doctor, broker, officer = site.token("certifier"), site.token("broker"), site.token("officer")
    emt = site.token("emt", terminal="mdt-1")
    report, call = site.ids["report"], site.ids["call"]
    handle = site.client.get(f"/api/v1/dispatches/{call}/display?purpose=TREAT", headers=emt).json()["caller_handle"]
    bridge = {"Authorization": f"Bearer {site.bridge_key}", "X-Terminal-Id": "pbx-1"}
    short_reason = {"report_id": report, "purpose": "BTG", "reason": "now"}
    cases: list[tuple[str, str, dict[str, str], dict[str, Any] | None, int]] = [
        ("GET", f"/api/v1/death-reports/{report}?purpose=TREAT", doctor, None, 200),
        ("GET", "/api/v1/death-reports?purpose=TREAT", doctor, None, 200),
        ("GET", "/api/v1/dispatches?purpose=TREAT", emt, None, 200),
        ("GET", f"/api/v1/dispatches/{call}/display?purpose=TREAT", emt, None, 200),
        ("POST", "/api/v1/handles/resolve", bridge, {"handle": handle}, 200),
        ("GET", "/api/v1/breakglass/pending", officer, None, 200),
        ("GET", "/api/v1/me", doctor, None, 200),
        ("GET", "/api/v1/me/sessions", doctor, None, 200),
        ("GET", "/api/v1/audit/proofs/inclusion?index=0&size=1", officer, None, 200),
        ("GET", "/api/v1/oversight/cases", officer, None, 200),
        ("GET", "/api/v1/oversight/family-requests", officer, None, 200),
        ("GET", "/api/v1/oversight/training/status", doctor, None, 200),
        # Refusals tell who was refused what: 401, 403, 404, 405 and 422 (validation and NUL).
        ("GET", "/api/v1/me", {}, None, 401),
        ("GET", f"/api/v1/death-reports/{report}?purpose=TREAT", broker, None, 403),
        ("GET", "/api/v1/breakglass/pending", doctor, None, 403),
        # An unknown id is refused as an unrelated record is: no existence oracle.
        ("GET", f"/api/v1/death-reports/{UNKNOWN}?purpose=TREAT", doctor, None, 403),
        ("GET", "/api/v1/nowhere", doctor, None, 404),
        ("DELETE", "/api/v1/me", doctor, None, 405),
        ("GET", "/api/v1/death-reports/nope?purpose=TREAT", doctor, None, 422),
        ("GET", "/api/v1/death-reports?purpose=TREAT&q=a%00", doctor, None, 422),
        ("POST", "/api/v1/breakglass", broker, short_reason, 422),
    ]
    for method, url, headers, body, status in cases:
        response = site.client.request(method, url, headers=headers, json=body)
        assert response.status_code == status, (url, response.text)
        _assert_not_cached(response, f"{method} {url}")
    checkpoint = site.client.get("/api/v1/audit/checkpoint")
    assert checkpoint.status_code in (200, 404)
    _assert_not_cached(checkpoint)  # public, but a cached old checkpoint would only delay a witness


def test_the_login_token_is_never_cached(site: Site) -> None:
    """RFC 6749 section 5.1: a response carrying a token must not be stored; nor may a failed login."""
    code = totp.code_at(site.totp["epi"], totp.step_of(datetime.now(UTC)))
    login = {"username": site.usernames["epi"], "password": PASSWORD, "totp": code, "terminal_id": "ws-9"}
    response = site.client.post("/api/v1/auth/login", json=login)
    assert response.status_code == 200 and response.json()["access_token"]
    _assert_not_cached(response)
    refused = site.client.post("/api/v1/auth/login", json={**login, "password": "wrong horse battery"})
    assert refused.status_code == 401
    _assert_not_cached(refused)


# --- 401, 405 and error bodies ------------------------------------------------------------------


def test_401_names_the_scheme_and_405_the_allowed_methods(site: Site) -> None:
    """RFC 9110: every 401 carries ``WWW-Authenticate``, every 405 ``Allow``; both as problem+json."""
    doctor = site.token("certifier")
    for headers in ({}, {"Authorization": "Basic eDp5"}, {**doctor, "X-Terminal-Id": "ws-other"}):
        response = site.client.get("/api/v1/me/sessions", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="piguard"'
        assert response.headers["content-type"].startswith("application/problem+json")
    for method, url, allowed in (
        ("DELETE", "/api/v1/me", {"GET"}),
        ("PUT", "/api/v1/breakglass", {"POST"}),
        ("PATCH", f"/api/v1/death-reports/{site.ids['report']}", {"GET"}),
    ):
        response = site.client.request(method, url, headers=doctor)
        assert response.status_code == 405
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["title"] == "Method Not Allowed"
        assert {part.strip() for part in response.headers["allow"].split(",")} == allowed


def test_validation_errors_do_not_echo_unknown_keys_or_values(site: Site) -> None:
    """An unknown key is the caller's text (and may be record data): named only when it looks like a name."""
    doctor = site.token("certifier")
    body = {
        "report_id": site.ids["report"],
        "purpose": "BTG",
        "reason": "x" * 25,
        f"李秀英 {RELATIVE_PHONE}": 1,
        "<b>": 2,
    }
    response = site.client.post("/api/v1/breakglass", json=body, headers=doctor)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["?", "?"]
    assert "李秀英" not in response.text and RELATIVE_PHONE not in response.text and "<b>" not in response.text
    plain = {"report_id": site.ids["report"], "purpose": "BTG", "reason": "x" * 25, "hours": 9}
    named = site.client.post("/api/v1/breakglass", json=plain, headers=doctor)
    assert [e["field"] for e in named.json()["errors"]] == ["hours"]  # a plain name is still named


def test_deeply_nested_json_is_refused_not_a_500(site: Site) -> None:
    """Nesting past Python's recursion limit was a RecursionError in the NUL check (a 500)."""
    headers = {**site.token("broker"), "Content-Type": "application/json"}
    depth = 50_000
    before = site.events()
    with_nul = site.client.post(
        "/api/v1/breakglass", content=b"[" * depth + b'"\\u0000"' + b"]" * depth, headers=headers
    )
    assert with_nul.status_code == 422
    assert with_nul.json()["errors"] == [{"field": "body", "reason": "must not contain NUL characters (U+0000)"}]
    without = site.client.post("/api/v1/breakglass", content=b"[" * depth + b'"x"' + b"]" * depth, headers=headers)
    assert without.status_code == 422
    assert without.json()["errors"] == [{"field": "body", "reason": "not valid JSON: nested too deeply"}]
    assert without.headers["content-type"].startswith("application/problem+json")
    assert site.events() == before


# --- request size limit -------------------------------------------------------------------------


def test_default_request_limit_is_one_mebibyte(site: Site) -> None:
    assert Settings().max_request_bytes == 1_048_576 == _limit(site)


def test_declared_too_large_body_is_413_before_auth_or_any_route(site: Site) -> None:
    """A Content-Length over the limit: 413 naming the limit, unread, with no event and no grant."""
    limit, broker = _limit(site), site.token("broker")
    before = site.events()
    for headers in (broker, {}):  # refused before authentication too: the size is checked first
        response = site.client.post(
            "/api/v1/breakglass",
            content=_grant_body(site, limit + 1),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.request.headers["content-length"] == str(limit + 1)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["max_bytes"] == limit and str(limit) in problem["detail"]
        assert response.headers["connection"] == "close"
        _assert_not_cached(response)
    assert site.events() == before


def test_chunked_too_large_body_is_413(site: Site) -> None:
    """No Content-Length (chunked): the body is counted as it arrives."""
    limit, broker = _limit(site), site.token("broker")
    data = _grant_body(site, limit + 1)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]

    before = site.events()
    response = site.client.post(
        "/api/v1/breakglass", content=chunks(), headers={**broker, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413 and response.json()["max_bytes"] == limit
    assert site.events() == before


def test_body_of_exactly_the_limit_is_accepted(site: Site) -> None:
    """Declared or chunked, a body of exactly the limit reaches the route (a grant, an event)."""
    limit, broker = _limit(site), site.token("broker")
    data = _grant_body(site, limit)
    before = site.events()
    declared = site.client.post(
        "/api/v1/breakglass", content=data, headers={**broker, "Content-Type": "application/json"}
    )
    # The route ran either way: a grant, or the recorded refusal of a second open one (409).
    assert declared.status_code in (201, 409), declared.text
    chunked = site.client.post(
        "/api/v1/breakglass",
        content=iter([data[:CHUNK], data[CHUNK:]]),
        headers={**broker, "Content-Type": "application/json"},
    )
    assert chunked.status_code == 409, chunked.text  # the grant just made is open
    assert site.events() == before + 2


def test_an_endless_stream_is_cut_off_at_the_limit(site: Site) -> None:
    """Over raw ASGI, chunk by chunk: reading stops just past the limit; the rest is never asked for."""
    app, limit = _app(site), _limit(site)
    received = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/breakglass",
        "raw_path": b"/api/v1/breakglass",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def call() -> None:
        await app(scope, receive, send)

    anyio.run(call)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert received == limit // CHUNK + 1


# --- path ids -----------------------------------------------------------------------------------


def test_every_path_id_is_a_ulid_in_the_openapi_schema(site: Site) -> None:
    """Consistency: each ``{..._id}`` of every route is checked with the one ULID rule."""
    seen = 0
    for path, operations in _app(site).openapi()["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                if parameter["name"] == "month":
                    continue
                assert parameter["name"].endswith("_id"), (path, parameter["name"])
                expected = ORG_OR_CITY_PATTERN if path.startswith("/api/v1/oversight/reports/") else ULID_PATTERN
                assert parameter["schema"].get("pattern") == expected, (path, parameter["name"])
                seen += 1
    assert seen >= 30


MALFORMED_ON_EVERY_ROUTER: list[tuple[str, str, str, dict[str, Any] | None, str]] = [
    # records
    ("GET", "/api/v1/death-reports/nope?purpose=TREAT", "certifier", None, "report_id"),
    ("GET", "/api/v1/dispatches/nope/display?purpose=TREAT", "emt", None, "dispatch_id"),
    (
        "POST",
        f"/api/v1/death-reports/{UNKNOWN.lower()}/corrections",
        "certifier",
        {"field": "sex", "value": "male", "reason": "family corrected it"},
        "report_id",
    ),
    # break-glass
    ("POST", "/api/v1/breakglass/nope/review", "officer", {"outcome": "justified", "note": "seen in ED"}, "grant_id"),
    # auth and me
    ("POST", "/api/v1/auth/accounts/nope/disable", "officer", None, "account_id"),
    ("DELETE", "/api/v1/me/sessions/nope", "certifier", None, "session_id"),
    # oversight: cases
    ("GET", "/api/v1/oversight/cases/nope", "officer", None, "case_id"),
    ("GET", f"/api/v1/oversight/cases/{UNKNOWN}X/bundle", "officer", None, "case_id"),
    (
        "POST",
        f"/api/v1/oversight/cases/{UNKNOWN}/dispositions/nope/approve",
        "officer",
        {"reason": "proportionate sanction"},
        "disposition_id",
    ),
    # oversight: family requests
    ("GET", "/api/v1/oversight/family-requests/nope", "officer", None, "request_id"),
    ("GET", "/api/v1/oversight/family-requests/nope/account", "officer", None, "request_id"),
    # oversight: inspections
    ("GET", "/api/v1/oversight/recommendations/nope", "officer", None, "recommendation_id"),
    ("GET", "/api/v1/oversight/rectifications/nope", "officer", None, "item_id"),
    (
        "POST",
        f"/api/v1/oversight/rectifications/{UNKNOWN}/evidence/nope/verify",
        "officer",
        {"reason": "document checked"},
        "evidence_id",
    ),
    ("GET", "/api/v1/oversight/spot-checks/nope", "officer", None, "check_id"),
    # oversight: training and reports
    ("GET", "/api/v1/oversight/training/status/nope", "officer", None, "account_id"),
    ("GET", "/api/v1/oversight/training/reminders/nope", "officer", None, "org_id"),
    ("GET", "/api/v1/oversight/reports/nope/2025-01", "officer", None, "org_id"),
]


@pytest.mark.parametrize(("method", "url", "who", "body", "name"), MALFORMED_ON_EVERY_ROUTER)
def test_a_malformed_path_id_is_a_422_naming_the_field_on_every_router(
    site: Site, method: str, url: str, who: str, body: dict[str, Any] | None, name: str
) -> None:
    headers = site.token(who, terminal="mdt-1" if who == "emt" else "ws-1")
    before = site.events()
    response = site.client.request(method, url, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [f"path.{name}"]
    assert "nope" not in response.text and UNKNOWN.lower() not in response.text
    assert site.events() == before  # refused at the door: no service, no database, no event


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        UNKNOWN.lower(),  # the database holds upper case
        UNKNOWN[:-1],  # 25 characters
        UNKNOWN + "A",  # 27 characters
        "8" + UNKNOWN[1:],  # past the 48-bit timestamp
        UNKNOWN[:-1] + "U",  # not Crockford base32
        "1%27%20OR%20%271%27%3D%271",  # ' OR '1'='1
        "..%5C..%5Cetc%5Cpasswd",  # ..\..\etc\passwd; an encoded slash matches no route at all (404)
        "x" * 2000,
    ],
)
def test_malformed_ids_of_every_shape_are_refused(site: Site, bad: str) -> None:
    response = site.client.get(f"/api/v1/oversight/cases/{bad}", headers=site.token("officer"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "path.case_id"


def test_well_formed_unknown_ids_still_reach_the_flow(site: Site) -> None:
    """The rule refuses only what cannot be an id: an unknown one is the flow's 404 (and 'city' stays valid)."""
    officer = site.token("officer")
    for url in (
        f"/api/v1/oversight/cases/{UNKNOWN}",
        f"/api/v1/oversight/family-requests/{UNKNOWN}",
        f"/api/v1/oversight/recommendations/{UNKNOWN}",
        f"/api/v1/oversight/rectifications/{UNKNOWN}",
        f"/api/v1/oversight/spot-checks/{UNKNOWN}",
        f"/api/v1/oversight/reports/{UNKNOWN}/2025-01",
    ):
        assert site.client.get(url, headers=officer).status_code == 404, url
    city = site.client.get("/api/v1/oversight/reports/city/2025-01", headers=officer)
    assert city.status_code == 403 and city.json()["title"] == "Forbidden"  # the commission's, not a 422


# --- unexpected errors --------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def broken_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The app over a database whose checkpoint table is gone: the public checkpoint route fails unexpectedly."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="api_broken"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            cascade = " CASCADE" if request.param == "postgresql" else ""
            conn.execute(text(f"DROP TABLE ledger_checkpoints{cascade}"))
        engine.dispose()
        # raise_server_exceptions stays on: an exception escaping to the server would fail the test.
        with TestClient(create_app(settings)) as client:
            yield client


def test_an_unexpected_error_is_a_generic_500_logged_without_message_or_traceback(
    broken_app: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = broken_app.get("/api/v1/audit/checkpoint")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json() == {"type": "about:blank", "title": "Internal error", "status": 500}
    _assert_not_cached(response)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].name == "piguard.api"
    message = errors[0].getMessage()
    assert message.startswith("unexpected error ") and " at piguard." in message
    assert all(r.exc_info is None and r.exc_text is None for r in caplog.records)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "ledger_checkpoints" not in logged and "SELECT" not in logged.upper()
