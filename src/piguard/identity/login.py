"""Interactive login (password + TOTP) and logout; every attempt leaves exactly one ``login`` event.

A refused login must still commit its failure counter and its event, so ``login`` does not
raise: it returns a ``LoginOutcome`` whose ``unwrap()`` the door calls after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.base import utcnow
from piguard.errors import (
    AccountLockedError,
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PiguardError,
)
from piguard.identity import audit, passwords, throttle, tokens, totp
from piguard.identity.accounts import normalise_username
from piguard.identity.models import Account, LoginSession
from piguard.identity.schemas import LoginResult, Principal

# The same words for every refusal, so a response never tells which factor was wrong or whether
# the username exists; the ledger event carries the precise reason.
GENERIC_FAILURE = "invalid username, password or one-time code"
MAX_FIELD = 256


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """The result of one login attempt: a token, or the error to raise after committing."""

    result: LoginResult | None = None
    error: AuthenticationError | None = None

    def unwrap(self) -> LoginResult:
        """The login result, or raise the refusal (call this after the transaction commits)."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _check_terminal(terminal_id: str | None) -> str:
    if terminal_id is None or not terminal_id.strip():
        raise InputError("a terminal id is required", where="terminal_id")
    return tokens.check_terminal_id(terminal_id, where="terminal_id")


def login(
    *,
    session: Session,
    secret: bytes,
    settings: Settings,
    username: str,
    password: str,
    totp_code: str,
    terminal_id: str,
    source_ip: str | None = None,
    now: datetime | None = None,
) -> LoginOutcome:
    """Check password and TOTP, apply backoff and lockout, open a terminal-bound session."""
    now = now or utcnow()
    terminal_id = _check_terminal(terminal_id)
    if len(username) > MAX_FIELD or len(password) > MAX_FIELD or len(totp_code) > MAX_FIELD:
        raise InputError(f"must be at most {MAX_FIELD} characters", where="username/password/totp")
    if "\x00" in username:
        # PostgreSQL cannot compare text containing U+0000 (a DataError, not a refusal); no username has one.
        raise InputError("must not contain NUL characters (U+0000)", where="username")
    window = settings.login_lockout_seconds

    def refuse(account: Account | None, reason: str, error: AuthenticationError) -> LoginOutcome:
        audit.record(
            session,
            at=now,
            action="login",
            account=account,
            outcome="denied",
            reason=reason,
            terminal_id=terminal_id,
            source_ip=source_ip,
        )
        return LoginOutcome(error=error)

    source = throttle.load(session, throttle.source_key(source_ip, secret=secret), now=now) if source_ip else None
    name = normalise_username(username)
    # Locked so two logins racing with the same code cannot both pass the replay check.
    account = session.scalars(
        select(Account).where(Account.username == name).with_for_update().execution_options(populate_existing=True)
    ).first()
    if source is not None:
        wait = throttle.wait_seconds(source, now=now, window_seconds=window, backoff=False)
        if wait is not None:
            # Recorded against the account tried (investigators need it); the answer is the same
            # whether it exists or not.
            return refuse(account, "too many failed logins from this source address", AccountLockedError(wait))

    key = throttle.account_key(account.id) if account else throttle.name_key(name, secret=secret)
    counter = throttle.load(session, key, now=now)
    if account is not None:
        # SQLite takes its write lock only at the throttle insert above; re-read the account under
        # it so a login that raced ours sees our accepted TOTP step (PostgreSQL: row lock above).
        session.refresh(account)
    wait = throttle.wait_seconds(counter, now=now, window_seconds=window, backoff=True)
    if wait is not None:
        return refuse(account, "locked or backing off after repeated failures", AccountLockedError(wait))

    def fail(reason: str) -> LoginOutcome:
        locked = throttle.fail(counter, now=now, max_failures=settings.login_max_failures, lockout_seconds=window)
        source_locked = source is not None and throttle.fail(
            source,
            now=now,
            max_failures=settings.login_max_failures * throttle.SOURCE_FACTOR,
            lockout_seconds=window,
        )
        reason += "; now locked" if locked else ""
        reason += "; source address now locked" if source_locked else ""
        error = AccountLockedError(window) if locked or source_locked else AuthenticationError(GENERIC_FAILURE)
        return refuse(account, reason, error)

    usable = account is not None and account.kind == "human" and not account.disabled
    # Unknown, disabled and service accounts still pay for one Argon2id verification, so the
    # response time does not tell them apart from a wrong password.
    stored = account.password_hash if usable and account is not None else None
    if not passwords.verify_password(stored, password):
        if account is None:
            return fail("unknown username")
        if account.kind != "human":
            return fail("service accounts cannot log in interactively")
        if account.disabled:
            return fail("account disabled")
        return fail("wrong password")
    assert account is not None
    assert account.password_hash is not None
    assert account.totp_secret_enc is not None
    totp_secret = totp.decrypt_secret(account.totp_secret_enc, app_secret=secret, account_id=account.id)
    step = totp.match_step(totp_secret, totp_code.strip(), at=now)
    if step is None:
        return fail("wrong one-time code")
    if step <= account.totp_last_step:
        return fail("one-time code already used (replay)")

    account.totp_last_step = step
    throttle.clear(session, counter)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    token = tokens.new_access_token()
    expires = now + timedelta(seconds=settings.token_lifetime_seconds)
    row = LoginSession(
        account_id=account.id,
        token_hash=tokens.token_hash(token),
        terminal_id=terminal_id,
        source_ip=source_ip,
        created_at=now,
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=now,
        action="login",
        account=account,
        reason="password and TOTP verified",
        session_id=row.id,
        terminal_id=terminal_id,
        source_ip=source_ip,
    )
    _record_concurrency(session, account=account, current=row, now=now)
    return LoginOutcome(result=LoginResult(access_token=token, expires_at=expires, session_id=row.id))


def _record_concurrency(session: Session, *, account: Account, current: LoginSession, now: datetime) -> None:
    # Checked at login: that is the only moment a second terminal can become active. One person
    # on two terminals at once suggests a shared or stolen credential.
    others = session.scalars(
        select(LoginSession)
        .where(
            LoginSession.account_id == account.id,
            LoginSession.id != current.id,
            LoginSession.terminal_id != current.terminal_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
        )
        .order_by(LoginSession.created_at.desc())
    ).all()
    if not others:
        return
    terminals = {other.terminal_id for other in others}
    audit.record(
        session,
        at=now,
        action="concurrent_session",
        account=account,
        reason=f"active on {len(terminals) + 1} terminals at once",
        terminal_id=current.terminal_id,
        session_id=current.id,
        source_ip=current.source_ip,
        resource_type="login_session",
        resource_id=others[0].id,
    )


def end_session(
    *, session: Session, principal: Principal, session_id: str, reason: str, now: datetime | None = None
) -> None:
    """Revoke one of the principal's own sessions and record a ``logout`` event."""
    now = now or utcnow()
    row = session.get(LoginSession, session_id)
    if row is None or row.account_id != principal.account_id:
        raise NotFoundError("session not found")
    if row.revoked_at is not None or row.expires_at <= now:
        raise ConflictError("session already ended")
    row.revoked_at = now
    account = session.get(Account, principal.account_id)
    audit.record(
        session,
        at=now,
        action="logout",
        account=account,
        reason=reason,
        terminal_id=principal.terminal_id,
        session_id=principal.session_id,
        source_ip=principal.source_ip,
        resource_type="login_session",
        resource_id=row.id,
    )


def logout(*, session: Session, principal: Principal, now: datetime | None = None) -> None:
    """End the principal's current session (its token stops working at once)."""
    if principal.kind != "human" or principal.session_id is None:
        raise InputError("API keys have no session to log out of", where="authorization")
    end_session(session=session, principal=principal, session_id=principal.session_id, reason="logout", now=now)


@dataclass(frozen=True, slots=True)
class PasswordChange:
    """The result of a password change: sessions revoked, or the error to raise after committing."""

    sessions_revoked: int = 0
    error: PiguardError | None = None

    def unwrap(self) -> int:
        """The number of other sessions revoked, or raise the refusal (after the commit)."""
        if self.error is not None:
            raise self.error
        return self.sessions_revoked


def change_password(
    *,
    session: Session,
    settings: Settings,
    principal: Principal,
    current_password: str,
    new_password: str,
    now: datetime | None = None,
) -> PasswordChange:
    """Replace your password (current one required); your other sessions are revoked.

    Wrong current passwords count towards the account's lockout, so a stolen token cannot be
    used to guess the password here either.
    """
    now = now or utcnow()
    if principal.kind != "human" or principal.session_id is None:
        raise InputError("service accounts have no password", where="authorization")
    account = session.scalars(select(Account).where(Account.id == principal.account_id).with_for_update()).one()
    counter = throttle.load(session, throttle.account_key(account.id), now=now)
    window = settings.login_lockout_seconds

    def record(outcome: Literal["allowed", "denied"], reason: str) -> None:
        audit.record(
            session,
            at=now,
            action="update",
            account=account,
            outcome=outcome,
            reason=reason,
            terminal_id=principal.terminal_id,
            session_id=principal.session_id,
            source_ip=principal.source_ip,
            resource_type="account",
            resource_id=account.id,
        )

    # "Every attempt is an update event": a new password refused by the rules is recorded too.
    rule_error: InputError | None = None
    try:
        passwords.check_password_rules(new_password, where="new_password")
    except InputError as exc:
        rule_error = exc
    if rule_error is None and new_password == current_password:
        rule_error = InputError("must differ from the current password", where="new_password")
    if rule_error is not None:
        record("denied", f"password change refused: new password {rule_error.reason}")
        return PasswordChange(error=rule_error)
    wait = throttle.wait_seconds(counter, now=now, window_seconds=window, backoff=True)
    if wait is not None:
        record("denied", "password change refused: locked or backing off after repeated failures")
        return PasswordChange(error=AccountLockedError(wait))
    if not passwords.verify_password(account.password_hash, current_password):
        locked = throttle.fail(counter, now=now, max_failures=settings.login_max_failures, lockout_seconds=window)
        record("denied", "password change refused: wrong current password" + ("; now locked" if locked else ""))
        # A 422 naming the field, not a 401: the token is fine, and a client must not log the user out.
        wrong = InputError("is wrong", where="current_password")
        error: PiguardError = AccountLockedError(window) if locked else wrong
        return PasswordChange(error=error)
    throttle.clear(session, counter)
    account.password_hash = passwords.hash_password(new_password)
    others = session.scalars(
        select(LoginSession).where(
            LoginSession.account_id == account.id,
            LoginSession.id != principal.session_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
        )
    ).all()
    for other in others:
        other.revoked_at = now
    record("allowed", f"password changed; {len(others)} other session(s) revoked")
    return PasswordChange(sessions_revoked=len(others))
