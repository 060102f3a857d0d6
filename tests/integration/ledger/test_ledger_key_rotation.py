"""Rotating the ledger's signing key: verifiers, evidence bundles and witnesses that pinned the
first key follow the rotation; a retired (perhaps leaked) key signs nothing they accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.db.base import utcnow
from piguard.ledger import rotation, service, store
from piguard.ledger.audit import verify_ledger
from piguard.ledger.checkpoint import Checkpoint, parse_vkey, sign_checkpoint
from piguard.ledger.keys import ensure_signing_key, load_signing_key, pending_key_path
from tests.integration.ledger.audit_cli import append, run
from tests.unit.ledger.ledger_factories import make_event


def _pem(settings: Settings) -> bytes:
    return settings.ledger_key_path().read_bytes()


def test_rotate_then_verify_from_the_first_key(installed: Settings) -> None:
    first = run("pubkey")[1].strip()
    leaked = _pem(installed)
    code, out = run("rotate-key")
    assert code == 0, out
    assert "rotated at tree size 30" in out
    second = run("pubkey")[1].strip()
    assert second != first and second in out.replace("\n", "")
    assert installed.ledger_key_path().stat().st_mode & 0o777 == 0o600
    assert not pending_key_path(installed).exists()
    append(installed, range(30, 45))  # checkpoints at 38 and later are the new key's
    for trusted in ([], ["--log-key", first], ["--log-key", second]):
        code, out = run("verify", *trusted)
        assert code == 0, out
    code, out = run("keys", "--log-key", first)
    assert code == 0, out
    assert f"{first}  sizes 0..30" in out and f"{second}  sizes 30..now" in out
    published = json.loads(run("keys", "--json")[1])
    assert [(r["tree_size"], r["old_key"], r["new_key"]) for r in published] == [(30, first, second)]

    # Someone who kept a copy of the retired key signs a checkpoint of the later history with it.
    old_key = serialization.load_pem_private_key(leaked, password=None)
    assert isinstance(old_key, Ed25519PrivateKey)
    engine = make_engine(installed)
    with make_session_factory(engine)() as session, session.begin():
        size, root, _ = store.all_checkpoints(session)[-1]
        forged = sign_checkpoint(Checkpoint(origin=installed.ledger_origin, size=size, root=root), key=old_key).note
        session.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = :s"), {"n": forged, "s": size})
    engine.dispose()
    code, out = run("verify", "--log-key", first)
    assert code == 3
    assert f"checkpoint of size {size}" in out
    assert "retired at tree size 30" in out


def test_a_checkpoint_signed_again_by_a_replacement_key_is_still_caught_after_a_rotation(installed: Settings) -> None:
    first = run("pubkey")[1].strip()
    assert run("rotate-key")[0] == 0
    # A stranger's key in the key file, without a rotation the old key signed: not in the chain.
    installed.ledger_key_path().unlink()
    ensure_signing_key(installed)
    append(installed, range(30, 40))  # appends go on; the stranger's key signs no checkpoint
    code, out = run("checkpoint")
    assert code == 2
    assert "did not sign the latest stored checkpoint" in out
    engine = make_engine(installed)
    with make_session_factory(engine)() as session, session.begin():
        assert [size for size, _, _ in store.all_checkpoints(session)][-1] == 30
        # A checkpoint the stranger's key signs anyway, written straight into the table.
        stranger = sign_checkpoint(
            Checkpoint(origin=installed.ledger_origin, size=40, root=service.root(session=session)),
            key=load_signing_key(installed),
        )
        store.insert_checkpoint(session, tree_size=40, root=stranger.root, note=stranger.note, created_at=utcnow())
    engine.dispose()
    code, out = run("verify", "--log-key", first)
    assert code == 3
    assert "bad_checkpoint_signature" in out
    code, out = run("rotate-key")
    assert code == 3
    assert "not the key the last rotation brought in" in out


def test_evidence_made_after_a_rotation_verifies_with_the_first_key(installed: Settings, tmp_path: Path) -> None:
    first = run("pubkey")[1].strip()
    assert run("rotate-key")[0] == 0
    append(installed, range(30, 45))
    bundle = tmp_path / "bundle"
    code, out = run("export-evidence", "--out", str(bundle), "--user", "u3")
    assert code == 0, out
    assert (bundle / "key-rotations.json").is_file()
    code, out = run("verify-evidence", str(bundle), "--log-key", first)
    assert code == 0, out
    assert "verified: 6 events" in out  # u3: events 3, 10, 17, 24, 31, 38
    rotations = json.loads((bundle / "key-rotations.json").read_text())
    stranger = Ed25519PrivateKey.generate()
    body = rotation.rotation_body(
        Checkpoint(origin=installed.ledger_origin, size=30, root=b"\0" * 32),
        parse_vkey(rotations[0]["new_key"]),
    )
    rotations[0]["note"] = rotation.sign_twice(body, name=installed.ledger_origin, first=stranger, second=stranger)
    (bundle / "key-rotations.json").write_text(json.dumps(rotations))
    code, out = run("verify-evidence", str(bundle), "--log-key", first)
    assert code == 3
    assert "key-rotations.json" in out
    (bundle / "key-rotations.json").unlink()
    code, out = run("verify-evidence", str(bundle), "--log-key", first)
    assert code == 3
    assert "records no key rotation" in out


def test_a_witness_follows_the_rotation_from_the_key_it_pinned(installed: Settings, tmp_path: Path) -> None:
    state = tmp_path / "witness"
    first = run("pubkey")[1].strip()
    cp30 = tmp_path / "cp30.note"
    cp30.write_text(run("checkpoint")[1])
    assert run("witness", "--checkpoint-file", str(cp30), "--state", str(state), "--log-key", first)[0] == 0
    assert run("rotate-key")[0] == 0
    append(installed, range(30, 45))
    cp45 = tmp_path / "cp45.note"
    cp45.write_text(run("checkpoint")[1])
    engine = make_engine(installed)
    with make_session_factory(engine)() as session:
        proof = service.consistency_proof(session=session, size1=30, size2=45)
    engine.dispose()
    import base64

    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps({"proof": [base64.b64encode(p).decode() for p in proof]}))
    args = ["witness", "--checkpoint-file", str(cp45), "--state", str(state), "--consistency-file", str(proof_file)]
    code, out = run(*args)
    assert code == 3  # signed by a key it does not know, and no rotation shown
    rotations = tmp_path / "rotations.json"
    rotations.write_text(run("keys", "--json")[1])
    code, out = run(*args, "--rotations-file", str(rotations))
    assert code == 0, out
    assert "extends 30" in out
    second = run("pubkey")[1].strip()
    assert "the log rotated its key; now pinned" in out
    assert (state / "log.vkey").read_text().strip() == second


def test_an_interrupted_rotation_is_finished_or_undone(installed: Settings) -> None:
    first = run("pubkey")[1].strip()
    engine = make_engine(installed)
    factory = make_session_factory(engine)
    # Crash after the commit, before the new key file took the old one's place.
    with factory() as session, session.begin():
        service.bind_settings(session, installed)
        made = rotation.rotate(session=session, settings=installed)
    assert pending_key_path(installed).exists()
    code, out = run("checkpoint")
    assert code == 2
    assert "rotation is unfinished" in out
    append(installed, range(30, 40))  # disclosures are still recorded; only signing waits
    code, out = run("rotate-key", "--finish")
    assert code == 0, out
    assert "was completed" in out
    assert run("pubkey")[1].strip() == made.new.vkey()
    append(installed, range(40, 50))
    assert run("verify", "--log-key", first)[0] == 0
    # Crash inside the transaction: the new key never became part of the log.
    before = _pem(installed)

    def crash_before_commit() -> None:
        with factory() as session, session.begin():
            rotation.rotate(session=session, settings=installed)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    engine.dispose()
    code, out = run("rotate-key", "--finish")
    assert code == 0, out
    assert "undone" in out
    assert _pem(installed) == before
    assert not pending_key_path(installed).exists()
    assert run("verify", "--log-key", first)[0] == 0


def test_rotation_on_both_databases(fresh_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "keys", checkpoint_every_entries=4)
    ensure_signing_key(settings)
    first = service.log_verifier(settings)
    factory = make_session_factory(fresh_engine)
    with factory() as session, session.begin():
        service.bind_settings(session, settings)
        service.append_many(session=session, events=[make_event(i) for i in range(6)])
    for _ in range(2):  # twice: the second rotation starts from the first one's key
        with factory() as session, session.begin():
            rotation.rotate(session=session, settings=settings)
        rotation.replace_key_file(settings)
        with factory() as session, session.begin():
            service.bind_settings(session, settings)
            service.append_many(session=session, events=[make_event(i) for i in range(100, 105)])
    with factory() as session:
        report = verify_ledger(session=session, verifier=first)
        assert report.ok, report.findings
        assert [p.last for p in rotation.history(session, settings, first)] == [6, 11, None]
        latest = service.latest_checkpoint(session=session, settings=settings)
        assert latest is not None and latest.tree_size == 16
    assert load_signing_key(settings) is not None
