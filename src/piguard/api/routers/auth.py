"""Login, logout and account administration: ``/api/v1/auth``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from piguard.api.client import client_address
from piguard.api.deps import PrincipalDep, SessionDep, SettingsDep
from piguard.api.ids import PathId
from piguard.errors import AccessDenied, ConflictError, NotFoundError
from piguard.identity import service as identity
from piguard.identity import tokens

router = APIRouter()


class LoginRequest(BaseModel):
    """Username, password, the current TOTP code and the terminal the token will be bound to."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    totp: str = Field(pattern=r"^[0-9]{6}$", description="6-digit RFC 6238 code")
    terminal_id: str = Field(min_length=1, max_length=64, pattern=tokens.TERMINAL_ID_PATTERN)


class TokenResponse(BaseModel):
    """A bearer token valid until ``expires_at``, only from the terminal named at login."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_at: datetime


class DisableResponse(BaseModel):
    """The disabled account and how many of its sessions were revoked."""

    account_id: str
    sessions_revoked: int


@router.post("/login", response_model=TokenResponse)
def login(body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Log in with password and TOTP; 401 on bad credentials, 429 while locked out."""
    with session.begin():
        outcome = identity.login(
            session=session,
            secret=request.app.state.secret,
            settings=settings,
            username=body.username,
            password=body.password,
            totp_code=body.totp,
            terminal_id=body.terminal_id,
            source_ip=client_address(request),
        )
    # Raised only now, after the failure counter and its ledger event have been committed.
    result = outcome.unwrap()
    return TokenResponse(access_token=result.access_token, expires_at=result.expires_at)


@router.post("/logout", status_code=204)
def logout(session: SessionDep, principal: PrincipalDep) -> Response:
    """End the current session; its token stops working at once."""
    with session.begin():
        identity.logout(session=session, principal=principal)
    return Response(status_code=204)


@router.post("/accounts/{account_id}/disable", response_model=DisableResponse)
def disable_account(account_id: PathId, session: SessionDep, principal: PrincipalDep) -> DisableResponse:
    """Disable an account and revoke its sessions and API keys (administrators only)."""
    refusal: AccessDenied | NotFoundError | ConflictError | None = None
    with session.begin():
        try:
            if principal.role != "admin":
                raise AccessDenied("only administrators disable accounts")
            revoked = identity.disable_account(session=session, account_id=account_id, actor=principal)
        except (AccessDenied, NotFoundError, ConflictError) as exc:
            # An insider trying to lock a colleague out is evidence: the refusal (raised before any
            # change was made) is recorded in this transaction and raised only after the commit.
            refusal = exc
            identity.record_refusal(
                session=session,
                principal=principal,
                action="update",
                reason=f"account disable refused: {exc}",
                resource_type="account",
                resource_id=account_id,
            )
    if refusal is not None:
        raise refusal
    return DisableResponse(account_id=account_id, sessions_revoked=revoked)
