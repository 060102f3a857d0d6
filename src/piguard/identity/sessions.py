"""Bearer-token and API-key authentication, and listing your own sessions."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from piguard.db.base import utcnow
from piguard.db.prepared import Prepared
from piguard.errors import AuthenticationError, InputError, TokenMisuseError
from piguard.identity import audit, tokens
from piguard.identity.accounts import training_valid_until
from piguard.identity.models import Account, ApiKey, LoginSession
from piguard.identity.schemas import Principal, SessionInfo
from piguard.records import service as records

# One message for unknown, expired, revoked and malformed tokens and for disabled accounts.
# One answer for every refused token: a live token sent from the wrong terminal must not be told
# apart from a dead one, or a stolen token's holder learns it is worth guessing terminal ids for.
INVALID = "invalid or expired token, or not sent with the X-Terminal-Id it was issued to"
MISUSED = "token presented from a terminal it was not issued to"
INVALID_TERMINAL_SENT = "the terminal id sent was invalid (not recorded)"
MALFORMED_KEY_TERMINAL = "API key presented with a malformed X-Terminal-Id (not recorded)"
EXPIRED_MISUSED = "expired token presented from a terminal it was not issued to"


class EndedTokenError(TokenMisuseError):
    """A real token of a revoked session or a disabled account, or an expired one from another terminal: recorded.

    The response says ``INVALID``, as for an unknown token; ``why`` is the ledger's reason (a
    disabled insider still trying their token is evidence, like a copied one).
    """

    def __init__(self, why: str, *, account_id: str, session_id: str) -> None:
        self.why = why
        super().__init__(INVALID, account_id=account_id, session_id=session_id)


class MalformedKeyTerminalError(TokenMisuseError, InputError):
    """A recognised API key sent with a malformed ``X-Terminal-Id``: a 422 naming the header, recorded.

    The key is known, so the refusal is the account's evidence like a copied token; the header
    itself may carry control characters or escape sequences and is never written.
    """

    def __init__(self, reason: str, *, account_id: str, session_id: str) -> None:
        super().__init__(reason, account_id=account_id, session_id=session_id)
        self.where = "X-Terminal-Id"


class _TokenRow(NamedTuple):
    """A login session with its account, as ``_TOKEN_SESSION`` returns it."""

    session_id: str
    revoked_at: datetime | None
    expires_at: datetime
    terminal_id: str
    id: str
    username: str
    kind: str
    role: str
    org_id: str
    department: str | None
    disabled: bool


def principal_for(
    session: Session,
    account: Account | _TokenRow,
    *,
    session_id: str | None,
    terminal_id: str | None,
    source_ip: str | None,
    scopes: tuple[str, ...] = (),
) -> Principal:
    """The principal of an account: its role, organisation, jurisdiction and training validity."""
    district, level = records.org_jurisdiction(session=session, org_id=account.org_id)
    return Principal(
        account_id=account.id,
        username=account.username,
        kind="service" if account.kind == "service" else "human",
        role=account.role,
        org_id=account.org_id,
        district=district,
        org_level=level,
        department=account.department,
        session_id=session_id,
        terminal_id=terminal_id,
        source_ip=source_ip,
        training_valid_until=training_valid_until(session=session, account_id=account.id),
        scopes=scopes,
    )


# Every API call authenticates: one Core read of the login session with its account (built once).
_TOKEN_SESSION = Prepared(
    select(
        LoginSession.id.label("session_id"),
        LoginSession.revoked_at,
        LoginSession.expires_at,
        LoginSession.terminal_id,
        Account.id,
        Account.username,
        Account.kind,
        Account.role,
        Account.org_id,
        Account.department,
        Account.disabled,
    )
    .join(Account, Account.id == LoginSession.account_id)
    .where(LoginSession.token_hash == bindparam("digest"))
)


def authenticate_token(
    *,
    session: Session,
    secret: bytes,
    token: str,
    terminal_id: str | None,
    source_ip: str | None,
    now: datetime | None = None,
) -> Principal:
    """The principal behind a login token (which must be used from its own terminal) or an API key.

    ``secret`` is accepted for the interface's sake: tokens are 256-bit random values stored as
    SHA-256 digests, so no key is needed to look them up.
    """
    del secret
    now = now or utcnow()
    if not tokens.well_formed(token):
        raise AuthenticationError(INVALID)
    digest = tokens.token_hash(token)
    if tokens.is_api_key(token):
        key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
        if key is None:
            raise AuthenticationError(INVALID)
        account = session.get(Account, key.account_id)
        if account is None or account.kind != "service":
            raise AuthenticationError(INVALID)
        if account.disabled or key.revoked_at is not None:
            why = "a disabled account" if account.disabled else "a revoked API key"
            raise EndedTokenError(f"token of {why} presented", account_id=account.id, session_id=f"key:{key.id}")
        return principal_for(
            session,
            account,
            session_id=f"key:{key.id}",
            terminal_id=_key_terminal(terminal_id, account_id=account.id, session_id=f"key:{key.id}"),
            source_ip=source_ip,
            scopes=tuple(key.scopes.split()),
        )
    found = _TOKEN_SESSION.rows(session, {"digest": digest})
    row = _TokenRow(*found[0]) if found else None
    if row is None:
        raise AuthenticationError(INVALID)
    if row.disabled or row.revoked_at is not None:
        raise EndedTokenError(_ended(row), account_id=row.id, session_id=row.session_id)
    # The token only works on the terminal it was issued to: a copied token is useless elsewhere.
    # Checked before expiry, so a copied token tried after it ended is recorded too.
    if terminal_id is None or not hmac.compare_digest(terminal_id.strip().encode(), row.terminal_id.encode()):
        if row.expires_at <= now:
            raise EndedTokenError(EXPIRED_MISUSED, account_id=row.id, session_id=row.session_id)
        raise TokenMisuseError(INVALID, account_id=row.id, session_id=row.session_id)
    if row.expires_at <= now:
        # Not recorded: tokens expire every 15 minutes and clients retry with them from their own
        # terminal, so each such event would be noise in the ledger and in detection's denial counts.
        raise AuthenticationError(INVALID)
    return principal_for(session, row, session_id=row.session_id, terminal_id=row.terminal_id, source_ip=source_ip)


def _key_terminal(terminal_id: str | None, *, account_id: str, session_id: str) -> str | None:
    # Optional for keys, but it goes into every event the key causes: held to the login rule.
    if terminal_id is None or not terminal_id.strip():
        return None
    try:
        return tokens.check_terminal_id(terminal_id, where="X-Terminal-Id")
    except InputError as exc:
        raise MalformedKeyTerminalError(exc.reason, account_id=account_id, session_id=session_id) from None


def _recordable_terminal(terminal_id: str | None) -> str | None:
    """The terminal id as the ledger may hold it (the one rule for terminal ids), or None."""
    if terminal_id is None:
        return None
    try:
        return tokens.check_terminal_id(terminal_id, where="X-Terminal-Id")
    except InputError:
        return None


def _ended(row: _TokenRow) -> str:
    if row.disabled:
        return "token of a disabled account presented"
    return "token of a revoked session presented"


def list_sessions(*, session: Session, principal: Principal, now: datetime | None = None) -> list[SessionInfo]:
    """The principal's sessions that are still active, newest first."""
    now = now or utcnow()
    rows = session.scalars(
        select(LoginSession)
        .where(
            LoginSession.account_id == principal.account_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
        )
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
    )
    return [
        SessionInfo(
            id=row.id,
            terminal_id=row.terminal_id,
            source_ip=row.source_ip,
            created_at=row.created_at,
            expires_at=row.expires_at,
            current=row.id == principal.session_id,
        )
        for row in rows
    ]


def record_token_misuse(
    *, session: Session, error: TokenMisuseError, terminal_id: str | None, source_ip: str | None
) -> None:
    """Record a token presented from the wrong terminal, or after its session ended, as a denied login."""
    account = session.get(Account, error.account_id)
    malformed = isinstance(error, MalformedKeyTerminalError)  # its reason says the id was not written
    reason = MALFORMED_KEY_TERMINAL if malformed else error.why if isinstance(error, EndedTokenError) else MISUSED
    recorded = _recordable_terminal(terminal_id)
    if terminal_id is not None and terminal_id.strip() and recorded is None and not malformed:
        # The raw header may carry control characters or escape sequences: never written.
        reason += f"; {INVALID_TERMINAL_SENT}"
    audit.record(
        session,
        at=utcnow(),
        action="login",
        account=account,
        outcome="denied",
        reason=reason,
        terminal_id=recorded,
        session_id=error.session_id,
        source_ip=source_ip,
    )
