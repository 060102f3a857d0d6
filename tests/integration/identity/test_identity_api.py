"""Auth and me routes through the FastAPI test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from piguard.identity import service as identity
from piguard.identity.models import LoginSession
from piguard.identity.sessions import INVALID
from piguard.ledger import service as ledger
from tests.integration.identity.conftest import Api


def bearer(token: str, terminal: str = "ws-101") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Terminal-Id": terminal}


def token_of(response: Any) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"]
    return str(body["access_token"])


def test_login_me_logout(api: Api) -> None:
    before = api.event_count()
    token = token_of(api.login("wang.fang"))
    assert api.event_count() == before + 1
    me = api.client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["username"] == "wang.fang"
    assert me.json()["district"] == "310112"
    assert me.json()["terminal_id"] == "ws-101"
    out = api.client.post("/api/v1/auth/logout", headers=bearer(token))
    assert out.status_code == 204
    assert api.events()[-1].action == "logout"
    assert api.client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_every_login_attempt_leaves_exactly_one_committed_event(api: Api) -> None:
    for password, status in (("wrong password!!", 401), ("correct horse battery", 200)):
        before = api.event_count()
        response = api.login("li.na", password=password)
        assert response.status_code == status
        after = api.events()
        assert len(after) == before + 1
        assert after[-1].action == "login"
    body = {"username": "no.such.person", "password": "whatever at all", "totp": "123456", "terminal_id": "ws-1"}
    before = api.event_count()
    refused = api.client.post("/api/v1/auth/login", json=body)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "no.such.person" not in refused.text
    last = api.events()
    assert len(last) == before + 1
    assert (last[-1].user_id, last[-1].outcome) == ("unknown", "denied")
    assert "no.such.person" not in last[-1].model_dump_json()


def test_wrong_or_missing_terminal_is_401(api: Api) -> None:
    token = token_of(api.login("wang.fang"))
    wrong = api.client.get("/api/v1/me", headers=bearer(token, "ws-999"))
    missing = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    unknown = api.client.get("/api/v1/me", headers=bearer("pgt_" + "A" * 43, "ws-999"))
    # A live token on the wrong terminal is answered like a dead one: no liveness oracle.
    assert [r.status_code for r in (wrong, missing, unknown)] == [401, 401, 401]
    assert wrong.json()["detail"] == missing.json()["detail"] == unknown.json()["detail"] == INVALID
    assert "X-Terminal-Id" in INVALID
    assert api.client.get("/api/v1/me", headers={"X-Terminal-Id": "ws-101"}).status_code == 401


def test_lockout_is_429_with_retry_after_and_survives_the_refused_request(api: Api) -> None:
    statuses = [api.login("wang.fang", password="wrong password!!").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    locked = api.login("wang.fang", offset=1)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert [e.outcome for e in api.events()[-4:]] == ["denied"] * 4


def test_replayed_totp_code_is_refused(api: Api) -> None:
    otp = api.code("wang.fang")  # the same code twice, even if the clock crosses a step meanwhile
    token_of(api.login("wang.fang", otp=otp))
    assert api.login("wang.fang", otp=otp).status_code == 401
    assert api.events()[-1].reason == "one-time code already used (replay)"


def test_sessions_list_and_revoke_and_concurrency_event(api: Api) -> None:
    first = token_of(api.login("wang.fang", terminal="ws-101"))
    second = token_of(api.login("wang.fang", terminal="mdt-7", offset=1))
    assert [e.action for e in api.events()[-2:]] == ["login", "concurrent_session"]
    listed = api.client.get("/api/v1/me/sessions", headers=bearer(second, "mdt-7"))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert listed.json()["count"] == 2
    assert [i["terminal_id"] for i in items] == ["mdt-7", "ws-101"]
    assert [i["current"] for i in items] == [True, False]
    other = items[1]["id"]
    assert api.client.delete(f"/api/v1/me/sessions/{other}", headers=bearer(second, "mdt-7")).status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer(first)).status_code == 401
    assert api.client.delete(f"/api/v1/me/sessions/{other}", headers=bearer(second, "mdt-7")).status_code == 409


def test_cannot_revoke_someone_elses_session(api: Api) -> None:
    mine = token_of(api.login("wang.fang"))
    theirs = token_of(api.login("li.na"))
    their_id = api.client.get("/api/v1/me/sessions", headers=bearer(theirs)).json()["items"][0]["id"]
    assert api.client.delete(f"/api/v1/me/sessions/{their_id}", headers=bearer(mine)).status_code == 404
    assert api.client.get("/api/v1/me", headers=bearer(theirs)).status_code == 200
    bad = api.client.delete("/api/v1/me/sessions/not-an-id", headers=bearer(mine))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "path.session_id"


def test_admin_disables_an_account_and_its_sessions_end(api: Api) -> None:
    victim = token_of(api.login("wang.fang"))
    admin = token_of(api.login("zhou.min"))
    target = api.accounts["wang.fang"].account.id
    nurse = token_of(api.login("li.na"))
    assert api.client.post(f"/api/v1/auth/accounts/{target}/disable", headers=bearer(nurse)).status_code == 403
    done = api.client.post(f"/api/v1/auth/accounts/{target}/disable", headers=bearer(admin))
    assert done.status_code == 200
    assert done.json() == {"account_id": target, "sessions_revoked": 1}
    assert api.client.get("/api/v1/me", headers=bearer(victim)).status_code == 401
    assert api.login("wang.fang", offset=1).status_code == 401


def test_service_api_key_authenticates_with_scopes(api: Api) -> None:
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {api.bridge_key}"})
    assert me.status_code == 200
    assert me.json()["kind"] == "service"
    assert me.json()["scopes"] == ["handles:resolve"]
    assert api.client.get("/api/v1/me", headers={"Authorization": "Bearer pgk_" + "x" * 43}).status_code == 401
    assert (
        api.client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {api.bridge_key}"}).status_code == 422
    )


def test_login_validation_names_the_field(api: Api) -> None:
    body = {"username": "wang.fang", "password": "x", "totp": "12ab56", "terminal_id": "ws-1"}
    response = api.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["totp"]
    long_name = dict(body, totp="123456", username="x" * 65)
    assert api.client.post("/api/v1/auth/login", json=long_name).json()["errors"][0]["field"] == "username"
    extra = dict(body, totp="123456", role="admin")
    assert api.client.post("/api/v1/auth/login", json=extra).status_code == 422


def test_concurrent_failures_all_count(api: Api) -> None:
    """Failures racing on one account (separate transactions) are all counted, none lost."""
    secret = api.client.app.state.secret  # type: ignore[attr-defined]

    def wrong(_: int) -> str:
        with api.session() as db, db.begin():
            ledger.bind_settings(db, api.settings)
            outcome = identity.login(
                session=db,
                secret=secret,
                settings=api.settings,
                username="wang.fang",
                password="wrong password!!",
                totp_code="000000",
                terminal_id="ws-1",
                source_ip=None,
            )
        return type(outcome.error).__name__

    before = api.event_count()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(wrong, range(3)))
    assert sorted(results) == ["AccountLockedError", "AuthenticationError", "AuthenticationError"]
    assert api.event_count() == before + 3
    assert api.login("wang.fang").status_code == 429


def test_change_password_route(api: Api) -> None:
    token = token_of(api.login("li.na"))
    short = api.client.post(
        "/api/v1/me/password", headers=bearer(token), json={"current_password": "x", "new_password": "short"}
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "new_password"
    body = {"current_password": "wrong password!!", "new_password": "a brand new passphrase"}
    before = api.event_count()
    wrong = api.client.post("/api/v1/me/password", headers=bearer(token), json=body)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    assert api.event_count() == before + 1  # the refusal was committed
    body["current_password"] = "correct horse battery"
    done = api.client.post("/api/v1/me/password", headers=bearer(token), json=body)
    assert done.status_code == 200
    assert done.json() == {"sessions_revoked": 0}
    assert api.login("li.na", offset=1, password="a brand new passphrase").status_code == 200


def test_racing_logins_with_one_code_succeed_once(api: Api) -> None:
    """Two logins sending the same code at the same moment: replay protection holds under concurrency."""
    secret = api.client.app.state.secret  # type: ignore[attr-defined]
    otp = api.code("wang.fang")

    def go(n: int) -> str:
        with api.session() as db, db.begin():
            ledger.bind_settings(db, api.settings)
            outcome = identity.login(
                session=db,
                secret=secret,
                settings=api.settings,
                username="wang.fang",
                password="correct horse battery",
                totp_code=otp,
                terminal_id=f"ws-{n}",
                source_ip=None,
            )
        return "ok" if outcome.error is None else type(outcome.error).__name__

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(go, range(2)))
    assert results == ["AuthenticationError", "ok"]
    assert api.events()[-1].reason == "one-time code already used (replay)"


def test_nul_in_login_username_is_a_422_not_a_500(api: Api) -> None:
    body = {"username": "wang\x00fang", "password": "whatever at all", "totp": "123456", "terminal_id": "ws-1"}
    response = api.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "username", "reason": "must not contain NUL characters (U+0000)"}]


def test_refused_account_disable_is_one_denied_event(api: Api) -> None:
    """A nurse trying to disable a colleague, an unknown id, an admin disabling themself: each is recorded."""
    nurse = token_of(api.login("li.na"))
    admin = token_of(api.login("zhou.min"))
    target = api.accounts["wang.fang"].account.id
    own = api.accounts["zhou.min"].account.id
    cases = (
        (nurse, target, 403, api.accounts["li.na"].account.id),
        (admin, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 404, own),
        (admin, own, 409, own),
    )
    for token, account_id, status, actor in cases:
        before = api.event_count()
        response = api.client.post(f"/api/v1/auth/accounts/{account_id}/disable", headers=bearer(token))
        assert response.status_code == status, response.text
        events = api.events()
        assert len(events) == before + 1
        event = events[-1]
        assert (event.action, event.outcome, event.user_id) == ("update", "denied", actor)
        assert (event.resource_type, event.resource_id) == ("account", account_id)
        assert event.reason is not None and event.reason.startswith("account disable refused")
    assert api.login("wang.fang").status_code == 200  # nothing was disabled


def test_refused_session_revocation_is_one_denied_event(api: Api) -> None:
    """Probing someone else's session id, or revoking an ended one, leaves a denied logout event."""
    mine = token_of(api.login("wang.fang"))
    theirs = token_of(api.login("li.na"))
    their_id = api.client.get("/api/v1/me/sessions", headers=bearer(theirs)).json()["items"][0]["id"]
    before = api.event_count()
    assert api.client.delete(f"/api/v1/me/sessions/{their_id}", headers=bearer(mine)).status_code == 404
    events = api.events()
    assert len(events) == before + 1
    assert (events[-1].action, events[-1].outcome) == ("logout", "denied")
    assert events[-1].user_id == api.accounts["wang.fang"].account.id
    assert (events[-1].resource_type, events[-1].resource_id) == ("login_session", their_id)
    second = token_of(api.login("wang.fang", terminal="ws-102", offset=1))
    first_id = api.client.get("/api/v1/me/sessions", headers=bearer(mine)).json()["items"][-1]["id"]
    assert api.client.delete(f"/api/v1/me/sessions/{first_id}", headers=bearer(second, "ws-102")).status_code == 204
    before = api.event_count()
    again = api.client.delete(f"/api/v1/me/sessions/{first_id}", headers=bearer(second, "ws-102"))
    assert again.status_code == 409
    assert api.event_count() == before + 1 and api.events()[-1].outcome == "denied"


def test_tokens_of_ended_sessions_and_disabled_accounts_are_recorded(api: Api) -> None:
    """The token of a disabled insider (or a revoked session) is refused and leaves evidence; an
    expired one, which clients present every 15 minutes in the normal course, leaves none."""
    victim = token_of(api.login("wang.fang"))
    admin = token_of(api.login("zhou.min"))
    nurse = token_of(api.login("li.na"))
    account = api.accounts["wang.fang"].account.id
    assert api.client.post(f"/api/v1/auth/accounts/{account}/disable", headers=bearer(admin)).status_code == 200
    assert api.client.post("/api/v1/auth/logout", headers=bearer(nurse)).status_code == 204
    cases = (
        (victim, account, "token of a disabled account presented"),
        (nurse, api.accounts["li.na"].account.id, "token of a revoked session presented"),
    )
    for token, user_id, reason in cases:
        before = api.event_count()
        response = api.client.get("/api/v1/death-reports", params={"purpose": "TREAT"}, headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["detail"] == INVALID  # the same words as for an unknown token
        events = api.events()
        assert len(events) == before + 1
        assert (events[-1].action, events[-1].outcome, events[-1].user_id) == ("login", "denied", user_id)
        assert (events[-1].reason, events[-1].terminal_id) == (reason, "ws-101")
    with api.session() as db, db.begin():
        db.execute(update(LoginSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    before = api.event_count()
    assert api.client.get("/api/v1/me", headers=bearer(admin)).status_code == 401
    assert api.event_count() == before
    before = api.event_count()
    unknown = api.client.get("/api/v1/me", headers=bearer("pgt_" + "A" * 43))
    assert unknown.status_code == 401 and unknown.json()["detail"] == INVALID
    assert api.event_count() == before  # no account to attribute it to


def test_disabled_service_accounts_key_is_recorded(api: Api) -> None:
    admin = token_of(api.login("zhou.min"))
    with api.session() as db:
        bridge = identity.get_account_by_username(session=db, username="svc-telephony").id
    assert api.client.post(f"/api/v1/auth/accounts/{bridge}/disable", headers=bearer(admin)).status_code == 200
    before = api.event_count()
    response = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {api.bridge_key}"})
    assert response.status_code == 401
    assert api.event_count() == before + 1
    event = api.events()[-1]
    assert (event.user_id, event.outcome, event.reason) == (bridge, "denied", "token of a disabled account presented")
    assert event.session_id is not None and event.session_id.startswith("key:")


def test_refused_password_change_with_the_same_password_is_recorded(api: Api) -> None:
    """Every password-change attempt is an ``update`` event, including one refused by the rules."""
    token = token_of(api.login("li.na"))
    body = {"current_password": "correct horse battery", "new_password": "correct horse battery"}
    before = api.event_count()
    response = api.client.post("/api/v1/me/password", headers=bearer(token), json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "new_password", "reason": "must differ from the current password"}]
    events = api.events()
    assert len(events) == before + 1
    assert (events[-1].action, events[-1].outcome, events[-1].resource_type) == ("update", "denied", "account")
    assert "correct horse" not in events[-1].model_dump_json()
