"""RFC 9457 problem+json responses; no stack traces or record data ever leave the server."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piguard.errors import (
    AccessDenied,
    AccountLockedError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    DisclosureLimitError,
    InputError,
    NotFoundError,
    PiguardError,
    UnknownContextError,
    UnknownPurposeError,
    validation_reason,
)

log = logging.getLogger("piguard.api")
PROBLEM = "application/problem+json"
# RFC 9110 section 11.6.1: a 401 names the scheme to authenticate with.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="piguard"'}
# A field name is echoed only when it looks like one: unknown keys of a JSON body are the
# caller's text, and the body may be record data.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
# FastAPI's detail when decoding the body raised something other than a JSONDecodeError.
BODY_PARSE_ERROR = "There was an error parsing the body"


def problem(
    status: int, title: str, detail: str | None = None, *, headers: Mapping[str, str] | None = None, **extra: object
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    all_headers = dict(headers or {})
    if "retry_after" in extra:
        all_headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=all_headers)


def _loc_part(part: object) -> str:
    text = str(part)
    return text if isinstance(part, int) or _NAME.fullmatch(text) else "?"


def _field_error(err: Any) -> dict[str, str]:
    """One validation error as field and reason (never the submitted value, which may be record data)."""
    loc = [_loc_part(part) for part in err["loc"]]
    if err.get("type") == "json_invalid":
        # loc is ("body", character offset): say where the JSON broke, not a bare number.
        detail = (err.get("ctx") or {}).get("error")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"field": "body", "reason": f"invalid JSON{at}" + (f": {detail}" if detail else "")}
    return {"field": ".".join(part for part in loc if part != "body") or "body", "reason": validation_reason(err)}


def _unparsable_body(exc: StarletteHTTPException) -> JSONResponse:
    """A body FastAPI could not decode as JSON at all: a 422 like any other invalid JSON, body not echoed.

    ``json.loads`` raises ``RecursionError`` on deeply nested arrays or objects and a ``ValueError``
    on bytes that are not UTF-8; FastAPI turns both into a bare 400 naming nothing.
    """
    nested = isinstance(exc.__cause__, RecursionError)
    reason = "not valid JSON: nested too deeply" if nested else "not valid JSON"
    return problem(422, "Invalid input", f"body: {reason}", errors=[{"field": "body", "reason": reason}])


def _origin(exc: BaseException) -> str:
    """Where an exception was raised (innermost piguard frame, else innermost frame): module and line."""
    found = "?"
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", "?"))
        if module.startswith("piguard") or found == "?":
            found = f"{module}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def log_unexpected(exc: BaseException) -> None:
    """Log an unexpected error by type and place only: its message may carry record data or SQL parameters."""
    log.error("unexpected error %s at %s", type(exc).__name__, _origin(exc))


class ContainErrors:
    """ASGI middleware: an unexpected exception becomes a generic 500 problem and stops here.

    Starlette's outermost error middleware re-raises every exception after answering, and the
    server then logs it with its traceback and message (an SQL error's message includes its
    parameters, i.e. record data). Caught here, only the type and place are logged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an exception it did not handle, log it safely and answer 500 if still possible."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log_unexpected(exc)
            if not started:
                await problem(500, "Internal error")(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Map the exception tree onto HTTP statuses."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(err) for err in exc.errors()]
        return problem(422, "Invalid input", "see errors", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            return _unparsable_body(exc)
        # Keeps the exception's headers: ``Allow`` on a 405 lists the methods the path accepts.
        return problem(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(PiguardError)
    async def _domain(_: Request, exc: PiguardError) -> JSONResponse:
        if isinstance(exc, UnknownPurposeError | UnknownContextError):
            return problem(400, "Bad request", str(exc))
        if isinstance(exc, InputError):
            return problem(422, "Invalid input", exc.reason, errors=[{"field": exc.where, "reason": exc.reason}])
        if isinstance(exc, DisclosureLimitError):
            return problem(429, "Too many requests", exc.reason, retry_after=exc.retry_after)
        if isinstance(exc, AccountLockedError):
            return problem(429, "Too many failed logins", str(exc), retry_after=exc.retry_after)
        if isinstance(exc, AuthenticationError):
            return problem(401, "Not authenticated", str(exc), headers=CHALLENGE)
        if isinstance(exc, AccessDenied):
            return problem(403, "Forbidden", exc.reason, policy_ids=list(exc.policy_ids))
        if isinstance(exc, NotFoundError):
            return problem(404, "Not found")
        if isinstance(exc, ConflictError):
            return problem(409, "Conflict", str(exc))
        if isinstance(exc, ConfigError):
            # The installation, not the request: a secret that does not decrypt the stored TOTP seeds
            # (a restore with another secret, a rotation while serving). Its text names files and key
            # ids, never record data: the operator needs it in the log to act.
            log.error("configuration problem (%s at %s): %s", type(exc).__name__, _origin(exc), exc)
            return problem(503, "Service unavailable", "the service is misconfigured; the server log says why")
        log.error("unhandled domain error %s at %s", type(exc).__name__, _origin(exc))
        return problem(500, "Internal error")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The last resort, for errors outside ContainErrors (in the outermost middleware).
        log_unexpected(exc)
        return problem(500, "Internal error")
