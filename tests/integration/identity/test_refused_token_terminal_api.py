"""Through the API: a refused token's event never carries a raw, invalid X-Terminal-Id; a source lockout answers 429."""

from __future__ import annotations

from tests.integration.identity.conftest import PASSWORD, Api


def test_an_escape_sequence_in_x_terminal_id_is_not_written_into_the_ledger(api: Api) -> None:
    token = api.login("wang.fang").json()["access_token"]
    for sent in ("\x1b[31mEVIL\x1b[0m N81", "WS\x01A", "N81\x7f"):
        answer = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}", "X-Terminal-Id": sent})
        assert answer.status_code == 401
        event = api.events()[-1]
        assert (event.action, event.outcome, event.terminal_id) == ("login", "denied", None)
        assert event.reason == (
            "token presented from a terminal it was not issued to; the terminal id sent was invalid (not recorded)"
        )
    api.client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}", "X-Terminal-Id": "ws-101"})
    revoked = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}", "X-Terminal-Id": "WS\x01A"})
    assert revoked.status_code == 401
    event = api.events()[-1]
    assert event.terminal_id is None
    assert event.reason == "token of a revoked session presented; the terminal id sent was invalid (not recorded)"


def test_the_login_that_locks_a_source_address_answers_429_with_retry_after(api: Api) -> None:
    # The fixture allows 3 failures per account, so 30 from one address lock the address.
    limit = api.settings.login_max_failures * 10
    answers = [
        api.client.post(
            "/api/v1/auth/login",
            json={"username": f"spray{n}.user", "password": PASSWORD, "totp": "000000", "terminal_id": "ws-9"},
        )
        for n in range(limit)
    ]
    assert [answer.status_code for answer in answers[:-1]] == [401] * (limit - 1)
    assert answers[-1].status_code == 429
    assert answers[-1].headers["Retry-After"] == str(api.settings.login_lockout_seconds)
    assert api.events()[-1].reason == "unknown username; source address now locked"
    # The real account tried next from that address is named in the ledger; the answer is the same.
    real = api.login("li.na", terminal="ws-9")
    assert real.status_code == 429
    event = api.events()[-1]
    assert event.user_id == api.accounts["li.na"].account.id
    assert event.reason == "too many failed logins from this source address"
