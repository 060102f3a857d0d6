"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from piguard.api.bodylimit import LimitBody
from piguard.api.errors import ContainErrors, install_error_handlers
from piguard.api.headers import SecurityHeaders
from piguard.api.nul import RejectNul
from piguard.api.routers import (
    audit,
    auth,
    breakglass,
    me,
    oversight_cases,
    oversight_family,
    oversight_inspections,
    oversight_reports,
    oversight_training,
    records,
)
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory, migrate
from piguard.keys import load_secret
from piguard.policy.pdp import PolicyEngine

log = logging.getLogger("piguard.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; refuses to start with missing or placeholder secrets or invalid policies.

    The database schema is checked when the app starts (its lifespan), so building an app touches
    no database: an empty database or one older than the code stops the start-up with
    ``SchemaNotCurrentError``; ``piguard serve`` checks before it starts and exits 2.
    """
    settings = settings or Settings()
    secret = load_secret(settings)
    policy = PolicyEngine.load()  # invalid policies or schema: ConfigError, the service does not start
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            # On an empty or older schema every signed-in request would be a bare 500: do not start.
            migrate.require_current(engine)
            yield
        finally:
            engine.dispose()  # close pooled connections when the server stops

    app = FastAPI(
        lifespan=lifespan,
        title="piguard",
        version="0.1.0",
        description="Need-to-know access to death-information records, with every disclosure audited.",
    )
    app.state.settings = settings
    app.state.secret = secret
    app.state.policy = policy
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    install_error_handlers(app)
    # The last one added runs first: headers on every response, then unexpected errors contained,
    # then the size limit (before the NUL check, which holds the whole body in memory).
    app.add_middleware(RejectNul)  # PostgreSQL cannot store U+0000: a clear 422 instead of a 500
    app.add_middleware(LimitBody, max_bytes=settings.max_request_bytes)
    app.add_middleware(ContainErrors)
    app.add_middleware(SecurityHeaders)
    app.include_router(auth.router, prefix="/api/v1/auth", tags=["auth"])
    app.include_router(me.router, prefix="/api/v1/me", tags=["me"])
    app.include_router(records.router, prefix="/api/v1", tags=["records"])
    app.include_router(breakglass.router, prefix="/api/v1", tags=["breakglass"])
    app.include_router(audit.router, prefix="/api/v1/audit", tags=["audit"])
    app.include_router(oversight_cases.router, prefix="/api/v1/oversight", tags=["oversight: cases"])
    app.include_router(oversight_inspections.router, prefix="/api/v1/oversight", tags=["oversight: inspections"])
    app.include_router(oversight_training.router, prefix="/api/v1/oversight", tags=["oversight: training"])
    app.include_router(oversight_reports.router, prefix="/api/v1/oversight", tags=["oversight: reports"])
    app.include_router(oversight_family.router, prefix="/api/v1/oversight", tags=["oversight: family requests"])
    return app
