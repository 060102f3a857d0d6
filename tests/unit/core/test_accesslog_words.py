"""The access log keeps only the app's route words, opaque ids and dates; any other path text is ``…``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from piguard.api.accesslog import ROUTE_WORDS, log_config, route_words, safe_client, safe_path
from piguard.api.app import create_app
from piguard.config import Settings
from piguard.keys import ensure_secret


def test_the_route_words_are_exactly_the_literal_segments_of_the_apps_routes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'words.db'}")
    ensure_secret(settings)
    # A new route's words belong in ROUTE_WORDS; a removed route's words leave it.
    assert route_words(create_app(settings)) == ROUTE_WORDS


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        # A name with a phone number is lowercase with digits, yet no route word.
        ("/api/v1/death-reports/liu-jieqian-13912345678?purpose=TREAT", "/api/v1/death-reports/…?…"),
        ("/api/v1/death-reports/wangfang", "/api/v1/death-reports/…"),
        ("/api/v1/death-reports/310204195601156281", "/api/v1/death-reports/…"),
        ("/api/v1/death-reports/%E6%9D%8E%E7%A7%80%E8%8B%B1", "/api/v1/death-reports/…"),
        ("/api/v1/death-reports/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/api/v1/death-reports/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("/api/v1/oversight/reports/city/2026-10?format=pdf", "/api/v1/oversight/reports/city/2026-10?…"),
        ("/api/v1/oversight/training/status", "/api/v1/oversight/training/status"),
        ("/openapi.json", "/openapi.json"),
        ("/docs/oauth2-redirect", "/docs/oauth2-redirect"),
        ("/Death-Reports/x.json", "/…/…"),
    ],
)
def test_safe_path(path: str, logged: str) -> None:
    assert safe_path(path) == logged


def test_the_served_log_config_filters_with_the_words_given() -> None:
    config = log_config(words=["api", "v1", "me"])
    spec = dict(config["filters"]["drop_query_strings"])
    assert "drop_query_strings" in config["handlers"]["access"]["filters"]
    made = spec.pop("()")(**spec)  # as logging.config.dictConfig builds it
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s - %s %s HTTP/%s %d",
        ("127.0.0.1:5", "GET", "/api/v1/me/sessions?x=1", "1.1", 200), None,
    )  # fmt: skip
    assert made.filter(record) and record.getMessage() == "127.0.0.1:5 - GET /api/v1/me/…?… HTTP/1.1 200"


@pytest.mark.parametrize(
    ("client", "logged"),
    [
        ("203.0.113.7:51234", "203.0.113.7:51234"),
        ("::ffff:203.0.113.7:51234", "203.0.113.7:51234"),
        ("2001:DB8:0:0::7:443", "2001:db8::7:443"),
        # What a trusted proxy forwarded, as uvicorn puts it in the line: never written as it came.
        ("刘洁 110101199003077777:0", "-"),
        ("<script>alert(1)</script>:0", "-"),
        ("testclient:50000", "-"),
    ],
)
def test_the_client_is_logged_as_an_address_or_a_dash(client: str, logged: str) -> None:
    assert safe_client(client) == logged
