"""`/api/v1/audit`: public checkpoint and consistency proofs, inclusion proofs for privacy officers and admins only."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from piguard.api.app import create_app
from piguard.cli.main import app as cli
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.identity import totp
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import rotation
from piguard.ledger import service as ledger
from piguard.ledger.checkpoint import open_checkpoint, parse_vkey
from piguard.ledger.keys import ensure_signing_key
from piguard.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from piguard.records import service as records
from tests.unit.ledger.ledger_factories import make_event

PASSWORD = "correct horse battery"


@dataclass
class Api:
    client: TestClient
    settings: Settings
    engine: Engine
    headers: dict[str, dict[str, str]]

    def append(self, numbers: range, *, checkpoint: bool = False) -> None:
        with make_session_factory(self.engine)() as db, db.begin():
            ledger.bind_settings(db, self.settings)
            ledger.append_many(session=db, events=[make_event(i) for i in numbers])
            if checkpoint:
                ledger.checkpoint(session=db)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app on an SQLite file with a privacy officer, an admin and a physician logged in."""
    tmp_path = tmp_path_factory.mktemp("api")
    load_all_models()
    settings = Settings(data_dir=tmp_path / "data", checkpoint_every_entries=1000)
    ensure_secret(settings)
    ensure_signing_key(settings)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    accounts = {}
    with make_session_factory(engine)() as db, db.begin():
        ledger.bind_settings(db, settings)
        org = records.create_organisation(session=db, name="H", org_type="hospital", district="310112")
        for name, role in (("po.chen", "privacy_officer"), ("zhou.min", "admin"), ("wang.fang", "physician")):
            accounts[name] = identity.create_account(
                session=db,
                secret=load_secret(settings),
                username=name,
                display_name=name,
                role=role,
                org_id=org.id,
                password=PASSWORD,
                demo=True,
            )
            identity.record_training(
                session=db,
                account_id=accounts[name].account.id,
                course_code="privacy-basics",
                score=95,
                completed_at=datetime.now(UTC) - timedelta(days=1),
            )
    client = TestClient(create_app(settings))
    headers = {}
    with client:
        for name, created in accounts.items():
            secret = created.totp_secret
            assert secret is not None
            response = client.post(
                "/api/v1/auth/login",
                json={
                    "username": name,
                    "password": PASSWORD,
                    "terminal_id": "ws-7",
                    "totp": totp.code_at(secret, totp.step_of(datetime.now(UTC))),
                },
            )
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
            headers[name] = {"Authorization": f"Bearer {token}", "X-Terminal-Id": "ws-7"}
        yield Api(client, settings, engine, headers)
    client.app.state.engine.dispose()  # type: ignore[attr-defined]
    engine.dispose()


def _b(value: str) -> bytes:
    return base64.b64decode(value)


def test_public_checkpoint_is_signed_and_free_of_personal_data(api: Api) -> None:
    api.append(range(20))
    before = api.client.get("/api/v1/audit/checkpoint").json()["tree_size"]
    api.append(range(20, 25), checkpoint=True)
    response = api.client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 200
    body = response.json()
    verifier = parse_vkey(body["log_key"])
    signed = open_checkpoint(body["note"], verifier)
    assert signed.tree_size == body["tree_size"] >= before + 25
    assert _b(body["root"]) == signed.root
    # Only the tree's size, root and signature leave: short user ids like "u3" can occur inside
    # base64 by chance, so the shape is checked rather than searching the text for them.
    assert set(body) == {"origin", "tree_size", "root", "note", "log_key"}
    origin, size_line, root_line = body["note"].split("\n")[:3]
    assert (origin, int(size_line), _b(root_line)) == (body["origin"], body["tree_size"], signed.root)
    for event in (make_event(i) for i in range(20)):
        assert event.event_id not in response.text
        assert "relative.phone" not in response.text


def test_inclusion_proofs_need_privacy_officer_or_admin_consistency_proofs_are_public(api: Api) -> None:
    with make_session_factory(api.engine)() as db:
        base = ledger.count(session=db)  # account creation and logins are in the ledger too
    api.append(range(25), checkpoint=True)  # consistency proofs reach up to the latest signed checkpoint
    size = base + 20
    url = f"/api/v1/audit/proofs/inclusion?index={base + 3}&size={size}"
    assert api.client.get(url).status_code == 401
    assert api.client.get(url, headers=api.headers["wang.fang"]).status_code == 403
    for auditor in ("po.chen", "zhou.min"):
        response = api.client.get(url, headers=api.headers[auditor])
        assert response.status_code == 200, response.text
        body = response.json()
        assert _b(body["leaf_hash"]) == leaf_hash(make_event(3).canonical_json())
        verify_inclusion(
            leaf_hash=_b(body["leaf_hash"]),
            index=base + 3,
            size=size,
            proof=[_b(p) for p in body["proof"]],
            root=_b(body["root"]),
        )
    url = f"/api/v1/audit/proofs/consistency?from=7&to={base + 25}"
    answers = [api.client.get(url, headers=api.headers[who]) for who in ("po.chen", "wang.fang")]
    for response in [*answers, api.client.get(url)]:  # anyone, with or without a token
        assert response.status_code == 200, response.text
        body = response.json()
        verify_consistency(
            size1=7,
            size2=base + 25,
            proof=[_b(p) for p in body["proof"]],
            root1=_b(body["root1"]),
            root2=_b(body["root2"]),
        )


def test_proof_requests_are_recorded_and_gated_by_training(api: Api) -> None:
    api.append(range(3))
    url = "/api/v1/audit/proofs/inclusion?index=0&size=2"
    with make_session_factory(api.engine)() as db:
        before = ledger.count(session=db)
    assert api.client.get(url, headers=api.headers["po.chen"]).status_code == 200
    with make_session_factory(api.engine)() as db:
        assert ledger.count(session=db) == before + 1  # an allowed proof is an event too
    with make_session_factory(api.engine)() as db:
        last = list(ledger.iter_events(session=db))[-1]
        officer = identity.get_account_by_username(session=db, username="po.chen")
    assert (last.action, last.outcome, last.resource_type) == ("read", "allowed", "ledger_proof")
    with api.engine.begin() as conn:  # the officer's training is gone: the gate closes
        conn.execute(text("DELETE FROM training_completions WHERE account_id = :a"), {"a": officer.id})
    refused = api.client.get(url, headers=api.headers["po.chen"])
    assert refused.status_code == 403 and "training" in refused.json()["detail"]
    with make_session_factory(api.engine)() as db, db.begin():
        last = list(ledger.iter_events(session=db))[-1]
        identity.record_training(  # restored for the module's other tests
            session=db,
            account_id=officer.id,
            course_code="privacy-basics",
            score=95,
            completed_at=datetime.now(UTC) - timedelta(days=1),
        )
    assert (last.outcome, last.resource_type) == ("denied", "ledger_proof")


@pytest.mark.parametrize(
    "query",
    [
        "inclusion?index=5&size=5000",
        "inclusion?index=9&size=9",
        "inclusion?index=-1&size=3",
        "inclusion?index=x&size=3",
        "consistency?from=9&to=3",
        "consistency?from=1&to=9999",
    ],
)
def test_bad_proof_requests_are_clear_422s(api: Api, query: str) -> None:
    api.append(range(10))
    response = api.client.get(f"/api/v1/audit/proofs/{query}", headers=api.headers["po.chen"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_witness_follows_the_published_checkpoint_over_http(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def get(url: str, *, headers: dict[str, str], timeout: float) -> Any:
        del timeout
        return api.client.get(url, headers=headers)

    monkeypatch.setattr(httpx, "get", get)
    url = "http://testserver/api/v1/audit/checkpoint"
    vkey = api.client.get("/api/v1/audit/checkpoint").json()["log_key"]
    state = str(tmp_path / "witness")

    def witness(*extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["audit", "witness", "--checkpoint-url", url, "--state", state, *extra])
        assert "Traceback" not in result.output
        return result.exit_code, result.output.replace("\n", "")

    code, out = witness("--log-key", vkey)
    assert code == 0, out
    assert "first checkpoint seen" in out
    api.append(range(5), checkpoint=True)
    code, out = witness()  # no token: the consistency proof is public, like the checkpoint
    assert code == 0, out
    assert "consistent" in out
    assert "extends" in out
    # The log rotates its key: the witness finds the rotation the key it pinned endorsed.
    assert api.client.get("/api/v1/audit/key-rotations").json() == []
    with make_session_factory(api.engine)() as db, db.begin():
        made = rotation.rotate(session=db, settings=api.settings)
    rotation.replace_key_file(api.settings)
    published = api.client.get("/api/v1/audit/key-rotations").json()
    assert [(r["old_key"], r["new_key"]) for r in published] == [(vkey, made.new.vkey())]
    api.append(range(5, 9), checkpoint=True)
    code, out = witness()
    assert code == 0, out
    assert "the log rotated its key; now pinned" in out
    assert (tmp_path / "witness" / "log.vkey").read_text().strip() == made.new.vkey()


def test_corrupt_ledger_rows_give_a_clear_problem_not_a_crash(api: Api) -> None:
    api.append(range(40), checkpoint=True)
    size = api.client.get("/api/v1/audit/checkpoint").json()["tree_size"]
    with api.engine.begin() as conn:
        saved = conn.execute(text("SELECT level, idx, hash FROM ledger_nodes WHERE level = 1 AND idx = 0")).one()
        conn.execute(text("DELETE FROM ledger_nodes WHERE level = 1 AND idx = 0"))
        note = conn.execute(text("SELECT note FROM ledger_checkpoints WHERE tree_size = :s"), {"s": size}).scalar_one()
    try:
        response = api.client.get(f"/api/v1/audit/proofs/inclusion?index=3&size={size}", headers=api.headers["po.chen"])
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["title"] == "Ledger integrity failure"
        assert "tree node (level 1, index 0) is missing" in body["detail"]
        response = api.client.get(f"/api/v1/audit/proofs/consistency?from=2&to={size}")
        assert response.status_code == 500
        assert "missing" in response.json()["detail"]
        with api.engine.begin() as conn:
            conn.execute(
                text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = :s"),
                {"n": note.replace(f"\n{size}\n", f"\n{size + 1}\n"), "s": size},
            )
        response = api.client.get("/api/v1/audit/checkpoint")
        assert response.status_code == 500
        assert "does not verify" in response.json()["detail"]
        # The public proof is bounded by the signed checkpoint: one that does not verify serves none.
        response = api.client.get(f"/api/v1/audit/proofs/consistency?from=2&to={size}")
        assert response.status_code == 500
        assert "does not verify" in response.json()["detail"]
    finally:
        with api.engine.begin() as conn:
            conn.execute(text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (1, 0, :h)"), {"h": saved.hash})
            conn.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = :s"), {"n": note, "s": size})
    assert api.client.get("/api/v1/audit/checkpoint").status_code == 200
