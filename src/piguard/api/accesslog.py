"""The server's access log without query strings: a search term (``q=``) can be a person's name."""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

# uvicorn's access-log record: (client address, method, path with query, HTTP version, status).
_ACCESS_ARGS = 5


class DropQueryStrings(logging.Filter):
    """Keep an access-log line's path and drop its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument in place; never drops the line itself."""
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?…", args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the query-string filter on its access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query_strings"] = {"()": DropQueryStrings}
    config["handlers"]["access"]["filters"] = ["drop_query_strings"]
    return config
