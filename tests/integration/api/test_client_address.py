"""The client address piguard records and throttles on: the TCP peer, or a trusted proxy's forwarded address.

The app is wrapped exactly as ``piguard serve`` has uvicorn wrap it (``uvicorn.Config(...).load()``
with the options ``serve`` builds), so the forwarding rules tested are the installed uvicorn's.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from piguard.api.client import canonical_address
from piguard.cli.main import app as cli
from piguard.cli.service import proxy_options
from piguard.config import parse_trusted_proxies
from piguard.identity import totp
from tests.integration.api.conftest import PASSWORD, Site

PROXY_NET = "10.9.0.0/24"
PROXY = "10.9.0.2"
OVERLONG = "2001:db8::1" + "x" * 69  # 80 characters: a 500 on PostgreSQL before (String(64) column)
GARBAGE = ["<script>alert(1)</script>", "王小明 310112195001011234", OVERLONG, "192.0.2.7 <b>", "unknown", "::1::2"]
_names = itertools.count()


def _served(site: Site, *, peer: str, trusted: str = "") -> TestClient:
    """A client connecting from ``peer`` to the app as uvicorn serves it with ``trusted`` proxies."""
    config = uvicorn.Config(site.client.app, log_config=None, **proxy_options(parse_trusted_proxies(trusted)))
    config.load()
    # Not entered as a context manager: the module's app is already started.
    return TestClient(config.loaded_app, client=(peer, 40000))


def _login(client: TestClient, site: Site, who: str, *, forwarded: str | None = None, terminal: str = "ws-7") -> Any:
    code = totp.code_at(site.totp[who], totp.step_of(datetime.now(UTC)))
    return client.post(
        "/api/v1/auth/login",
        json={"username": site.usernames[who], "password": PASSWORD, "totp": code, "terminal_id": terminal},
        headers={"X-Forwarded-For": forwarded} if forwarded is not None else {},
    )


def _fail(client: TestClient, *, forwarded: str | None = None) -> Any:
    """A failed login with a new unknown username (no account's or name's counter is touched twice)."""
    return client.post(
        "/api/v1/auth/login",
        json={"username": f"spray{next(_names)}.user", "password": PASSWORD, "totp": "000000", "terminal_id": "ws-7"},
        # Sent as UTF-8 bytes, as a client typing a name would.
        headers={"X-Forwarded-For": forwarded.encode()} if forwarded is not None else {},
    )


def _session_ip(client: TestClient, answer: Any, terminal: str = "ws-7") -> str | None:
    """The recorded source address of the session ``answer`` (a login) opened, as /me/sessions shows it."""
    assert answer.status_code == 200, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}", "X-Terminal-Id": terminal}
    listed = client.get("/api/v1/me/sessions", headers=headers)
    assert listed.status_code == 200, listed.text
    (current,) = [item for item in listed.json()["items"] if item["current"]]
    ip: str | None = current["source_ip"]
    return ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:DB8:0:0::7", "2001:db8::7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("fe80::1%eth0", "fe80::1"),
        ("fe80::1%eth0 <b>x", "fe80::1"),  # a zone index is free text: dropped
        ("testclient", None),
        ("192.0.2.7:8080", None),
        *[(text, None) for text in GARBAGE],
    ],
)
def test_only_a_canonical_ip_address_is_taken(text: str, expected: str | None) -> None:
    assert canonical_address(text) == expected


def test_a_forged_x_forwarded_for_from_a_local_client_is_ignored_by_default(site: Site) -> None:
    local = _served(site, peer="127.0.0.1")
    answer = _login(local, site, "certifier", forwarded="198.51.100.20")
    assert _session_ip(local, answer) == "127.0.0.1"
    assert site.last_event().source_ip == "127.0.0.1"


def test_a_forged_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(site: Site) -> None:
    stranger = _served(site, peer="192.0.2.33", trusted=PROXY_NET)
    answer = _login(stranger, site, "broker", forwarded="198.51.100.20")
    assert _session_ip(stranger, answer) == "192.0.2.33"
    # The token path too: a token presented from the wrong terminal is recorded against the peer.
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}", "X-Terminal-Id": "ws-other"}
    misuse = stranger.get("/api/v1/me", headers={**headers, "X-Forwarded-For": "198.51.100.21"})
    assert misuse.status_code == 401
    event = site.last_event()
    assert (event.outcome, event.source_ip) == ("denied", "192.0.2.33")


def test_a_trusted_proxys_forwarded_address_is_recorded_in_canonical_form(site: Site) -> None:
    proxy = _served(site, peer=PROXY, trusted=PROXY_NET)
    # A proxy appends the address it saw; whatever the client sent before it is not believed.
    answer = _login(proxy, site, "emt", forwarded="198.51.100.99, 2001:DB8:0:0::7")
    assert _session_ip(proxy, answer) == "2001:db8::7"
    assert site.last_event().source_ip == "2001:db8::7"


@pytest.mark.parametrize("text", GARBAGE)
def test_forwarded_text_that_is_no_address_is_never_recorded(site: Site, text: str) -> None:
    proxy = _served(site, peer=PROXY, trusted=PROXY_NET)
    before = site.events()
    assert _fail(proxy, forwarded=text).status_code == 401
    assert site.events() == before + 1
    assert site.last_event().source_ip is None


def test_an_empty_forwarded_header_leaves_the_proxys_own_address(site: Site) -> None:
    assert _fail(_served(site, peer=PROXY, trusted=PROXY_NET), forwarded="").status_code == 401
    assert site.last_event().source_ip == PROXY


def test_a_login_forwarded_with_overlong_text_succeeds_and_records_no_address(site: Site) -> None:
    proxy = _served(site, peer=PROXY, trusted=PROXY_NET)
    answer = _login(proxy, site, "epi", forwarded=OVERLONG)
    assert _session_ip(proxy, answer) is None
    assert site.last_event().source_ip is None


def test_a_test_client_peer_is_no_address(site: Site) -> None:
    assert _fail(site.client).status_code == 401
    assert site.last_event().source_ip is None


# The default PIGUARD_LOGIN_MAX_FAILURES times the source factor: failures that lock an address.
SOURCE_LIMIT = 5 * 10


@pytest.mark.parametrize(("peer", "trusted"), [("127.0.0.66", ""), ("192.0.2.66", PROXY_NET)])
def test_a_real_address_is_locked_out_whatever_it_forwards(site: Site, peer: str, trusted: str) -> None:
    attacker = _served(site, peer=peer, trusted=trusted)
    codes = [_fail(attacker, forwarded=f"203.0.113.{n}").status_code for n in range(SOURCE_LIMIT)]
    assert codes == [401] * (SOURCE_LIMIT - 1) + [429]
    assert site.last_event().reason == "unknown username; source address now locked"
    assert site.last_event().source_ip == peer
    assert _fail(attacker, forwarded="203.0.113.250").status_code == 429
    # The addresses it named are not locked: nobody can frame a hospital's NAT address.
    assert _fail(_served(site, peer="203.0.113.1")).status_code == 401


def test_an_ipv6_client_is_locked_out_per_64_when_it_changes_address(site: Site) -> None:
    codes = [_fail(_served(site, peer=f"2001:db8:66:1::{n:x}")).status_code for n in range(1, SOURCE_LIMIT + 1)]
    assert codes == [401] * (SOURCE_LIMIT - 1) + [429]
    assert _fail(_served(site, peer="2001:db8:66:1:ffff::1")).status_code == 429
    assert _fail(_served(site, peer="2001:db8:66:2::1")).status_code == 401


# --- piguard serve -------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("PIGUARD_TRUSTED_PROXIES", raising=False)
    return tmp_path / "data"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.0.0.5,proxy.internal", "entry 2 of 2 is not an IP address or CIDR network"),
        ("10.0.0.1/8", "entry 1 of 1 has bits set after the prefix length"),
        ("10.0.0.5,,10.0.0.6", "entry 2 of 3 is empty"),
        ("*", "entry 1 of 1 trusts every address"),
        ("::/0", "entry 1 of 1 trusts every address"),
    ],
)
def test_a_malformed_trusted_proxies_value_stops_serve_with_exit_2(data_dir: Path, value: str, reason: str) -> None:
    # Checked before the app is built: no data directory is needed to be told.
    by_option = runner.invoke(cli, ["serve", "--trusted-proxies", value])
    assert by_option.exit_code == 2
    assert f"--trusted-proxies: {reason}" in by_option.stderr
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PIGUARD_TRUSTED_PROXIES", value)
        by_setting = runner.invoke(cli, ["serve"])
    assert by_setting.exit_code == 2
    assert f"configuration: PIGUARD_TRUSTED_PROXIES: {reason}" in by_setting.stderr
    for result in (by_option, by_setting):
        assert "Traceback" not in result.output


def test_serve_reads_forwarding_headers_only_from_the_configured_proxies(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(cli, ["init"]).exit_code == 0
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: served.append(options))  # no real server
    assert runner.invoke(cli, ["serve"]).exit_code == 0
    monkeypatch.setenv("PIGUARD_TRUSTED_PROXIES", " 10.9.0.2 , 2001:db8::/64")
    assert runner.invoke(cli, ["serve"]).exit_code == 0
    assert runner.invoke(cli, ["serve", "--trusted-proxies", ""]).exit_code == 0
    proxies = [(options["proxy_headers"], options["forwarded_allow_ips"]) for options in served]
    assert proxies == [
        (False, []),
        (True, ["10.9.0.2/32", "::ffff:10.9.0.2/128", "2001:db8::/64"]),
        (False, []),  # the option overrides the setting
    ]
