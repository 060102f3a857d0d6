"""`piguard audit` end to end on an SQLite file: verify, export, evidence, witness, bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.interchange.events import read_events
from piguard.ledger import service, store
from piguard.ledger.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_vkey,
    sign_checkpoint,
    verifier_for,
    verify_cosignature,
)
from piguard.ledger.keys import ensure_signing_key, load_signing_key, new_private_key_pem
from piguard.ledger.merkle import leaf_hash
from piguard.ledger.witness import COSIGNED_NOTE
from tests.integration.ledger.audit_cli import append, append_events, run
from tests.unit.ledger.ledger_factories import make_event


def test_pubkey_and_checkpoint(installed: Settings) -> None:
    code, out = run("pubkey")
    assert code == 0
    assert parse_vkey(out.strip()) == service.log_verifier(installed)
    code, out = run("checkpoint")
    assert code == 0
    assert "\n30\n" in out


def test_verify_clean_then_tampered(installed: Settings) -> None:
    code, out = run("verify")
    assert code == 0, out
    assert "verified" in out
    engine = make_engine(installed)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET data = :d WHERE idx = 5"), {"d": b"{}"})
    engine.dispose()
    code, out = run("verify")
    assert code == 3
    assert "TAMPERING DETECTED" in out
    assert "entry 5" in out
    assert "modified_event" in out
    assert "verified:" not in out


def test_export_with_time_window(installed: Settings, tmp_path: Path) -> None:
    out_file = tmp_path / "events.jsonl"
    code, out = run("export", "--out", str(out_file))
    assert code == 0, out
    assert [e.event_id for e in read_events(out_file)] == [make_event(i).event_id for i in range(30)]
    window = tmp_path / "window.csv"
    code, _ = run(
        "export",
        "--out",
        str(window),
        "--from",
        "2025-03-01T08:00:10+00:00",
        "--to",
        "2025-03-01T16:00:20+08:00",
    )
    assert code == 0
    assert [e.event_id for e in read_events(window)] == [make_event(i).event_id for i in range(10, 20)]
    code, out = run("export", "--out", str(window), "--from", "yesterday")
    assert code == 2
    assert "--from" in out


def test_export_rows_are_the_committed_leaves_exactly(installed: Settings, tmp_path: Path) -> None:
    import rfc8785

    # A leaf an earlier build wrote with a value today's model would normalise away ("" reason).
    older = make_event(30).model_copy(update={"reason": "", "query": "  "})
    append_events(installed, [older])
    out_file = tmp_path / "events.jsonl"
    assert run("export", "--out", str(out_file))[0] == 0
    exported = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    engine = make_engine(installed)
    with make_session_factory(engine)() as session:
        leaves = [entry.data for entry in service.iter_entries(session=session)]
        recorded = [entry.event for entry in service.iter_entries(session=session)][-1]
    engine.dispose()
    # The file holds the log as it was; the operator's export is the next entry.
    assert (len(exported), len(leaves)) == (31, 32)
    assert [rfc8785.dumps(row) for row in exported] == leaves[:31]
    assert (recorded.user_id, recorded.action, recorded.result_count) == ("local-operator", "export", 31)
    assert exported[-1]["reason"] == "" and exported[-1]["query"] == "  "


def test_evidence_bundle_round_trip_and_tampering(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    code, out = run("export-evidence", "--out", str(bundle), "--user", "u3")
    assert code == 0, out
    vkey = service.log_verifier(installed).vkey()
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 0, out
    assert "verified: 4 events" in out  # u3: events 3, 10, 17, 24
    lines = (bundle / "entries.jsonl").read_text().splitlines(keepends=True)
    (bundle / "entries.jsonl").write_text("".join(lines[:-1]) + lines[-1][:40])
    code, out = run("verify-evidence", str(bundle))
    assert code == 2
    assert "entries.jsonl:4" in out
    assert "truncated" in out
    (bundle / "entries.jsonl").write_text("".join(lines[:-1]))
    code, out = run("verify-evidence", str(bundle))
    assert code == 3  # a whole entry removed: tampered, not unreadable
    assert "manifest lists 4 entries" in out
    forged = json.loads(lines[1])
    forged["leaf"] = forged["leaf"].replace('"read"', '"print"')
    (bundle / "entries.jsonl").write_text(lines[0] + json.dumps(forged) + "\n" + "".join(lines[2:]))
    code, out = run("verify-evidence", str(bundle))
    assert code == 3
    assert "entries.jsonl:2" in out
    other = verifier_for(
        "piguard.example/ledger",
        load_signing_key(installed.model_copy(update={"ledger_key_file": _new_key(tmp_path / "other.pem")})),
    )
    (bundle / "entries.jsonl").write_text("".join(lines))
    code, out = run("verify-evidence", str(bundle), "--log-key", other.vkey())
    assert code == 3
    assert "not the key you trust" in out
    code, out = run("verify-evidence", str(tmp_path / "nothing"))
    assert code == 2


def _new_key(path: Path) -> Path:
    path.write_bytes(new_private_key_pem())
    path.chmod(0o600)
    return path


def test_witness_accepts_extensions_and_rejects_rollback_and_split_view(installed: Settings, tmp_path: Path) -> None:
    state, vkey = tmp_path / "witness", service.log_verifier(installed).vkey()
    first = tmp_path / "cp30.note"
    code, note30 = run("checkpoint")
    first.write_text(note30)
    code, out = run("witness", "--checkpoint-file", str(first), "--state", str(state), "--log-key", vkey)
    assert code == 0, out
    assert "first checkpoint seen" in out
    append(installed, range(30, 45))
    code, note45 = run("checkpoint")
    second = tmp_path / "cp45.note"
    second.write_text(note45)
    code, out = run("witness", "--checkpoint-file", str(second), "--state", str(state))
    assert code == 2
    assert "consistency proof" in out
    engine = make_engine(installed)
    with make_session_factory(engine)() as session:
        proof = service.consistency_proof(session=session, size1=30, size2=45)
    engine.dispose()
    import base64

    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps({"proof": [base64.b64encode(p).decode() for p in proof]}))
    witness_key = _new_key(tmp_path / "witness.pem")
    code, out = run(
        "witness",
        "--checkpoint-file",
        str(second),
        "--state",
        str(state),
        "--consistency-file",
        str(proof_file),
        "--cosign-key",
        str(witness_key),
    )
    assert code == 0, out
    assert "extends 30" in out
    cosigned = (state / COSIGNED_NOTE).read_text()
    assert cosigned.count("\n\u2014 ") == 2
    from cryptography.hazmat.primitives import serialization

    wkey = serialization.load_pem_private_key(witness_key.read_bytes(), password=None)
    from piguard.ledger.checkpoint import COSIGNATURE_V1

    assert verify_cosignature(cosigned, verifier_for("witness", wkey, COSIGNATURE_V1)) > 0  # type: ignore[arg-type]
    code, out = run("witness", "--checkpoint-file", str(first), "--state", str(state))
    assert code == 3
    assert "rollback" in out
    # A forked log: same key, same size 45, different history.
    forked_dir = tmp_path / "fork"
    fork = installed.model_copy(update={"data_dir": forked_dir})
    fork_engine = make_engine(fork, url=f"sqlite:///{forked_dir / 'fork.db'}")
    Base.metadata.create_all(fork_engine)
    with make_session_factory(fork_engine)() as session, session.begin():
        service.bind_settings(session, installed)
        service.append_many(session=session, events=[make_event(i + 1) for i in range(45)])
        forked_note = service.checkpoint(session=session, settings=installed).note
    fork_engine.dispose()
    forged = tmp_path / "forked.note"
    forged.write_text(forked_note)
    code, out = run("witness", "--checkpoint-file", str(forged), "--state", str(state))
    assert code == 3
    assert "split view" in out
    garbage = tmp_path / "garbage.note"
    garbage.write_text("hello\n")
    code, out = run("witness", "--checkpoint-file", str(garbage), "--state", str(state))
    assert code == 3
    assert "signature" in out


def test_witness_refuses_a_proof_that_does_not_verify_and_keeps_its_state(installed: Settings, tmp_path: Path) -> None:
    state, vkey = tmp_path / "witness", service.log_verifier(installed).vkey()
    first, second = tmp_path / "cp30.note", tmp_path / "cp45.note"
    first.write_text(run("checkpoint")[1])
    assert run("witness", "--checkpoint-file", str(first), "--state", str(state), "--log-key", vkey)[0] == 0
    append(installed, range(30, 45))
    second.write_text(run("checkpoint")[1])
    engine = make_engine(installed)
    with make_session_factory(engine)() as session:
        proof = service.consistency_proof(session=session, size1=30, size2=45)
    engine.dispose()

    def proof_file(hashes: list[bytes]) -> str:
        path = tmp_path / "proof.json"
        path.write_text(json.dumps({"proof": [base64.b64encode(h).decode() for h in hashes]}))
        return str(path)

    damaged = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    for bad in (damaged, proof[:-1]):
        code, out = run(
            "witness", "--checkpoint-file", str(second), "--state", str(state), "--consistency-file", proof_file(bad)
        )
        assert code == 3, out
        # It cannot tell a fork from a damaged proof, so it claims neither alone.
        assert "not accepted" in out
        assert "wrong proof" in out
        assert open_checkpoint((state / "checkpoint.note").read_text(), parse_vkey(vkey)).tree_size == 30
    code, out = run(
        "witness", "--checkpoint-file", str(second), "--state", str(state), "--consistency-file", proof_file(proof)
    )
    assert code == 0, out
    assert "extends 30" in out


def test_clear_errors_without_key_or_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "empty"))
    code, out = run("pubkey")
    assert code == 2
    assert "piguard init" in out
    ensure_signing_key(Settings())
    code, out = run("verify")  # an empty database: said so, not a database error
    assert code == 2
    assert "the database is empty (no piguard tables): run 'piguard init'" in out


def _edit_line(path: Path, number: int, edit: Callable[[dict[str, Any]], object]) -> None:
    lines = path.read_text().splitlines()
    record = json.loads(lines[number])
    edit(record)  # in place
    lines[number] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")


def _entry_with_hash(record: dict[str, Any], leaf: str) -> None:
    record["leaf"] = leaf
    record["leaf_hash"] = base64.b64encode(leaf_hash(leaf.encode())).decode()


BUNDLE_DAMAGE: dict[str, tuple[Callable[[Path], object], int, str]] = {
    "manifest missing": (lambda b: (b / "manifest.json").unlink(), 2, "manifest.json: missing from the bundle"),
    "manifest not json": (lambda b: (b / "manifest.json").write_text("{"), 2, "invalid JSON"),
    "manifest of another format": (
        lambda b: (b / "manifest.json").write_text('{"format": "x"}'),
        2,
        "not a piguard-evidence/1 manifest",
    ),
    "manifest size differs": (
        lambda b: (b / "manifest.json").write_text(
            (b / "manifest.json").read_text().replace('"tree_size": 30', '"tree_size": 29')
        ),
        3,
        "manifest.json: tree size or root differ",
    ),
    "note malformed": (
        lambda b: (b / "checkpoint.note").write_text("hello\n"),
        3,
        "checkpoint.note: note has no signature block",
    ),
    "note edited": (
        lambda b: (b / "checkpoint.note").write_text((b / "checkpoint.note").read_text().replace("\n30\n", "\n31\n")),
        3,
        "checkpoint.note: signature by",
    ),
    "note not utf-8": (lambda b: (b / "checkpoint.note").write_bytes(b"\xff\xfe"), 2, "not UTF-8"),
    "key garbage": (lambda b: (b / "log.vkey").write_text("garbage"), 2, "log.vkey: verifier key must be"),
    "entries missing": (lambda b: (b / "entries.jsonl").unlink(), 2, "entries.jsonl: missing from the bundle"),
    "entries not utf-8": (lambda b: (b / "entries.jsonl").write_bytes(b"\xff\n"), 2, "not UTF-8"),
    "entries empty": (
        lambda b: (b / "entries.jsonl").write_text(""),
        3,
        "manifest lists 4 entries, the bundle holds 0",
    ),
    "line not json": (lambda b: (b / "entries.jsonl").write_text("{nope}\n"), 2, "entries.jsonl:1: invalid JSON"),
    "line not an object": (lambda b: (b / "entries.jsonl").write_text("[1]\n"), 2, "expected a JSON object"),
    "index missing": (
        lambda b: _edit_line(b / "entries.jsonl", 1, lambda r: r.pop("index")),
        2,
        "field 'index' is missing",
    ),
    "index as text": (lambda b: _edit_line(b / "entries.jsonl", 1, lambda r: r.update(index="10")), 2, "field 'index'"),
    "index changed": (
        lambda b: _edit_line(b / "entries.jsonl", 1, lambda r: r.update(index=11)),
        3,
        "entry 11 is not in the signed",
    ),
    "lines swapped": (
        lambda b: (b / "entries.jsonl").write_text(
            "".join(reversed((b / "entries.jsonl").read_text().splitlines(keepends=True)))
        ),
        3,
        "increasing index order",
    ),
    "proof not base64": (
        lambda b: _edit_line(b / "entries.jsonl", 0, lambda r: r["proof"].__setitem__(0, "***")),
        2,
        "proof element 0 is not base64",
    ),
    "proof element short": (
        lambda b: _edit_line(b / "entries.jsonl", 0, lambda r: r["proof"].__setitem__(0, "AAAA")),
        3,
        "proof element 0 must be 32 bytes",
    ),
    "proof element not text": (
        lambda b: _edit_line(b / "entries.jsonl", 0, lambda r: r["proof"].__setitem__(0, 7)),
        2,
        "entries.jsonl:1: field 'proof' element 0 is an integer, not a base64 string",
    ),
    "proof cut short": (
        lambda b: _edit_line(b / "entries.jsonl", 0, lambda r: r["proof"].pop()),
        3,
        "inclusion proof has",
    ),
    "leaf hash rewritten": (
        lambda b: _edit_line(b / "entries.jsonl", 2, lambda r: r.update(leaf_hash=r["proof"][0])),
        3,
        "leaf_hash does not match the leaf",
    ),
    "leaf not an event": (
        lambda b: _edit_line(b / "entries.jsonl", 2, lambda r: _entry_with_hash(r, '{"x":1}')),
        2,
        "leaf is not a valid access event",
    ),
    "forged event with its own hash": (
        lambda b: _edit_line(b / "entries.jsonl", 2, lambda r: _entry_with_hash(r, r["leaf"].replace('"u3"', '"u4"'))),
        3,
        "entries.jsonl:3: entry 17 is not in the signed log",
    ),
    "leaf with a lone surrogate": (
        lambda b: _edit_line(b / "entries.jsonl", 1, lambda r: r.update(leaf=r["leaf"].replace("read", "\ud800"))),
        2,
        "entries.jsonl:2: field 'leaf' is not valid Unicode",
    ),
    "number too long for an integer": (
        lambda b: (b / "entries.jsonl").write_text('{"index": ' + "9" * 5000 + "}\n"),
        2,
        "entries.jsonl:1: invalid JSON (",
    ),
    "deeply nested line": (
        lambda b: (b / "entries.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n"),
        2,
        "entries.jsonl:1: invalid JSON (",
    ),
    "huge line": (
        lambda b: (b / "entries.jsonl").write_text('{"leaf": "' + "A" * 20_000_000 + '"}\n'),
        2,
        "entries.jsonl:1: line is longer than",
    ),
    "manifest number too long": (
        lambda b: (b / "manifest.json").write_text('{"format": "piguard-evidence/1", "tree_size": ' + "9" * 5000 + "}"),
        2,
        "manifest.json: invalid JSON (",
    ),
    "manifest deeply nested": (
        lambda b: (b / "manifest.json").write_text("[" * 100_000 + "]" * 100_000),
        2,
        "manifest.json: invalid JSON (",
    ),
    "manifest size as a float": (
        lambda b: (b / "manifest.json").write_text(
            (b / "manifest.json").read_text().replace('"tree_size": 30', '"tree_size": 30.0')
        ),
        2,
        "manifest.json: tree size or root missing or of the wrong type",
    ),
    "manifest too large": (
        lambda b: (b / "manifest.json").write_text(" " * 17_000_000 + "{}"),
        2,
        "manifest.json: larger than",
    ),
}


@pytest.mark.parametrize("damage", list(BUNDLE_DAMAGE))
def test_damaged_bundles_are_refused_naming_the_problem(installed: Settings, tmp_path: Path, damage: str) -> None:
    bundle = tmp_path / "bundle"
    code, out = run("export-evidence", "--out", str(bundle), "--user", "u3")
    assert code == 0, out
    breaking, expected_code, message = BUNDLE_DAMAGE[damage]
    breaking(bundle)
    code, out = run("verify-evidence", str(bundle))
    assert (code, message in out) == (expected_code, True), out
    assert "verified" not in out


def test_corrupt_database_rows_are_named_not_crashed_on(installed: Settings, tmp_path: Path) -> None:
    engine = make_engine(installed)
    not_an_event = b'{"x":1}'
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_entries SET data = :d, leaf_hash = :h WHERE idx = 5"),
            {"d": not_an_event, "h": leaf_hash(not_an_event)},
        )
    code, out = run("export-evidence", "--out", str(tmp_path / "b1"))
    assert code == 3
    assert "entry 5: stored event is not a valid access event" in out
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE idx = 5"))
        conn.execute(text("DELETE FROM ledger_nodes WHERE level = 2 AND idx = 3"))
    code, out = run("export-evidence", "--out", str(tmp_path / "b2"), "--user", "u3")
    assert code == 3
    assert "tree node (level 2, index 3) is missing" in out
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": b"\x00" * 5})
    for command in (["checkpoint"], ["export-evidence", "--out", str(tmp_path / "b3")]):
        code, out = run(*command)
        assert code == 3, command
        assert "stored frontier holds 5 bytes" in out
    code, out = run("verify")
    assert code == 3
    assert "ledger head is corrupt" in out
    assert "deleted_event" in out
    engine.dispose()


def _tamper(settings: Settings, *statements: str, **params: object) -> None:
    engine = make_engine(settings)
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), params)
    engine.dispose()


@pytest.mark.parametrize(
    ("sql", "first"),
    [
        # SQLite's text functions return TEXT even on a BLOB column: what an edit in the sqlite3 shell stores.
        ("UPDATE ledger_entries SET data = replace(data, 'read', 'reaD') WHERE idx = 12", "entry 12: modified_event"),
        ("UPDATE ledger_entries SET leaf_hash = hex(leaf_hash) WHERE idx = 12", "entry 12: modified_event"),
        ("UPDATE ledger_nodes SET hash = hex(hash) WHERE level = 2 AND idx = 1", "entry 4: rewritten_node"),
        ("UPDATE ledger_checkpoints SET root = hex(root)", "checkpoints: bad_checkpoint_signature"),
        ("UPDATE ledger_head SET frontier = hex(frontier)", "the ledger head: corrupt_head"),
    ],
)
def test_verify_names_rows_edited_with_sql_text_functions(installed: Settings, sql: str, first: str) -> None:
    _tamper(installed, sql)
    code, out = run("verify")
    assert code == 3, out
    assert f"first divergence at {first}" in out


def test_verify_names_a_head_that_claims_more_entries_than_stored(installed: Settings) -> None:
    _tamper(installed, "UPDATE ledger_head SET size = 31")  # the frontier no longer fits the size
    code, out = run("verify")
    assert code == 3, out
    assert "first divergence at the ledger head: corrupt_head" in out
    assert "expected 160 for size 31" in out
    _tamper(installed, "UPDATE ledger_head SET size = 46")  # as many frontier hashes as 30 has
    code, out = run("verify")
    assert code == 3, out
    assert "first divergence at entry 30: truncated_log" in out
    assert "the head records 46 entries, 30 are stored" in out


def test_verify_of_a_log_cut_below_its_newest_checkpoint_names_the_cut(installed: Settings) -> None:
    _tamper(installed, "DELETE FROM ledger_entries WHERE idx >= 20")  # nodes and head left as they were
    code, out = run("verify")
    assert code == 3, out
    assert "first divergence at entry 20: truncated_log" in out
    assert "a signed checkpoint covers 30 entries, 20 remain" in out
    # The nodes over the deleted entries are what remains of them, not a rewrite of the rest.
    assert "rewritten_node" not in out


def test_verify_against_the_published_key_catches_a_replaced_key_file(installed: Settings, tmp_path: Path) -> None:
    published = service.log_verifier(installed).vkey()
    key_file = installed.ledger_key_path()
    _new_key(key_file)
    code, out = run("verify")
    assert code == 3
    assert "first divergence at checkpoints: bad_checkpoint_signature" in out
    assert "signed by a different key named 'piguard.example/ledger'" in out
    # The insider re-signs every stored checkpoint with the new key: only a pinned key can tell.
    engine = make_engine(installed)
    with make_session_factory(engine)() as session, session.begin():
        for size, root, _ in store.all_checkpoints(session):
            note = sign_checkpoint(
                Checkpoint(origin=installed.ledger_origin, size=size, root=root), key=load_signing_key(installed)
            ).note
            sql = "UPDATE ledger_checkpoints SET note = :n WHERE tree_size = :s"
            session.execute(text(sql), {"n": note, "s": size})
    engine.dispose()
    code, out = run("verify")
    assert code == 0, out
    pinned = tmp_path / "published.vkey"
    pinned.write_text(published + "\n")
    code, out = run("verify", "--log-key", str(pinned))
    assert code == 3, out
    assert "checkpoint of size 30: note is signed by a different key" in out
    for bad, said in (
        ("garbage", "--log-key: no such file: garbage"),
        ("/nonexistent/key", "--log-key: no such file: /nonexistent/key"),
        ("name+abcd+AAAA", "--log-key: verifier key"),
    ):
        code, out = run("verify", "--log-key", bad)
        assert (code, said in out) == (2, True), out
    pinned.write_text("not a key\n")
    code, out = run("verify", "--log-key", str(pinned))
    assert (code, f"--log-key file {pinned}: verifier key must be" in out) == (2, True), out


def test_verify_with_the_published_key_needs_no_private_key(installed: Settings) -> None:
    published = service.log_verifier(installed).vkey()
    installed.ledger_key_path().unlink()
    code, out = run("verify", "--log-key", published)
    assert code == 0, out
    assert "verified" in out


def test_a_bundle_is_not_called_verified_without_a_trusted_key(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    code, out = run("export-evidence", "--out", str(bundle), "--user", "u3")
    assert code == 0, out
    published = service.log_verifier(installed).vkey()
    # An attacker re-signs the checkpoint with a key of the same name and ships that key.
    attacker = installed.model_copy(update={"ledger_key_file": _new_key(tmp_path / "attacker.pem")})
    signed = open_checkpoint((bundle / "checkpoint.note").read_text(), service.log_verifier(installed))
    (bundle / "checkpoint.note").write_text(sign_checkpoint(signed.checkpoint, key=load_signing_key(attacker)).note)
    (bundle / "log.vkey").write_text(service.log_verifier(attacker).vkey() + "\n")
    code, out = run("verify-evidence", str(bundle))
    assert code == 0, out
    assert "verified:" not in out
    assert "NOT VERIFIED" in out
    assert service.log_verifier(attacker).vkey() in out.replace("\n", "")
    code, out = run("verify-evidence", str(bundle), "--log-key", published)
    assert code == 3
    assert "not the key you trust" in out


def test_extra_files_and_empty_bundles_are_pointed_out(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    code, out = run("export-evidence", "--out", str(bundle), "--user", "nobody")
    assert code == 0, out
    (bundle / "notes.txt").write_text("added later")
    code, out = run("verify-evidence", str(bundle), "--log-key", service.log_verifier(installed).vkey())
    assert code == 0, out
    assert "verified: 0 events" in out
    assert "the bundle holds no events" in out
    assert "not part of the bundle and not checked: notes.txt" in out.replace("\n", "")


def test_verify_notices_the_newest_checkpoint_row_deleted(installed: Settings) -> None:
    _tamper(installed, "DELETE FROM ledger_checkpoints")  # the entries alone still agree with each other
    code, out = run("verify")
    assert code == 3, out
    assert "first divergence at checkpoints: deleted_checkpoint" in out
    assert "the head records a signed checkpoint of size 30, which is not stored" in out


def test_witness_refuses_a_larger_fork_even_with_the_forks_own_proof(installed: Settings, tmp_path: Path) -> None:
    state, vkey = tmp_path / "witness", service.log_verifier(installed).vkey()
    seen = tmp_path / "cp30.note"
    seen.write_text(run("checkpoint")[1])
    assert run("witness", "--checkpoint-file", str(seen), "--state", str(state), "--log-key", vkey)[0] == 0
    # The operator forks: same key, 45 entries whose history differs at entry 7, and a proof
    # from the fork's own size 30 that is internally sound.
    fork = tmp_path / "fork.db"
    fork_engine = make_engine(installed, url=f"sqlite:///{fork}")
    Base.metadata.create_all(fork_engine)
    with make_session_factory(fork_engine)() as session, session.begin():
        service.bind_settings(session, installed)
        events = [make_event(i if i != 7 else 1007) for i in range(45)]
        service.append_many(session=session, events=events)
        forked = service.checkpoint(session=session, settings=installed).note
        proof = service.consistency_proof(session=session, size1=30, size2=45)
    fork_engine.dispose()
    (tmp_path / "fork.note").write_text(forked)
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps({"proof": [base64.b64encode(p).decode() for p in proof]}))
    code, out = run(
        "witness",
        "--checkpoint-file",
        str(tmp_path / "fork.note"),
        "--state",
        str(state),
        "--consistency-file",
        str(proof_file),
        "--cosign-key",
        str(_new_key(tmp_path / "witness.pem")),
    )
    assert code == 3, out
    assert "does not show that the tree of 45 entries extends the 30 the witness saw" in out
    assert not (state / COSIGNED_NOTE).exists()  # nothing cosigned
    assert (state / "checkpoint.note").read_text() == seen.read_text()  # still remembers the honest 30
