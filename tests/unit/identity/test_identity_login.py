"""Login, throttling, tokens, sessions and API keys on real SQLite and PostgreSQL, with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import (
    AccountLockedError,
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    TokenMisuseError,
)
from piguard.identity import passwords, totp
from piguard.identity import service as identity
from piguard.identity.login import GENERIC_FAILURE
from piguard.identity.models import Account, LoginThrottle
from piguard.identity.schemas import LoginResult, NewAccount, Principal
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from tests.unit.identity.conftest import PASSWORD, SECRET, T0

MakeAccount = Callable[..., NewAccount]


def code(account: NewAccount, at: datetime, offset: int = 0) -> str:
    assert account.totp_secret is not None
    return totp.code_at(account.totp_secret, totp.step_of(at) + offset)


def attempt(
    session: Session,
    settings: Settings,
    account: NewAccount,
    *,
    at: datetime,
    password: str = PASSWORD,
    otp: str | None = None,
    terminal: str = "ws-101",
    ip: str | None = "10.0.0.7",
    username: str | None = None,
) -> LoginResult:
    return identity.login(
        session=session,
        secret=SECRET,
        settings=settings,
        username=username or account.account.username,
        password=password,
        totp_code=otp if otp is not None else code(account, at),
        terminal_id=terminal,
        source_ip=ip,
        now=at,
    ).unwrap()


def events(session: Session) -> list[AccessEvent]:
    return list(ledger.iter_events(session=session))


def auth(session: Session, token: str, *, terminal: str = "ws-101", at: datetime = T0) -> Principal:
    return identity.authenticate_token(
        session=session, secret=SECRET, token=token, terminal_id=terminal, source_ip="10.0.0.7", now=at
    )


def test_login_opens_a_terminal_bound_session_and_records_one_event(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    before = ledger.count(session=session)
    result = attempt(session, id_settings, account, at=T0)
    assert result.token_type == "bearer"
    assert result.expires_at == T0 + timedelta(seconds=id_settings.token_lifetime_seconds)
    assert ledger.count(session=session) == before + 1
    event = events(session)[-1]
    assert (event.action, event.outcome, event.user_id) == ("login", "allowed", account.account.id)
    assert (event.role, event.org_id, event.terminal_id) == ("physician", account.account.org_id, "ws-101")
    assert event.session_id == result.session_id
    assert event.source_ip == "10.0.0.7"
    principal = auth(session, result.access_token)
    assert principal.account_id == account.account.id
    assert principal.session_id == result.session_id
    assert principal.district == "310112"
    assert principal.kind == "human"
    assert principal.training_valid_until is None


def test_principal_carries_training_status(session: Session, id_settings: Settings, make_account: MakeAccount) -> None:
    account = make_account("wang.fang")
    identity.record_training(
        session=session, account_id=account.account.id, course_code="privacy-basics", score=95, completed_at=T0
    )
    token = attempt(session, id_settings, account, at=T0).access_token
    assert auth(session, token).training_valid_until == T0 + timedelta(days=365)


def test_wrong_terminal_missing_terminal_expiry_and_garbage_tokens_are_refused(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    token = attempt(session, id_settings, make_account("wang.fang"), at=T0).access_token
    # Told apart from a dead token only inside (the type, for the ledger), not in its words.
    with pytest.raises(TokenMisuseError, match="invalid or expired token"):
        auth(session, token, terminal="ws-999")
    with pytest.raises(TokenMisuseError, match="invalid or expired token"):
        identity.authenticate_token(
            session=session, secret=SECRET, token=token, terminal_id=None, source_ip=None, now=T0
        )
    lifetime = timedelta(seconds=id_settings.token_lifetime_seconds)
    assert auth(session, token, at=T0 + lifetime - timedelta(seconds=1))
    with pytest.raises(AuthenticationError, match="expired"):
        auth(session, token, at=T0 + lifetime)
    for bad in ("", "pgt_" + "A" * 43, token[:-1], "Bearer " + token):
        with pytest.raises(AuthenticationError):
            auth(session, bad)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"password": "wrong password!!"}, "wrong password"),
        ({"otp": "000000"}, "wrong one-time code"),
        ({"username": "nobody.here"}, "unknown username"),
    ],
)
def test_each_failure_is_one_denied_event_without_the_username(
    session: Session, id_settings: Settings, make_account: MakeAccount, kwargs: dict[str, str], reason: str
) -> None:
    account = make_account("wang.fang")
    if kwargs.get("otp") == code(account, T0):
        kwargs = {"otp": "999999"}
    before = ledger.count(session=session)
    with pytest.raises(AuthenticationError) as info:
        attempt(session, id_settings, account, at=T0, **kwargs)
    assert str(info.value) == GENERIC_FAILURE
    assert ledger.count(session=session) == before + 1
    event = events(session)[-1]
    assert (event.action, event.outcome) == ("login", "denied")
    assert event.reason is not None
    assert event.reason.startswith(reason)
    assert "nobody" not in event.model_dump_json()
    assert "wang.fang" not in event.model_dump_json()
    if reason == "unknown username":
        assert (event.user_id, event.role, event.org_id) == ("unknown", "unknown", "unknown")
    else:
        assert event.user_id == account.account.id


def test_totp_code_is_accepted_once_per_step(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    otp = code(account, T0)
    attempt(session, id_settings, account, at=T0, otp=otp)
    with pytest.raises(AuthenticationError):
        attempt(session, id_settings, account, at=T0 + timedelta(seconds=5), otp=otp)
    assert events(session)[-1].reason == "one-time code already used (replay)"
    # An older step's code is a replay too, even inside the drift window.
    with pytest.raises(AuthenticationError):
        attempt(session, id_settings, account, at=T0 + timedelta(seconds=5), otp=code(account, T0, -1))
    # The next step's code works.
    attempt(session, id_settings, account, at=T0 + timedelta(seconds=30))


def test_backoff_then_lockout_then_unlock(session: Session, id_settings: Settings, make_account: MakeAccount) -> None:
    account = make_account("wang.fang")
    at = T0
    for _ in range(3):
        with pytest.raises(AuthenticationError) as info:
            attempt(session, id_settings, account, at=at, password="wrong password!!")
        assert not isinstance(info.value, AccountLockedError)
        at += timedelta(milliseconds=100)
    # After three failures: 1 s backoff; even the right password is not checked until then.
    with pytest.raises(AccountLockedError) as locked:
        attempt(session, id_settings, account, at=at)
    assert locked.value.retry_after == 1
    at += timedelta(seconds=1)
    with pytest.raises(AuthenticationError):
        attempt(session, id_settings, account, at=at, password="wrong password!!")
    at += timedelta(seconds=2)
    with pytest.raises(AccountLockedError) as locked:
        attempt(session, id_settings, account, at=at, password="wrong password!!")
    assert locked.value.retry_after == id_settings.login_lockout_seconds
    assert events(session)[-1].reason == "wrong password; now locked"
    with pytest.raises(AccountLockedError):
        attempt(session, id_settings, account, at=at + timedelta(seconds=30))
    # Locked attempts are recorded, too.
    assert events(session)[-1].reason == "locked or backing off after repeated failures"
    at += timedelta(seconds=id_settings.login_lockout_seconds)
    attempt(session, id_settings, account, at=at)
    assert session.get(LoginThrottle, f"acct:{account.account.id}") is None


def test_unknown_usernames_lock_out_like_real_ones(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    at = T0
    errors: list[type[Exception]] = []
    for _ in range(8):
        with pytest.raises(AuthenticationError) as info:
            attempt(session, id_settings, account, at=at, username="ghost.user", ip=None)
        errors.append(type(info.value))
        at += timedelta(seconds=10)
    assert AccountLockedError in errors


def test_per_source_address_limit(session: Session, id_settings: Settings, make_account: MakeAccount) -> None:
    account = make_account("wang.fang")
    id_settings = id_settings.model_copy(update={"login_max_failures": 2})  # keeps the spray short
    limit = id_settings.login_max_failures * 10
    at = T0
    # Spread over many usernames, so no single account trips; the source address does.
    for n in range(limit):
        with pytest.raises(AuthenticationError):
            attempt(session, id_settings, account, at=at, username=f"spray{n}.user", password="wrong password!!")
        at += timedelta(seconds=1)
    with pytest.raises(AccountLockedError):
        attempt(session, id_settings, account, at=at)
    assert events(session)[-1].reason == "too many failed logins from this source address"
    attempt(session, id_settings, account, at=at, ip="10.9.9.9")


def test_disabled_and_service_accounts_cannot_log_in(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    token = attempt(session, id_settings, account, at=T0).access_token
    assert identity.disable_account(session=session, account_id=account.account.id, now=T0) == 1
    event = events(session)[-1]
    assert (event.user_id, event.role) == ("local-operator", "admin")
    with pytest.raises(AuthenticationError):
        auth(session, token)
    with pytest.raises(AuthenticationError) as info:
        attempt(session, id_settings, account, at=T0 + timedelta(seconds=30))
    assert str(info.value) == GENERIC_FAILURE
    assert events(session)[-1].reason == "account disabled"
    bridge = make_account("svc-telephony", role="service", kind="service")
    with pytest.raises(AuthenticationError):
        attempt(session, id_settings, bridge, at=T0, otp="123456")
    assert events(session)[-1].reason == "service accounts cannot log in interactively"


def test_sessions_list_revoke_and_logout(session: Session, id_settings: Settings, make_account: MakeAccount) -> None:
    account = make_account("wang.fang")
    first = attempt(session, id_settings, account, at=T0, terminal="ws-101")
    second = attempt(session, id_settings, account, at=T0 + timedelta(seconds=30), terminal="ws-101")
    me = auth(session, second.access_token, at=T0 + timedelta(seconds=31))
    listed = identity.list_sessions(session=session, principal=me, now=T0 + timedelta(seconds=31))
    assert [s.id for s in listed] == [second.session_id, first.session_id]
    assert [s.current for s in listed] == [True, False]
    before = ledger.count(session=session)
    identity.revoke_session(session=session, principal=me, session_id=first.session_id, now=T0 + timedelta(seconds=32))
    assert ledger.count(session=session) == before + 1
    assert events(session)[-1].action == "logout"
    assert events(session)[-1].resource_id == first.session_id
    with pytest.raises(AuthenticationError):
        auth(session, first.access_token, at=T0 + timedelta(seconds=33))
    with pytest.raises(ConflictError):
        identity.revoke_session(session=session, principal=me, session_id=first.session_id)
    other = make_account("li.na", role="nurse")
    theirs = attempt(session, id_settings, other, at=T0)
    with pytest.raises(NotFoundError):
        identity.revoke_session(session=session, principal=me, session_id=theirs.session_id)
    identity.logout(session=session, principal=me, now=T0 + timedelta(seconds=34))
    with pytest.raises(AuthenticationError):
        auth(session, second.access_token, at=T0 + timedelta(seconds=35))


def test_concurrent_session_on_two_terminals_is_recorded(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    first = attempt(session, id_settings, account, at=T0, terminal="ws-101")
    assert [e.action for e in events(session)][-1] == "login"
    before = ledger.count(session=session)
    second = attempt(session, id_settings, account, at=T0 + timedelta(seconds=30), terminal="ws-202")
    new = events(session)[before:]
    assert [e.action for e in new] == ["login", "concurrent_session"]
    assert new[1].user_id == account.account.id
    assert new[1].session_id == second.session_id
    assert new[1].resource_id == first.session_id
    # Once the other terminal's session has ended, logging in again is not concurrent.
    me = auth(session, second.access_token, terminal="ws-202", at=T0 + timedelta(seconds=31))
    identity.revoke_session(session=session, principal=me, session_id=first.session_id, now=T0 + timedelta(seconds=32))
    before = ledger.count(session=session)
    attempt(session, id_settings, account, at=T0 + timedelta(seconds=60), terminal="ws-202")
    assert [e.action for e in events(session)[before:]] == ["login"]


def test_demo_hash_is_upgraded_at_first_login(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    row = session.scalars(select(Account).where(Account.id == account.account.id)).one()
    assert row.password_hash is not None
    assert passwords.needs_rehash(row.password_hash)
    attempt(session, id_settings, account, at=T0)
    assert row.password_hash is not None
    assert not passwords.needs_rehash(row.password_hash)
    assert passwords.verify_password(row.password_hash, PASSWORD)


def test_api_keys_authenticate_service_principals_with_scopes(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    bridge = make_account("svc-telephony", role="service", kind="service")
    key = identity.create_api_key(session=session, account_id=bridge.account.id, scopes=["handles:resolve"])
    principal = identity.authenticate_token(session=session, secret=SECRET, token=key, terminal_id=None, source_ip=None)
    assert principal.kind == "service"
    assert principal.role == "service"
    assert principal.scopes == ("handles:resolve",)
    assert principal.session_id is not None
    assert principal.session_id.startswith("key:")
    identity.revoke_api_key(session=session, key=key)
    with pytest.raises(AuthenticationError):
        identity.authenticate_token(session=session, secret=SECRET, token=key, terminal_id=None, source_ip=None)
    second = identity.create_api_key(session=session, account_id=bridge.account.id, scopes=["handles:resolve"])
    identity.disable_account(session=session, account_id=bridge.account.id)
    with pytest.raises(AuthenticationError):
        identity.authenticate_token(session=session, secret=SECRET, token=second, terminal_id=None, source_ip=None)


def test_bad_login_input_names_the_field(session: Session, id_settings: Settings, make_account: MakeAccount) -> None:
    account = make_account("wang.fang")
    with pytest.raises(InputError) as info:
        attempt(session, id_settings, account, at=T0, terminal=" ")
    assert info.value.where == "terminal_id"
    with pytest.raises(InputError) as info:
        attempt(session, id_settings, account, at=T0, terminal="x" * 65)
    assert info.value.where == "terminal_id"


def test_change_password_revokes_other_sessions_and_counts_wrong_attempts(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    account = make_account("wang.fang")
    other = attempt(session, id_settings, account, at=T0, terminal="ws-101")
    mine = attempt(session, id_settings, account, at=T0 + timedelta(seconds=30), terminal="ws-202")
    me = auth(session, mine.access_token, terminal="ws-202", at=T0 + timedelta(seconds=31))
    new = "a brand new passphrase"
    short = identity.change_password(
        session=session, settings=id_settings, principal=me, current_password=PASSWORD, new_password="short"
    )
    with pytest.raises(InputError) as info:
        short.unwrap()  # raised after the commit: the refused attempt is an event too
    assert info.value.where == "new_password"
    assert (events(session)[-1].outcome, events(session)[-1].resource_type) == ("denied", "account")
    wrong = identity.change_password(
        session=session, settings=id_settings, principal=me, current_password="not my password", new_password=new
    )
    with pytest.raises(InputError) as refused:  # a field error: the session itself is fine
        wrong.unwrap()
    assert refused.value.where == "current_password"
    assert events(session)[-1].outcome == "denied"
    assert session.get(LoginThrottle, f"acct:{account.account.id}").failures == 1  # type: ignore[union-attr]
    done = identity.change_password(
        session=session,
        settings=id_settings,
        principal=me,
        current_password=PASSWORD,
        new_password=new,
        now=T0 + timedelta(seconds=40),
    )
    assert done.unwrap() == 1
    assert events(session)[-1].reason == "password changed; 1 other session(s) revoked"
    with pytest.raises(AuthenticationError):
        auth(session, other.access_token, at=T0 + timedelta(seconds=41))
    assert auth(session, mine.access_token, terminal="ws-202", at=T0 + timedelta(seconds=41))
    with pytest.raises(AuthenticationError):
        attempt(session, id_settings, account, at=T0 + timedelta(seconds=60))
    attempt(session, id_settings, account, at=T0 + timedelta(seconds=90), password=new)


def test_nul_in_username_is_input_error_not_a_database_error(
    session: Session, id_settings: Settings, make_account: MakeAccount
) -> None:
    """PostgreSQL cannot compare text with U+0000 (psycopg DataError); the service refuses it first."""
    account = make_account("wang.fang")
    with pytest.raises(InputError) as caught:
        attempt(session, id_settings, account, at=T0, username="wang\x00fang")
    assert caught.value.where == "username"


def test_one_terminal_id_rule_for_logins_keys_and_the_api() -> None:
    # The same rule wherever a terminal id comes in: it is bound into tokens and every event.
    from piguard.api.routers.auth import LoginRequest
    from piguard.identity.tokens import check_terminal_id

    assert check_terminal_id("  ws-101 ", where="terminal_id") == "ws-101"
    for bad in ("", "my pc", "终端1", "x" * 65, "a\tb"):
        with pytest.raises(InputError, match="printable ASCII") as caught:
            check_terminal_id(bad, where="terminal_id")
        assert caught.value.where == "terminal_id"
        with pytest.raises(ValueError, match="terminal_id"):
            LoginRequest.model_validate({"username": "u", "password": "p", "totp": "123456", "terminal_id": bad})
