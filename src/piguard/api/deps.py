"""FastAPI dependencies: settings, database session, authenticated principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from piguard.api.client import client_address
from piguard.config import Settings
from piguard.errors import AuthenticationError, TokenMisuseError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.ledger.service import bind_settings
from piguard.records.guard import Guard


# Dependencies that only read app state are ``async``: FastAPI runs sync dependencies in the
# thread pool, and each hop there costs more than the work (GIL hand-offs between threads).
async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session; the router opens the one transaction (``with session.begin():``).

    Creating a session does no I/O (it connects on first use, in the endpoint's thread); closing
    it returns the connection to the pool.
    """
    with request.app.state.sessions() as session:
        # The ledger reads its signing key path, origin and checkpoint cadence from the session.
        bind_settings(session, request.app.state.settings)
        yield session


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    authorization: Annotated[str | None, Header()] = None,
    x_terminal_id: Annotated[str | None, Header()] = None,
) -> Principal:
    """Authenticate the bearer token (or service API key) bound to ``X-Terminal-Id``."""
    if not authorization:
        raise AuthenticationError("missing Authorization header")
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential:
        raise AuthenticationError("expected 'Authorization: Bearer <token>'")
    client = client_address(request)
    try:
        with session.begin():
            return identity.authenticate_token(
                session=session,
                secret=request.app.state.secret,
                token=credential.strip(),
                terminal_id=x_terminal_id,
                source_ip=client,
            )
    except TokenMisuseError as exc:
        # A copied token is evidence: record it (the lookup above rolled back) before refusing.
        with session.begin():
            identity.record_token_misuse(session=session, error=exc, terminal_id=x_terminal_id, source_ip=client)
        raise


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_guard(request: Request) -> Guard:
    """Policy engine, settings and secret for the guarded flows."""
    return Guard(engine=request.app.state.policy, settings=request.app.state.settings, secret=request.app.state.secret)


GuardDep = Annotated[Guard, Depends(get_guard)]
