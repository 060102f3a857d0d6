"""A key a rotation retired signs nothing more: not when its key file is restored from a backup,
and its signature on later history is refused by `verify-evidence` and the witness whatever key
they trust. Bundles trusted through their own rotations say so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.errors import ConfigError
from piguard.keys import ensure_secret
from piguard.ledger import evidence, rotation, service, store
from piguard.ledger.checkpoint import Checkpoint, parse_vkey, sign_checkpoint
from piguard.ledger.extension import RetiredKeyError
from piguard.ledger.keys import ensure_signing_key
from tests.conftest import private_database_url
from tests.integration.ledger.audit_cli import append, run
from tests.unit.ledger.ledger_factories import make_event


def _key_id(vkey: str) -> str:
    return parse_vkey(vkey).key_id.hex()


def _private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _signed_sizes(settings: Settings) -> list[int]:
    engine = make_engine(settings)
    with make_session_factory(engine)() as session:
        sizes = [size for size, _, _ in store.all_checkpoints(session)]
    engine.dispose()
    return sizes


def test_a_key_file_restored_from_before_a_rotation_signs_nothing(installed_on: Settings, tmp_path: Path) -> None:
    key_file = installed_on.ledger_key_path()
    backup = key_file.read_bytes()
    first = run("pubkey")[1].strip()
    assert run("rotate-key")[0] == 0
    second = run("pubkey")[1].strip()
    current_pem = key_file.read_bytes()
    key_file.write_bytes(backup)  # the backup made before the rotation comes back
    retired, current = _key_id(first), _key_id(second)
    append(installed_on, range(30, 40))  # a checkpoint falls due: skipped, the appends are kept
    assert _signed_sizes(installed_on)[-1] == 30
    code, out = run("checkpoint")
    assert code == 2, out
    said = f"the signing key (key id {retired}) was retired at tree size 30"
    assert said in out and f"current key is key id {current}" in out
    code, out = run("export-evidence", "--out", str(tmp_path / "bundle"))
    assert (code, said in out) == (2, True), out
    assert not (tmp_path / "bundle").exists()
    code, out = run("rotate-key")
    assert (code, said in out) == (2, True), out
    assert _signed_sizes(installed_on)[-1] == 30  # nothing was signed by the retired key
    code, out = run("verify")  # with the key file's (retired) key: it says what happened, once
    assert code == 0, out
    assert f"the server's key file holds key id {retired}, which a stored key rotation retired at tree size 30" in out
    assert f"(key id {retired}) is not the server's current signing key (key id {retired})" not in out
    assert run("verify", "--log-key", second)[0] == 0
    code, out = run("pubkey")  # not a key to publish
    assert (code, said in out) == (2, True), out
    key_file.write_bytes(current_pem)  # the current key put back: signing resumes
    assert run("pubkey") == (0, second + "\n")
    code, out = run("checkpoint")
    assert code == 0, out
    assert _signed_sizes(installed_on)[-1] == 40


def test_the_service_refuses_a_retired_key_as_a_configuration_error(installed: Settings) -> None:
    backup = installed.ledger_key_path().read_bytes()
    assert run("rotate-key")[0] == 0
    installed.ledger_key_path().write_bytes(backup)
    engine = make_engine(installed)
    factory = make_session_factory(engine)
    # The stored checkpoint of the head's size (the rotation's) carries the retired key's
    # signature too: it is refused all the same, and so is the latest checkpoint served.
    with factory() as session, session.begin(), pytest.raises(RetiredKeyError) as caught:
        service.checkpoint(session=session, settings=installed)
    assert isinstance(caught.value, ConfigError) and caught.value.tree_size == 30
    with factory() as session, session.begin(), pytest.raises(RetiredKeyError):
        service.latest_checkpoint(session=session, settings=installed)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def rotated_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Settings, bytes]]:
    """The app over a database of each backend whose key was rotated at 20 events; and the retired key (PEM)."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="ledger_retired_api"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url, checkpoint_every_entries=1000)
        ensure_secret(settings)
        ensure_signing_key(settings)
        retired = settings.ledger_key_path().read_bytes()
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            service.bind_settings(session, settings)
            service.append_many(session=session, events=[make_event(i) for i in range(20)])
            rotation.rotate(session=session, settings=settings)
        rotation.replace_key_file(settings)
        engine.dispose()
        with TestClient(create_app(settings)) as client:
            yield client, settings, retired
        client.app.state.engine.dispose()  # type: ignore[attr-defined]


def test_the_public_checkpoint_is_a_503_while_the_key_file_holds_a_retired_key(
    rotated_api: tuple[TestClient, Settings, bytes],
) -> None:
    client, settings, retired = rotated_api
    before = client.get("/api/v1/audit/checkpoint")
    assert before.status_code == 200, before.text
    current = _key_id(before.json()["log_key"])
    settings.ledger_key_path().write_bytes(retired)
    old = service.log_verifier(settings).key_id.hex()
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 503, response.text
    assert response.json()["title"] == "Ledger key unavailable"
    detail = response.json()["detail"]
    assert f"(key id {old}) was retired at tree size 20" in detail and f"current key is key id {current}" in detail
    assert str(settings.data_dir) not in response.text
    settings.ledger_key_path().unlink()  # only the saved public key, which is the retired one too
    assert client.get("/api/v1/audit/checkpoint").status_code == 503


def _rotated_bundle(installed: Settings, tmp_path: Path) -> tuple[Path, str, str, bytes]:
    """A bundle made after a rotation at 30 (tree size 45); the first and second keys; the retired key's PEM."""
    first = run("pubkey")[1].strip()
    retired = installed.ledger_key_path().read_bytes()
    assert run("rotate-key")[0] == 0
    second = run("pubkey")[1].strip()
    append(installed, range(30, 45))
    bundle = tmp_path / "bundle"
    code, out = run("export-evidence", "--out", str(bundle), "--user", "u3")
    assert code == 0, out
    return bundle, first, second, retired


def test_a_retired_keys_signature_on_later_history_is_refused_whatever_key_is_trusted(
    installed: Settings, tmp_path: Path
) -> None:
    bundle, first, _, retired = _rotated_bundle(installed, tmp_path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    size = manifest["tree_size"]
    # The leaked retired key signs the bundle's tree (beyond its retirement) and claims the bundle.
    body = Checkpoint(origin=installed.ledger_origin, size=size, root=evidence_root(manifest))
    (bundle / "checkpoint.note").write_text(sign_checkpoint(body, key=_private(retired)).note)
    (bundle / "log.vkey").write_text(first + "\n")
    code, out = run("verify-evidence", str(bundle), "--log-key", first)
    assert code == 3, out
    assert f"signed by key {_key_id(first)}, which was retired at tree size 30" in out
    assert "key-rotations.json" in out
    # Without the rotation record nothing shows it (the docs say so): the bundle only looks older.
    (bundle / "key-rotations.json").write_text("[{not json")
    code, out = run("verify-evidence", str(bundle), "--log-key", first)
    assert code == 2, out
    assert f"{bundle / 'key-rotations.json'}: invalid JSON" in out


def evidence_root(manifest: dict[str, object]) -> bytes:
    """The root a manifest states, as bytes."""
    import base64

    root = manifest["root"]
    assert isinstance(root, str)
    return base64.b64decode(root)


def test_a_bundle_trusted_through_its_own_rotations_says_so(installed: Settings, tmp_path: Path) -> None:
    bundle, first, second, _ = _rotated_bundle(installed, tmp_path)
    code, out = run("verify-evidence", str(bundle), "--log-key", first)
    assert code == 0, out
    assert "verified: 6 events" in out
    assert (
        "the bundle's key is trusted only through the key rotations in the bundle's own key-rotations.json, "
        f"which lead from the key you trust (key id {_key_id(first)}) to key id {_key_id(second)} "
        "(brought in at tree size 30)"
    ) in out
    assert "safe only if the key you trust never leaked" in out
    code, out = run("verify-evidence", str(bundle), "--log-key", second)
    assert (code, "warning" in out) == (0, False), out
    assert "safe only if the key you hold never leaked" in (bundle / "README.md").read_text()


def test_a_bundle_of_an_earlier_key_needs_that_key_not_the_later_one(installed: Settings, tmp_path: Path) -> None:
    first = run("pubkey")[1].strip()
    earlier = tmp_path / "earlier"
    assert run("export-evidence", "--out", str(earlier), "--user", "u3")[0] == 0  # size 30, then its event
    assert run("rotate-key")[0] == 0  # at 31
    second = run("pubkey")[1].strip()
    (earlier / "key-rotations.json").write_text(run("keys", "--json")[1])
    assert run("verify-evidence", str(earlier), "--log-key", first)[0] == 0
    # The rotation's tree (31) is the only one the second key vouches for; 30 would need a proof to it.
    code, out = run("verify-evidence", str(earlier), "--log-key", second)
    assert code == 3, out
    assert f"signed by key {_key_id(first)} at tree size 30, an earlier key of the log" in out
    assert "no consistency proof from size 30 to 31" in out
    assert "ask the operator for a new bundle" in out


def test_a_bundle_at_the_rotations_own_tree_is_vouched_for_by_the_new_key(installed: Settings, tmp_path: Path) -> None:
    first = run("pubkey")[1].strip()
    bundle = tmp_path / "bundle"
    engine = make_engine(installed)
    with make_session_factory(engine)() as session, session.begin():
        service.bind_settings(session, installed)
        made = evidence.export_evidence(session=session, out=bundle, settings=installed, user_id="u3")
    engine.dispose()
    assert (made.tree_size, (bundle / "log.vkey").read_text().strip()) == (30, first)
    assert run("rotate-key")[0] == 0  # nothing appended since: the rotation signs the same tree
    second = run("pubkey")[1].strip()
    (bundle / "key-rotations.json").write_text(run("keys", "--json")[1])
    code, out = run("verify-evidence", str(bundle), "--log-key", second)
    assert code == 0, out
    assert "verified: 4 events" in out  # u3: events 3, 10, 17, 24


def test_a_witness_pinned_to_a_retired_key_refuses_its_later_signatures(installed: Settings, tmp_path: Path) -> None:
    state = tmp_path / "witness"
    first = run("pubkey")[1].strip()
    retired = installed.ledger_key_path().read_bytes()
    cp30 = tmp_path / "cp30.note"
    cp30.write_text(run("checkpoint")[1])
    assert run("witness", "--checkpoint-file", str(cp30), "--state", str(state), "--log-key", first)[0] == 0
    assert run("rotate-key")[0] == 0
    append(installed, range(30, 45))
    rotations = tmp_path / "rotations.json"
    rotations.write_text(run("keys", "--json")[1])
    engine = make_engine(installed)
    with make_session_factory(engine)() as session:
        root = service.root(session=session, size=45)
        proof = service.consistency_proof(session=session, size1=30, size2=45)
    engine.dispose()
    forged = tmp_path / "cp45-old.note"
    forged.write_text(
        sign_checkpoint(Checkpoint(origin=installed.ledger_origin, size=45, root=root), key=_private(retired)).note
    )
    import base64

    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps({"proof": [base64.b64encode(p).decode() for p in proof]}))
    args = ["witness", "--state", str(state), "--consistency-file", str(proof_file), "--rotations-file", str(rotations)]
    code, out = run(*args, "--checkpoint-file", str(forged))
    assert code == 3, out
    assert f"signed by key {_key_id(first)}, which was retired at tree size 30" in out
    assert (state / "log.vkey").read_text().strip() == first  # nothing accepted, nothing re-pinned
    genuine = tmp_path / "cp45.note"
    genuine.write_text(run("checkpoint")[1])
    code, out = run(*args, "--checkpoint-file", str(genuine))
    assert code == 0, out
    assert "the log rotated its key; now pinned" in out
