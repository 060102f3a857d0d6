"""Evidence bundles and notes are read strictly: each leaf is exactly the canonical JSON of an
access event, a checkpoint note is its exact bytes and exactly three lines, and every signature
line by the trusted key must verify."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from piguard.config import Settings
from piguard.ledger.canonical import canonical_event
from piguard.ledger.checkpoint import Checkpoint, sign_checkpoint, sign_note, verifier_for
from piguard.ledger.merkle import leaf_hash, node_hash
from tests.integration.ledger.audit_cli import run
from tests.unit.ledger.ledger_factories import make_event

ORIGIN = "example.org/log"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _bundle(folder: Path, leaf: str, key: Ed25519PrivateKey, *, subject: str | None = None) -> str:
    """A one-event bundle whose tree is that leaf alone (no proof needed); returns the trusted key."""
    folder.mkdir()
    digest = leaf_hash(leaf.encode())
    note = sign_checkpoint(Checkpoint(origin=ORIGIN, size=1, root=digest), key=key).note
    (folder / "checkpoint.note").write_bytes(note.encode())
    vkey = verifier_for(ORIGIN, key).vkey()
    (folder / "log.vkey").write_text(vkey + "\n")
    entry = {"index": 0, "leaf": leaf, "leaf_hash": _b64(digest), "proof": []}
    (folder / "entries.jsonl").write_text(json.dumps(entry) + "\n")
    selection = {"user_id": None, "subject_id": subject, "from": None, "to": None}
    manifest = {"format": "piguard-evidence/1", "origin": ORIGIN, "tree_size": 1, "root": _b64(digest)}
    (folder / "manifest.json").write_text(json.dumps({**manifest, "entries": 1, "selection": selection}))
    return vkey


CANONICAL = canonical_event(make_event(7)).decode()
RECORD = json.loads(CANONICAL)


def _with(**changes: object) -> str:
    return json.dumps({**RECORD, **changes}, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


LEAVES: dict[str, tuple[str, str]] = {
    "spaces": (json.dumps(RECORD, sort_keys=True), "leaf is not RFC 8785 canonical JSON"),
    "members out of order": (
        json.dumps(dict(reversed(RECORD.items())), separators=(",", ":")),
        "leaf is not RFC 8785 canonical JSON",
    ),
    "a repeated field": (
        CANONICAL[:-1] + ',"subject_id":"s-other"}',
        "leaf names the field 'subject_id' more than once",
    ),
    "a count as text": (_with(result_count="5"), "'result_count' is not in the type and form the ledger writes"),
    "field names as text": (_with(fields="relative.phone"), "'fields' is not in the type and form the ledger writes"),
    "a field no event has": (_with(zz_extra="x"), "'zz_extra' is not a field of an access event"),
}


@pytest.mark.parametrize("case", sorted(LEAVES))
def test_a_leaf_that_is_not_the_canonical_json_of_an_event_is_refused(tmp_path: Path, case: str) -> None:
    leaf, said = LEAVES[case]
    bundle = tmp_path / "bundle"
    vkey = _bundle(bundle, leaf, Ed25519PrivateKey.generate(), subject="s-other" if "repeated" in case else None)
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 2, out
    assert f"{bundle / 'entries.jsonl'}:1: " in out and said in out


def test_the_canonical_leaf_itself_verifies(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    vkey = _bundle(bundle, CANONICAL, Ed25519PrivateKey.generate())
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 0, out
    assert "verified: 1 events" in out


def _crlf(note: bytes, key: Ed25519PrivateKey) -> bytes:
    del key
    return note.replace(b"\n", b"\r\n")


def _extra_body_line(note: bytes, key: Ed25519PrivateKey) -> bytes:
    body = note.decode()[: note.decode().index("\n\n") + 1]
    return sign_note(
        body + "piguard-key-rotation " + verifier_for(ORIGIN, key).vkey() + "\n", name=ORIGIN, key=key
    ).encode()


def _second_bad_signature(note: bytes, key: Ed25519PrivateKey) -> bytes:
    del key
    line = note.decode().rstrip("\n").rsplit("\n", 1)[1]
    name, encoded = line.split(" ")[1:]
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1  # inside the signature: the key id still names the trusted key
    return note + f"\u2014 {name} {_b64(bytes(raw))}\n".encode()


NOTES: dict[str, tuple[Callable[[bytes, Ed25519PrivateKey], bytes], str]] = {
    "CRLF line endings": (_crlf, "checkpoint.note: the note contains a carriage return (CR)"),
    "a rotation line in the body": (
        _extra_body_line,
        "checkpoint.note: the checkpoint text has 1 line(s) after the root hash",
    ),
    "a second signature by the key that fails": (_second_bad_signature, "checkpoint.note: signature by"),
}


@pytest.mark.parametrize("case", sorted(NOTES))
def test_a_checkpoint_note_is_read_as_its_exact_bytes_and_lines(tmp_path: Path, case: str) -> None:
    damage, said = NOTES[case]
    key = Ed25519PrivateKey.generate()
    bundle = tmp_path / "bundle"
    vkey = _bundle(bundle, CANONICAL, key)
    note = bundle / "checkpoint.note"
    note.write_bytes(damage(note.read_bytes(), key))
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 3, out
    assert said in out


def test_bundle_json_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    vkey = _bundle(bundle, CANONICAL, Ed25519PrivateKey.generate())
    manifest = bundle / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"selection": {', '"selection": {"subject_id": "s-other", ', 1))
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 2, out
    assert f"{manifest}: invalid JSON (key 'subject_id' appears more than once in one object)" in out
    manifest.write_text(manifest.read_text().replace('"subject_id": "s-other", ', "", 1))
    entries = bundle / "entries.jsonl"
    entries.write_text('{"index":7,' + entries.read_text()[1:])
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 2, out
    assert f"{entries}:1: invalid JSON (key 'index' appears more than once in one object)" in out


def test_the_witness_refuses_a_note_file_with_crlf_line_endings(installed: Settings, tmp_path: Path) -> None:
    vkey = run("pubkey")[1].strip()
    note = tmp_path / "checkpoint.note"
    note.write_bytes(run("checkpoint")[1].encode().replace(b"\n", b"\r\n"))
    code, out = run("witness", "--checkpoint-file", str(note), "--state", str(tmp_path / "w"), "--log-key", vkey)
    assert code == 3, out
    assert f"{note}: the note contains a carriage return (CR)" in out
    assert not (tmp_path / "w" / "checkpoint.note").exists()


def test_one_event_twice_in_the_log_is_named(tmp_path: Path) -> None:
    """Two entries of a bundle, both in the signed tree, holding one event id: the log counts it twice."""
    bundle, key = tmp_path / "bundle", Ed25519PrivateKey.generate()
    bundle.mkdir()
    digest = leaf_hash(CANONICAL.encode())
    root = node_hash(digest, digest)
    (bundle / "checkpoint.note").write_bytes(
        sign_checkpoint(Checkpoint(origin=ORIGIN, size=2, root=root), key=key).note.encode()
    )
    vkey = verifier_for(ORIGIN, key).vkey()
    (bundle / "log.vkey").write_text(vkey + "\n")
    entries = [{"index": i, "leaf": CANONICAL, "leaf_hash": _b64(digest), "proof": [_b64(digest)]} for i in (0, 1)]
    (bundle / "entries.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    selection = {"user_id": None, "subject_id": None, "from": None, "to": None}
    manifest = {"format": "piguard-evidence/1", "origin": ORIGIN, "tree_size": 2, "root": _b64(root)}
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "entries": 2, "selection": selection}))
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 3, out
    assert "is also entry 0: the log holds it twice" in out
