"""Headers every response carries: nothing is stored by a cache, nothing is content-sniffed.

Almost every response holds personal or audit data (record views, dispatches, sessions, cases,
family accounts) or a credential (the login's token), and even a 401, 403 or 404 tells who was
refused what. Setting the headers here, for every response including problems and the refusals
of the other middlewares, means no route can forget them. The public checkpoint is no exception:
a witness must see the newest checkpoint, and a cache serving an old one would only delay it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class SecurityHeaders:
    """ASGI middleware: set ``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; overwrite the two headers on the response, whatever a route set."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
