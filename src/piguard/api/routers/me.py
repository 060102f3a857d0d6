"""The caller's own account and sessions: ``/api/v1/me``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from piguard.api.deps import PrincipalDep, SessionDep, SettingsDep
from piguard.api.ids import PathId
from piguard.errors import ConflictError, NotFoundError
from piguard.identity import service as identity
from piguard.identity.schemas import SessionInfo

router = APIRouter()


class Me(BaseModel):
    """Who you are logged in as."""

    account_id: str
    username: str
    kind: str
    role: str
    org_id: str
    district: str | None
    department: str | None
    session_id: str | None
    terminal_id: str | None
    training_valid_until: datetime | None
    scopes: list[str]


class SessionList(BaseModel):
    """Your active sessions, newest first; ``current`` marks the one making this request."""

    count: int
    items: list[SessionInfo]


class PasswordChangeRequest(BaseModel):
    """Your current password and the new one (12-128 characters)."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=12, max_length=128)


class PasswordChanged(BaseModel):
    """How many of your other sessions were ended by the change."""

    sessions_revoked: int


@router.get("", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    """Your account, organisation, terminal and training status."""
    return Me(
        account_id=principal.account_id,
        username=principal.username,
        kind=principal.kind,
        role=principal.role,
        org_id=principal.org_id,
        district=principal.district,
        department=principal.department,
        session_id=principal.session_id,
        terminal_id=principal.terminal_id,
        training_valid_until=principal.training_valid_until,
        scopes=list(principal.scopes),
    )


@router.get("/sessions", response_model=SessionList)
def list_sessions(session: SessionDep, principal: PrincipalDep) -> SessionList:
    """Your active login sessions."""
    with session.begin():
        items = identity.list_sessions(session=session, principal=principal)
    return SessionList(count=len(items), items=items)


@router.delete("/sessions/{session_id}", status_code=204)
def revoke_session(session_id: PathId, session: SessionDep, principal: PrincipalDep) -> Response:
    """Revoke one of your sessions (404 if it is not yours); recorded as a logout, a refusal too."""
    refusal: NotFoundError | ConflictError | None = None
    with session.begin():
        try:
            identity.revoke_session(session=session, principal=principal, session_id=session_id)
        except (NotFoundError, ConflictError) as exc:
            # Probing other people's session ids is evidence: recorded (nothing was changed before
            # the check failed) and raised only after the commit.
            refusal = exc
            identity.record_refusal(
                session=session,
                principal=principal,
                action="logout",
                reason=f"session revocation refused: {exc}",
                resource_type="login_session",
                resource_id=session_id,
            )
    if refusal is not None:
        raise refusal
    return Response(status_code=204)


@router.post("/password", response_model=PasswordChanged)
def change_password(
    body: PasswordChangeRequest, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> PasswordChanged:
    """Change your password; your other sessions are revoked. Wrong current passwords count towards lockout."""
    with session.begin():
        outcome = identity.change_password(
            session=session,
            settings=settings,
            principal=principal,
            current_password=body.current_password,
            new_password=body.new_password,
        )
    # Raised after the commit, so a wrong current password is counted and recorded.
    return PasswordChanged(sessions_revoked=outcome.unwrap())
