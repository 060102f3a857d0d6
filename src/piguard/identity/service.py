"""Identity service: the functions doors and other domains call (all keyword-only, none commit).

The implementation is split by concern: ``accounts`` (creation, disabling, API keys, training),
``login`` (password + TOTP, throttling, logout), ``sessions`` (token authentication).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.base import utcnow
from piguard.identity import allowance, audit
from piguard.identity.accounts import (
    MANDATORY_COURSE,
    create_account,
    create_api_key,
    disable_account,
    get_account,
    get_account_by_username,
    list_accounts,
    list_api_keys,
    record_training,
    revoke_api_key,
    revoke_api_key_by_id,
    training_valid_until,
)
from piguard.identity.login import LoginOutcome, PasswordChange, change_password, end_session, login, logout
from piguard.identity.schemas import Principal
from piguard.identity.sessions import authenticate_token, list_sessions, record_token_misuse

__all__ = [
    "MANDATORY_COURSE",
    "LoginOutcome",
    "PasswordChange",
    "authenticate_token",
    "change_password",
    "charge_disclosure_allowance",
    "create_account",
    "create_api_key",
    "describe_disclosure_allowance",
    "disable_account",
    "get_account",
    "get_account_by_username",
    "list_accounts",
    "list_api_keys",
    "list_sessions",
    "login",
    "logout",
    "record_refusal",
    "record_token_misuse",
    "record_training",
    "revoke_api_key",
    "revoke_api_key_by_id",
    "revoke_session",
    "take_disclosure_allowance",
    "training_valid_until",
]


def record_request(
    *,
    session: Session,
    principal: Principal,
    action: str,
    reason: str,
    resource_type: str,
    resource_id: str,
    outcome: Literal["allowed", "denied"],
    now: datetime | None = None,
) -> None:
    """Record a request of ``principal`` that discloses no record content (a refusal, a ledger proof)."""
    audit.record(
        session,
        at=now or utcnow(),
        action=action,
        account=None,
        actor=principal,
        outcome=outcome,
        reason=reason,
        resource_type=resource_type,
        resource_id=resource_id,
    )


def record_refusal(
    *,
    session: Session,
    principal: Principal,
    action: str,
    reason: str,
    resource_type: str,
    resource_id: str,
    now: datetime | None = None,
) -> None:
    """Record a refused request of ``principal`` as a denied event; the door raises after the commit."""
    record_request(
        session=session,
        principal=principal,
        action=action,
        reason=reason,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome="denied",
        now=now,
    )


def take_disclosure_allowance(
    *, session: Session, settings: Settings, principal: Principal, now: datetime
) -> int | None:
    """Count one record-disclosing request of ``principal``: None within its allowance, else seconds to wait."""
    limit = allowance.allowance_for(settings, kind=principal.kind)
    if limit is None:
        return None
    return allowance.take(session=session, account_id=principal.account_id, allowance=limit, at=now)


def charge_disclosure_allowance(
    *, session: Session, settings: Settings, principal: Principal, now: datetime, requests: int
) -> int | None:
    """Charge ``requests`` more to ``principal``'s allowance (into debt if need be): seconds until the next fits."""
    limit = allowance.allowance_for(settings, kind=principal.kind)
    if limit is None or requests <= 0:
        return None
    return allowance.charge(
        session=session, account_id=principal.account_id, allowance=limit, at=now, requests=requests
    )


def describe_disclosure_allowance(*, settings: Settings, kind: str) -> str:
    """The allowance of a ``human`` or ``service`` account in words (for refusal reasons)."""
    limit = allowance.allowance_for(settings, kind=kind)
    return limit.describe() if limit is not None else "unlimited"


def revoke_session(*, session: Session, principal: Principal, session_id: str, now: datetime | None = None) -> None:
    """Revoke one of your own sessions (NotFoundError for anyone else's); recorded as a logout."""
    end_session(
        session=session, principal=principal, session_id=session_id, reason="session revoked by its owner", now=now
    )
