"""Refuse request bodies larger than ``PIGUARD_MAX_REQUEST_BYTES`` before any route runs.

Without a limit a client could send an arbitrarily large body, which the NUL check and the JSON
parser would hold in memory. A declared ``Content-Length`` over the limit is refused without
reading the body; a body without one (chunked) is counted as it arrives and refused as soon as it
passes the limit, the rest left unread. The body is read in full before the app is called, so a
refused request reaches no route, no service and no database: no access event, no partial write.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from piguard.api.errors import problem
from piguard.api.nul import replay

TITLE = "Content too large"


def _declared_length(scope: Scope) -> int | None:
    """The largest well-formed ``Content-Length`` of the request (None: none, or unusable)."""
    lengths = [value.strip() for value in Headers(scope=scope).getlist("content-length")]
    valid = [int(value) for value in lengths if value.isascii() and value.isdigit()]
    return max(valid) if valid else None


class LimitBody:
    """ASGI middleware: a 413 problem naming the limit for any body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body up to the limit, then hand it to the app; refuse it past the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            # Counted even under a declared length: the server, not this code, enforces the framing.
            if total > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body must not exceed {self.max_bytes} bytes"
        # The unread rest of the body stays on the connection: close it rather than parse it as a request.
        response = problem(413, TITLE, detail, max_bytes=self.max_bytes, headers={"Connection": "close"})
        await response(scope, receive, send)
