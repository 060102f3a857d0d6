"""Refuse U+0000 in paths, query strings and JSON bodies before any route runs.

PostgreSQL cannot store or compare text containing NUL (psycopg raises ``DataError``), so a NUL in
an id, a search term or a reason was a 500 there; no piguard field legitimately contains one.
Refusing it at the door gives the same clear 422, naming the field, on both databases. Like other
validation errors it reaches no service and leaves no access event.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piguard.api.errors import problem

REASON = "must not contain NUL characters (U+0000)"
# Field names are echoed only when they look like one; anything else could be arbitrary input.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Inside JSON a NUL can only be the escape \u0000 (raw control characters are invalid JSON); an
# even number of backslashes before it means the text "\u0000", not an escape.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _query_field(query_string: bytes) -> str | None:
    # Decoded the way Starlette decodes it, so exactly what a route would receive is checked.
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name}" if _NAME.fullmatch(name) else "query"
    return None


def _json_field(value: Any, path: tuple[str, ...] = ()) -> str | None:
    if isinstance(value, str):
        return (".".join(path) or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return ".".join(path) or "body"
            found = _json_field(item, (*path, key if _NAME.fullmatch(key) else "?"))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _json_field(item, (*path, str(index)))
            if found:
                return found
    return None


def _body_field(body: bytes) -> str | None:
    if not _JSON_NUL.search(body):
        return None  # the common case: one scan of the bytes, no second parse
    try:
        return _json_field(json.loads(body))
    except RecursionError:
        # Nested too deep to walk (no piguard body nests beyond a few levels), and it does hold an
        # escaped NUL: refused like any other, rather than a 500.
        return "body"
    except ValueError:
        return None  # not JSON: the route's own parsing reports it


class RejectNul:
    """ASGI middleware: a 422 problem naming the field for any NUL in path, query or JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; pass it on unchanged (body replayed) when it is clean."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = "path" if "\x00" in scope["path"] else _query_field(scope.get("query_string", b""))
        if field is None and scope["method"] not in _BODYLESS:
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            field = _body_field(body)
            receive = replay(body, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        response = problem(422, "Invalid input", REASON, errors=[{"field": field, "reason": REASON}])
        await response(scope, receive, send)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app once, then defers to the server."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
