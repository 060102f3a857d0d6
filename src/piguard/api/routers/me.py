"""The caller's own account and sessions: ``/api/v1/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from piguard.api.deps import PrincipalDep, SessionDep
from piguard.identity import service as identity
from piguard.identity.schemas import SessionInfo

router = APIRouter()

SessionId = Annotated[str, Path(min_length=26, max_length=26, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


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
def revoke_session(session_id: SessionId, session: SessionDep, principal: PrincipalDep) -> Response:
    """Revoke one of your sessions (404 if it is not yours); recorded as a logout."""
    with session.begin():
        identity.revoke_session(session=session, principal=principal, session_id=session_id)
    return Response(status_code=204)
