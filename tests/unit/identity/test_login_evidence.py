"""What refused logins and refused tokens leave behind: source lockout, throttle keys, terminal ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccountLockedError, AuthenticationError, TokenMisuseError
from piguard.identity import service as identity
from piguard.identity import throttle, totp
from piguard.identity.models import LoginThrottle
from piguard.identity.schemas import NewAccount
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from tests.unit.identity.conftest import PASSWORD, SECRET, T0

MakeAccount = Callable[..., NewAccount]
SPRAYER = "10.66.0.9"


def _login(
    session: Session, settings: Settings, username: str, *, at: datetime, otp: str = "000000", password: str = PASSWORD
) -> AuthenticationError | None:
    outcome = identity.login(
        session=session,
        secret=SECRET,
        settings=settings,
        username=username,
        password=password,
        totp_code=otp,
        terminal_id="ws-101",
        source_ip=SPRAYER,
        now=at,
    )
    return outcome.error


def _last_event(session: Session) -> AccessEvent:
    return list(ledger.iter_events(session=session))[-1]


def _spray_until_locked(session: Session, settings: Settings) -> tuple[AuthenticationError | None, datetime]:
    """Wrong logins for different unknown names from one address, up to the one that locks it."""
    at = T0
    error: AuthenticationError | None = None
    for n in range(settings.login_max_failures * throttle.SOURCE_FACTOR):
        error = _login(session, settings, f"spray{n}.user", at=at, password="wrong password!!")
        at += timedelta(seconds=1)
    return error, at


def test_the_failure_that_locks_a_source_address_answers_429_and_says_so(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    settings = id_settings.model_copy(update={"login_max_failures": 2})  # 20 failures lock the address
    make_account("wang.fang")
    error, _ = _spray_until_locked(session, settings)
    assert isinstance(error, AccountLockedError)
    assert error.retry_after == settings.login_lockout_seconds
    assert _last_event(session).reason == "unknown username; source address now locked"


def test_a_source_locked_login_of_a_real_account_is_recorded_against_that_account(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    settings = id_settings.model_copy(update={"login_max_failures": 2})
    wang = make_account("wang.fang")
    _, at = _spray_until_locked(session, settings)
    assert wang.totp_secret is not None
    real = _login(session, settings, "wang.fang", at=at, otp=totp.code_at(wang.totp_secret, totp.step_of(at)))
    event = _last_event(session)
    assert (event.user_id, event.outcome) == (wang.account.id, "denied")
    assert event.reason == "too many failed logins from this source address"
    unknown = _login(session, settings, "nobody.here", at=at)
    assert _last_event(session).user_id == "unknown"
    # The client cannot tell the real account from the unknown name.
    assert isinstance(real, AccountLockedError) and isinstance(unknown, AccountLockedError)
    assert (str(real), real.retry_after) == (str(unknown), unknown.retry_after)


def test_throttle_keys_are_keyed_hashes_not_digests_of_the_name_or_address(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    make_account("wang.fang")
    assert _login(session, id_settings, "nobody.here", at=T0) is not None
    keys = set(session.scalars(select(LoginThrottle.key)))
    plain = {
        "name:" + hashlib.sha256(b"nobody.here").hexdigest(),
        "ip:" + hashlib.sha256(SPRAYER.encode()).hexdigest(),
    }
    assert not keys & plain
    assert {throttle.name_key("nobody.here", secret=SECRET), throttle.source_key(SPRAYER, secret=SECRET)} <= keys
    # Keyed by the installation secret: another installation's keys do not match these.
    other = bytes(reversed(range(32)))
    assert throttle.name_key("nobody.here", secret=other) not in keys


@pytest.mark.parametrize("sent", ["\x1b[31mEVIL\x1b[0m N81", "N81\x7f", "WS\x01A", "WS-éA", "x" * 65, "WS-A, WS-B"])
def test_a_refused_token_with_an_invalid_terminal_id_records_no_terminal_id(
    session: Session, id_settings: Settings, make_account: MakeAccount, sent: str
) -> None:
    wang = make_account("wang.fang")
    assert wang.totp_secret is not None
    token = identity.login(
        session=session,
        secret=SECRET,
        settings=id_settings,
        username="wang.fang",
        password=PASSWORD,
        totp_code=totp.code_at(wang.totp_secret, totp.step_of(T0)),
        terminal_id="ws-101",
        now=T0,
    ).unwrap()
    for ended in (False, True):
        if ended:  # a revoked session's token: the other way into the same record
            identity.revoke_session(
                session=session,
                principal=identity.authenticate_token(
                    session=session,
                    secret=SECRET,
                    token=token.access_token,
                    terminal_id="ws-101",
                    source_ip=None,
                    now=T0,
                ),
                session_id=token.session_id,
                now=T0,
            )
        with pytest.raises(TokenMisuseError) as refused:
            identity.authenticate_token(
                session=session, secret=SECRET, token=token.access_token, terminal_id=sent, source_ip=None, now=T0
            )
        identity.record_token_misuse(session=session, error=refused.value, terminal_id=sent, source_ip="10.0.0.7")
        event = _last_event(session)
        assert (event.user_id, event.terminal_id) == (wang.account.id, None)
        assert event.reason is not None and event.reason.endswith("; the terminal id sent was invalid (not recorded)")
        assert "EVIL" not in event.model_dump_json() and "N81" not in event.model_dump_json()


def test_a_refused_token_with_a_valid_terminal_id_records_it(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    wang = make_account("wang.fang")
    assert wang.totp_secret is not None
    token = identity.login(
        session=session,
        secret=SECRET,
        settings=id_settings,
        username="wang.fang",
        password=PASSWORD,
        totp_code=totp.code_at(wang.totp_secret, totp.step_of(T0)),
        terminal_id="ws-101",
        now=T0,
    ).unwrap()
    # Printable ASCII without spaces is a terminal id, whatever it looks like (one rule everywhere).
    for sent, kept in ((" ws-202 ", "ws-202"), ("WS-A,WS-B", "WS-A,WS-B")):
        with pytest.raises(TokenMisuseError) as refused:
            identity.authenticate_token(
                session=session, secret=SECRET, token=token.access_token, terminal_id=sent, source_ip=None, now=T0
            )
        identity.record_token_misuse(session=session, error=refused.value, terminal_id=sent, source_ip=None)
        event = _last_event(session)
        assert (event.terminal_id, event.reason) == (kept, "token presented from a terminal it was not issued to")
