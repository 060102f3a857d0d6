"""Key trouble: a replaced key file is a configuration error (exit 2) whether or not anything was
appended, `verify` warns when the key it trusts is not the current one, and the public checkpoint
is served from the public key when the private key is missing (else a 503 saying why)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import ConfigError
from piguard.keys import ensure_secret
from piguard.ledger import service, store
from piguard.ledger.checkpoint import Checkpoint, parse_vkey, sign_checkpoint
from piguard.ledger.extension import ForeignKeyError
from piguard.ledger.keys import ensure_signing_key, public_key_path
from tests.conftest import private_database_url
from tests.integration.ledger.audit_cli import append, run
from tests.unit.ledger.ledger_factories import make_event

REFUSED = "did not sign the latest stored checkpoint"


def _replace_key(settings: Settings) -> None:
    """A stranger's key in the key file (restored from elsewhere, or swapped)."""
    settings.ledger_key_path().unlink()
    ensure_signing_key(settings)


def test_a_replaced_key_is_refused_with_exit_2_even_with_nothing_to_sign(
    installed_on: Settings, tmp_path: Path
) -> None:
    assert run("checkpoint")[0] == 0  # the latest stored checkpoint covers the whole tree
    _replace_key(installed_on)
    stranger = service.log_verifier(installed_on).key_id.hex()
    for appended in (False, True):
        if appended:
            append(installed_on, range(30, 31))  # appends go on without a checkpoint
        code, out = run("checkpoint")
        assert code == 2, (appended, out)
        assert f"refusing to sign: the signing key (key id {stranger}) {REFUSED}" in out
        code, out = run("export-evidence", "--out", str(tmp_path / f"bundle-{appended}"))
        assert code == 2, (appended, out)
        assert REFUSED in out
        assert not (tmp_path / f"bundle-{appended}").exists()


def test_the_service_says_config_error_for_a_stored_checkpoint_of_another_key(installed_on: Settings) -> None:
    assert run("checkpoint")[0] == 0
    _replace_key(installed_on)
    engine = make_engine(installed_on)
    with make_session_factory(engine)() as session, session.begin(), pytest.raises(ForeignKeyError) as caught:
        service.checkpoint(session=session, settings=installed_on)
    engine.dispose()
    assert isinstance(caught.value, ConfigError)


def test_verify_with_a_retired_key_warns_to_use_the_current_one(installed_on: Settings) -> None:
    first = run("pubkey")[1].strip()
    assert run("rotate-key")[0] == 0
    second = run("pubkey")[1].strip()
    append(installed_on, range(30, 40))
    code, out = run("verify", "--log-key", first)
    assert code == 0, out
    retired = parse_vkey(first).key_id.hex()
    assert f"warning: the key you verify with (key id {retired}) was retired at tree size 30" in out
    assert "verify with the current key" in out
    for trusted in (["--log-key", second], []):
        code, out = run("verify", *trusted)
        assert (code, "warning" in out) == (0, False), out


def test_a_deleted_rotation_and_history_resigned_with_the_leaked_key_is_flagged(installed_on: Settings) -> None:
    first = run("pubkey")[1].strip()
    leaked = serialization.load_pem_private_key(installed_on.ledger_key_path().read_bytes(), password=None)
    assert isinstance(leaked, Ed25519PrivateKey)
    assert run("rotate-key")[0] == 0
    second = run("pubkey")[1].strip()
    append(installed_on, range(30, 50))
    # Write access to the database and the retired key: the rotation's only record goes, and
    # every checkpoint is signed again by the retired key alone.
    engine = make_engine(installed_on)
    with make_session_factory(engine)() as session, session.begin():
        session.execute(text("DELETE FROM ledger_key_rotations"))
        for size, root, _ in store.all_checkpoints(session):
            body = Checkpoint(origin=installed_on.ledger_origin, size=size, root=root)
            note = sign_checkpoint(body, key=leaked).note
            session.execute(
                text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = :s"), {"n": note, "s": size}
            )
    engine.dispose()
    code, out = run("verify", "--log-key", first)
    assert code == 0, out  # nothing in the database shows it: the warning says what does
    current = parse_vkey(second).key_id.hex()
    assert f"is not the server's current signing key (key id {current})" in out
    assert "a rotation record was deleted" in out
    code, out = run("verify", "--log-key", second)  # the current key, published at the rotation
    assert code == 3
    assert "bad_checkpoint_signature" in out


@pytest.fixture(params=["sqlite", "postgresql"])
def public_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    """The app over a committed database of each backend holding 20 events and their checkpoint."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="ledger_key_api"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url, checkpoint_every_entries=1000)
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        with make_session_factory(engine)() as session, session.begin():
            service.bind_settings(session, settings)
            service.append_many(session=session, events=[make_event(i) for i in range(20)])
            service.checkpoint(session=session)
        engine.dispose()
        with TestClient(create_app(settings)) as client:
            yield client, settings
        client.app.state.engine.dispose()  # type: ignore[attr-defined]


def test_the_public_checkpoint_is_served_without_the_private_key(public_api: tuple[TestClient, Settings]) -> None:
    client, settings = public_api
    before = client.get("/api/v1/audit/checkpoint")
    assert before.status_code == 200, before.text
    settings.ledger_key_path().unlink()
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 200, response.text
    assert response.json() == before.json()  # the same note, checked with the saved public key
    public_key_path(settings).unlink()
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "Ledger key unavailable"
    assert "signing key is missing or unusable on the server and its public key was not saved" in body["detail"]
    assert str(settings.data_dir) not in response.text and "ledger_ed25519" not in response.text


def test_an_installation_without_a_saved_public_key_gets_one_when_the_key_is_loaded(
    public_api: tuple[TestClient, Settings],
) -> None:
    client, settings = public_api
    public_key_path(settings).unlink()  # as installed before the public key was saved
    assert client.get("/api/v1/audit/checkpoint").status_code == 200
    assert public_key_path(settings).is_file()
    settings.ledger_key_path().unlink()
    assert client.get("/api/v1/audit/checkpoint").status_code == 200


def test_a_replaced_key_file_is_a_503_naming_both_key_ids(public_api: tuple[TestClient, Settings]) -> None:
    client, settings = public_api
    signed_by = service.log_verifier(settings).key_id.hex()
    _replace_key(settings)
    stranger = service.log_verifier(settings).key_id.hex()
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert f"the server's ledger key (key id {stranger}) {REFUSED} (signed by key id {signed_by})" in detail
    assert str(settings.data_dir) not in response.text
