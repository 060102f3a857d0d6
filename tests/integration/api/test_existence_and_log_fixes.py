"""Unknown ids refused like real ones (break-glass, training routes); refused keys and tokens recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.db import make_session_factory
from piguard.errors import AuthenticationError, TokenMisuseError
from piguard.identity import service as identity
from piguard.identity import sessions
from piguard.records import service as records
from tests.integration.api.conftest import PASSWORD, Site

UNKNOWN = "01JZZZZZZZZZZZZZZZZZZZZZZZ"  # well formed, names nothing
TRAINING = "/api/v1/oversight/training"
REASON = "patient arrived in arrest; need prior cardiac history now"


@pytest.fixture(scope="module")
def commission(site: Site) -> str:
    """A privacy officer of the city's health commission (reads every organisation's training), once per site."""
    with make_session_factory(site.engine)() as db, db.begin():
        org = records.create_organisation(
            session=db, name="hc", org_type="health_commission", district="310000", level="municipal"
        )
        made = identity.create_account(
            session=db,
            secret=site.client.app.state.secret,
            username="zhou.min",
            display_name="commission",
            role="privacy_officer",
            org_id=org.id,
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
    site.ids["commission"], site.usernames["commission"] = made.account.id, made.account.username
    site.totp["commission"] = made.totp_secret or ""
    return "commission"


def _breakglass(site: Site, who: str, report_id: str) -> tuple[int, object]:
    answer = site.client.post(
        "/api/v1/breakglass",
        json={"report_id": report_id, "purpose": "BTG", "reason": REASON},
        headers=site.token(who),
    )
    return answer.status_code, answer.json()


def test_break_glass_refuses_an_unknown_id_as_a_record_the_role_may_not_break_into(site: Site) -> None:
    for who in ("emt", "epi"):
        real = _breakglass(site, who, site.ids["report"])
        before = site.events()
        unknown = _breakglass(site, who, UNKNOWN)
        assert real[0] == 403 and unknown == real  # same status, same body: no existence oracle
        assert site.events() == before + 1
        event = site.last_event()
        assert (event.action, event.outcome, event.resource_id) == ("breakglass", "denied", UNKNOWN)
        assert event.reason.endswith("(no such record)") and "no policy permits role" in event.reason


def test_break_glass_tells_a_physician_an_id_is_unknown(site: Site) -> None:
    # A physician would be granted any existing record: hiding an unknown id from them is impossible.
    assert _breakglass(site, "broker", UNKNOWN)[0] == 404
    event = site.last_event()
    assert (event.action, event.outcome) == ("breakglass", "denied")
    assert event.reason == "death report not found (no such record)"


def _get(site: Site, who: str, path: str) -> tuple[int, object]:
    answer = site.client.get(f"{TRAINING}{path}", headers=site.token(who))
    return answer.status_code, answer.json()


def test_training_status_refuses_an_unknown_account_as_a_stranger(site: Site) -> None:
    # A physician reads only their own status; an officer only their organisation's staff.
    for who, stranger in (("certifier", site.ids["broker"]), ("officer", site.ids["certifier"])):
        real = _get(site, who, f"/status/{stranger}")
        unknown = _get(site, who, f"/status/{UNKNOWN}")
        assert real[0] == 403 and unknown == real
        event = site.last_event()
        assert (event.outcome, event.resource_id) == ("denied", UNKNOWN)
        assert event.reason.endswith("(no such record)")
    assert _get(site, "officer", f"/status/{site.ids['epi']}")[0] == 200  # their own organisation's


def test_training_reminders_refuse_an_unknown_organisation_as_another(site: Site) -> None:
    for who, other in (("certifier", site.ids["org_a"]), ("officer", site.ids["org_a"])):
        real = _get(site, who, f"/reminders/{other}")
        unknown = _get(site, who, f"/reminders/{UNKNOWN}")
        assert real[0] == 403 and unknown == real
        event = site.last_event()
        assert event.outcome == "denied" and event.reason.endswith("(no such record)")


def test_the_health_commission_is_told_an_id_is_unknown(site: Site, commission: str) -> None:
    # It reads every account's and organisation's training: nothing to hide from it.
    assert _get(site, commission, f"/status/{site.ids['certifier']}")[0] == 200
    for path in (f"/status/{UNKNOWN}", f"/reminders/{UNKNOWN}"):
        assert _get(site, commission, path)[0] == 404
        event = site.last_event()
        assert event.outcome == "denied" and event.reason.endswith("not found (no such record)")


def test_a_known_api_key_with_a_malformed_terminal_id_is_recorded(site: Site) -> None:
    for sent in ("WS\x01A", "\x1b[31mEVIL\x1b[0m N81"):
        before = site.events()
        answer = site.client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {site.bridge_key}", "X-Terminal-Id": sent}
        )
        assert answer.status_code == 422
        assert answer.json()["errors"] == [
            {"field": "X-Terminal-Id", "reason": "must be 1-64 printable ASCII characters without spaces"}
        ]
        assert site.events() == before + 1
        event = site.last_event()
        assert (event.action, event.outcome, event.user_id) == ("login", "denied", site.ids["bridge"])
        assert (event.terminal_id, event.reason) == (None, sessions.MALFORMED_KEY_TERMINAL)
        assert "EVIL" not in event.model_dump_json() and "\\u0001" not in event.model_dump_json()
    # An unknown key has no account to record: 401 as before, no event.
    before = site.events()
    unknown = site.client.get(
        "/api/v1/me", headers={"Authorization": "Bearer pgk_" + "A" * 43, "X-Terminal-Id": "\x01"}
    )
    assert unknown.status_code == 401 and site.events() == before


def _authenticate(db: Session, token: str, terminal: str, now: datetime) -> None:
    identity.authenticate_token(session=db, secret=b"", token=token, terminal_id=terminal, source_ip=None, now=now)


def test_an_expired_token_from_another_terminal_is_recorded_as_misuse(site: Site) -> None:
    token = site.token("certifier")["Authorization"].split()[1]  # issued to ws-1
    later = datetime.now(UTC) + timedelta(days=1)
    with make_session_factory(site.engine)() as db, db.begin():
        with pytest.raises(AuthenticationError) as own:
            _authenticate(db, token, "ws-1", later)
        assert not isinstance(own.value, TokenMisuseError)  # expired at its own terminal: not recorded
        with pytest.raises(TokenMisuseError) as copied:
            _authenticate(db, token, "ws-thief", later)
        assert str(copied.value) == sessions.INVALID  # the same answer as any dead token
        identity.record_token_misuse(session=db, error=copied.value, terminal_id="ws-thief", source_ip="10.0.0.9")
    event = site.last_event()
    assert (event.action, event.outcome, event.user_id) == ("login", "denied", site.ids["certifier"])
    assert (event.terminal_id, event.reason) == ("ws-thief", sessions.EXPIRED_MISUSED)
