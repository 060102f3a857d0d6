"""The server's access log without query strings or free text in paths.

A search term (``q=``) can be a person's name, and a path segment typed where an id belongs (a
resident ID number, a percent-encoded name) is record data too: only route words and opaque ids
are logged as they are.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

# uvicorn's access-log record: (client address, method, path with query, HTTP version, status).
_ACCESS_ARGS = 5
# Segments logged as they are: route words (``death-reports``, ``v1``, ``openapi.json``),
# ULIDs and months or dates (``2026-10``).
_ROUTE_WORD = re.compile(r"[a-z][a-z0-9_-]{0,39}(?:\.[a-z]{2,5})?")
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?")


def safe_path(path: str) -> str:
    """``path`` without its query string, each segment that is neither a route word nor a ULID as ``…``."""
    route, query = path.split("?", 1) if "?" in path else (path, None)
    segments = [
        part if not part or any(p.fullmatch(part) for p in (_ROUTE_WORD, _ULID, _DATE)) else "…"
        for part in route.split("/")
    ]
    return "/".join(segments) + ("?…" if query is not None else "")


class DropQueryStrings(logging.Filter):
    """Keep an access-log line's route words and ids; drop its query string and any other text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument in place; never drops the line itself."""
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS and isinstance(args[2], str):
            record.args = (args[0], args[1], safe_path(args[2]), args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the query-string filter on its access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query_strings"] = {"()": DropQueryStrings}
    config["handlers"]["access"]["filters"] = ["drop_query_strings"]
    return config
