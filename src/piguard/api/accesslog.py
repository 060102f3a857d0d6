"""The server's access log without query strings or free text in paths.

A search term (``q=``) can be a person's name, and a path segment typed where an id belongs (a
resident ID number, a name, a name with a phone number) is record data too: only the words the
app's routes are made of, opaque ids and dates are logged as they are.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from piguard.api.client import canonical_address

# uvicorn's access-log record: (client address, method, path with query, HTTP version, status).
_ACCESS_ARGS = 5
#: Every literal segment of the app's route paths (``route_words(create_app())``; a unit test
#: keeps the two equal). A lowercase token is no route word by its shape: ``liu-jieqian-139…`` is one.
ROUTE_WORDS = frozenset(
    {
        "account", "accounts", "answer", "api", "approve", "assignee", "attestations", "audit", "auth",
        "breakglass", "bundle", "cases", "checkpoint", "close", "completions", "consistency", "copy",
        "corrections", "courses", "deadline", "death-reports", "deaths", "decisions", "disable", "dispatches",
        "display", "dispositions", "docs", "evidence", "family-referrals", "family-requests", "findings",
        "handles", "inclusion", "items", "key-rotations", "letter", "login", "logout", "me", "oauth2-redirect",
        "openapi.json", "overdue", "oversight", "password", "pending", "present-code", "proofs",
        "recommendations", "rectifications", "redoc", "refuse", "reinspections", "reject", "reminders",
        "reports", "reproduction", "resolve", "review", "rules", "sessions", "spot-checks", "statistics",
        "status", "subjects", "training", "transitions", "v1", "verify",
    }
)  # fmt: skip
#: The fixed values a path parameter takes besides ids: the monthly report of the ``city``.
PATH_VALUES = frozenset({"city"})
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?")


def route_words(app: FastAPI) -> frozenset[str]:
    """The literal segments of every route path of ``app`` (its API routes and its documentation pages)."""
    paths = [str(path) for path in app.openapi().get("paths", {})]
    paths += [path for route in app.routes if isinstance(path := getattr(route, "path", None), str)]
    return frozenset(part for path in paths for part in path.split("/") if part and "{" not in part)


def _kept(part: str, words: frozenset[str]) -> bool:
    """Whether a path segment is logged as it is: empty, a route word, a fixed value, a ULID or a date."""
    return not part or part in words or part in PATH_VALUES or any(p.fullmatch(part) for p in (_ULID, _DATE))


def safe_path(path: str, words: frozenset[str] = ROUTE_WORDS) -> str:
    """``path`` without its query string, each segment that is no route word, ULID or date as ``…``."""
    route, query = path.split("?", 1) if "?" in path else (path, None)
    segments = [part if _kept(part, words) else "…" for part in route.split("/")]
    return "/".join(segments) + ("?…" if query is not None else "")


class DropQueryStrings(logging.Filter):
    """Keep an access-log line's route words and ids; drop its query string and any other text."""

    def __init__(self, words: Iterable[str] = ROUTE_WORDS) -> None:
        super().__init__()
        self.words = frozenset(words)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument in place; never drops the line itself."""
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS and isinstance(args[2], str):
            record.args = (safe_client(args[0]), args[1], safe_path(args[2], self.words), args[3], args[4])
        return True


def safe_client(client: object) -> str:
    """uvicorn's ``host:port`` with the host as a canonical IP address, or ``-``: never header text.

    A trusted proxy's ``X-Forwarded-For`` becomes the client host unchecked in uvicorn's line.
    """
    host, _, port = str(client).rpartition(":")
    address = canonical_address(host)
    return "-" if address is None else f"{address}:{port}" if port.isdigit() else address


def log_config(words: Iterable[str] = ROUTE_WORDS) -> dict[str, Any]:
    """uvicorn's logging configuration with the query-string filter on its access log.

    ``words``: the route words to keep (``route_words(app)`` of the app being served; default the fixed list).
    """
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query_strings"] = {"()": DropQueryStrings, "words": sorted(words)}
    config["handlers"]["access"]["filters"] = ["drop_query_strings"]
    return config
