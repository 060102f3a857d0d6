"""Consistency proofs are public like the checkpoint: a witness needs no account, and nothing is recorded."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from piguard.cli.main import app as cli
from piguard.config import Settings
from piguard.db import make_session_factory
from piguard.ledger import service as ledger
from piguard.ledger.merkle import verify_consistency
from tests.integration.api.conftest import Site
from tests.unit.ledger.ledger_factories import make_event

CHECKPOINT = "/api/v1/audit/checkpoint"


def _b(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _settings(site: Site) -> Settings:
    app: FastAPI = site.client.app  # type: ignore[assignment]
    settings: Settings = app.state.settings
    return settings


def _append(site: Site, numbers: range, *, checkpoint: bool) -> None:
    with make_session_factory(site.engine)() as db, db.begin():
        ledger.bind_settings(db, _settings(site))
        ledger.append_many(session=db, events=[make_event(i) for i in numbers])
        if checkpoint:
            ledger.checkpoint(session=db)


def _signed(site: Site) -> dict[str, Any]:
    response = site.client.get(CHECKPOINT)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_consistency_proof_between_signed_checkpoints_needs_no_token_and_is_not_recorded(site: Site) -> None:
    _append(site, range(3), checkpoint=True)
    first = _signed(site)
    _append(site, range(40), checkpoint=True)
    second = _signed(site)
    before = site.events()
    url = f"/api/v1/audit/proofs/consistency?from={first['tree_size']}&to={second['tree_size']}"
    response = site.client.get(url)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"size1", "size2", "root1", "root2", "proof"}
    assert (body["root1"], body["root2"]) == (first["root"], second["root"])  # the signed roots
    verify_consistency(
        size1=first["tree_size"],
        size2=second["tree_size"],
        proof=[_b(p) for p in body["proof"]],
        root1=_b(first["root"]),
        root2=_b(second["root"]),
    )
    assert site.events() == before  # like the public checkpoint: no event per request


def test_no_proof_reaches_beyond_the_latest_signed_checkpoint(site: Site) -> None:
    _append(site, range(50, 60), checkpoint=True)
    signed = _signed(site)["tree_size"]
    _append(site, range(100, 103), checkpoint=False)  # appended, not yet signed
    assert site.events() > signed
    before = site.events()
    response = site.client.get(f"/api/v1/audit/proofs/consistency?from=0&to={signed + 1}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"] == [{"field": "to", "reason": problem["detail"]}]
    assert f"beyond the latest signed checkpoint ({signed} entries)" in problem["detail"]
    assert site.client.get(f"/api/v1/audit/proofs/consistency?from=1&to={signed}").status_code == 200
    assert site.events() == before


@pytest.mark.parametrize("query", ["from=3&to=2", "from=-1&to=2", "from=0&to=x", f"from=0&to={2**62 + 1}"])
def test_malformed_public_proof_requests_are_422s(site: Site, query: str) -> None:
    response = site.client.get(f"/api/v1/audit/proofs/consistency?{query}")
    assert response.status_code == 422, response.text


def test_inclusion_proofs_still_need_an_auditor(site: Site) -> None:
    url = "/api/v1/audit/proofs/inclusion?index=0&size=1"
    assert site.client.get(url).status_code == 401
    assert site.client.get(url, headers=site.token("broker")).status_code == 403


def test_a_witness_follows_the_log_over_http_without_credentials(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, dict[str, str]]] = []

    def get(url: str, *, headers: dict[str, str], timeout: float) -> Any:
        del timeout
        sent.append((url, headers))
        return site.client.get(url, headers=headers)

    monkeypatch.setattr(httpx, "get", get)  # the witness's HTTP client, answered by the app in process
    monkeypatch.delenv("PIGUARD_WITNESS_TOKEN", raising=False)
    _append(site, range(150, 160), checkpoint=True)
    url = "http://testserver/api/v1/audit/checkpoint"
    state = str(tmp_path / "witness")

    def witness(*extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["audit", "witness", "--checkpoint-url", url, "--state", state, *extra])
        assert "Traceback" not in result.output
        return result.exit_code, result.output.replace("\n", "")

    code, out = witness("--log-key", _signed(site)["log_key"])
    assert (code, "first checkpoint seen" in out) == (0, True), out
    _append(site, range(200, 230), checkpoint=True)
    code, out = witness()
    assert code == 0, out
    assert f"consistent: tree size {_signed(site)['tree_size']} (extends" in out
    assert any("/proofs/consistency?" in asked for asked, _ in sent)  # the proof was fetched, not skipped
    assert all("Authorization" not in headers for _, headers in sent)
