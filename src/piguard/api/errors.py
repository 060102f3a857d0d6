"""RFC 9457 problem+json responses; no stack traces or record data ever leave the server."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from piguard.errors import (
    AccessDenied,
    AccountLockedError,
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PiguardError,
    UnknownContextError,
    UnknownPurposeError,
)

log = logging.getLogger("piguard.api")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_error(err: Any) -> dict[str, str]:
    """One validation error as field and reason (never the submitted value, which may be record data)."""
    loc = [str(part) for part in err["loc"]]
    if err.get("type") == "json_invalid":
        # loc is ("body", character offset): say where the JSON broke, not a bare number.
        detail = (err.get("ctx") or {}).get("error")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"field": "body", "reason": f"invalid JSON{at}" + (f": {detail}" if detail else "")}
    return {"field": ".".join(part for part in loc if part != "body") or "body", "reason": str(err["msg"])}


def install_error_handlers(app: FastAPI) -> None:
    """Map the exception tree onto HTTP statuses."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(err) for err in exc.errors()]
        return problem(422, "Invalid input", "see errors", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(PiguardError)
    async def _domain(_: Request, exc: PiguardError) -> JSONResponse:
        if isinstance(exc, UnknownPurposeError | UnknownContextError):
            return problem(400, "Bad request", str(exc))
        if isinstance(exc, InputError):
            return problem(422, "Invalid input", exc.reason, errors=[{"field": exc.where, "reason": exc.reason}])
        if isinstance(exc, AccountLockedError):
            return problem(429, "Too many failed logins", str(exc), retry_after=exc.retry_after)
        if isinstance(exc, AuthenticationError):
            return problem(401, "Not authenticated", str(exc))
        if isinstance(exc, AccessDenied):
            return problem(403, "Forbidden", exc.reason, policy_ids=list(exc.policy_ids))
        if isinstance(exc, NotFoundError):
            return problem(404, "Not found")
        if isinstance(exc, ConflictError):
            return problem(409, "Conflict", str(exc))
        log.error("unhandled domain error %s", type(exc).__name__)
        return problem(500, "Internal error")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Only the type is logged: messages may carry record data.
        log.error("unexpected error %s", type(exc).__name__)
        return problem(500, "Internal error")
