"""`piguard audit` after the outside audit: selections, bundles, exit codes and messages (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.interchange.events import AccessEvent
from piguard.ledger import service
from piguard.ledger.checkpoint import key_id, parse_vkey
from tests.integration.ledger.audit_cli import run


def _sql(settings: Settings, sql: str, **params: object) -> None:
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def _events(settings: Settings) -> list[AccessEvent]:
    engine = make_engine(settings)
    with make_session_factory(engine)() as session:
        events = [entry.event for entry in service.iter_entries(session=session)]
    engine.dispose()
    return events


def test_an_edited_subject_column_cannot_hide_an_event_from_a_bundle(installed: Settings, tmp_path: Path) -> None:
    _sql(installed, "UPDATE ledger_entries SET subject_id = 's-other' WHERE idx = 7")  # event 7 is about s7
    code, out = run("verify")
    assert code == 3
    assert "first divergence at entry 7: altered_columns" in out
    code, out = run("export-evidence", "--out", str(tmp_path / "bundle"), "--subject", "s7")
    assert code == 3
    assert "entry 7: the stored subject_id column(s) differ from the event in its leaf" in out
    assert not (tmp_path / "bundle").exists()  # nothing half-written is left behind
    code, out = run("export", "--out", str(tmp_path / "events.jsonl"), "--subject", "s-other")
    assert code == 3
    assert not (tmp_path / "events.jsonl").exists()


def test_verify_evidence_checks_and_prints_the_selection(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    code, out = run(
        "export-evidence",
        "--out",
        str(bundle),
        "--user",
        "u3",
        "--from",
        "2025-03-01T08:00:05+00:00",
        "--to",
        "2025-03-01T08:00:20+00:00",
    )
    assert code == 0, out
    vkey = service.log_verifier(installed).vkey()
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert code == 0, out
    assert "verified: 2 events" in out  # u3: events 10 and 17
    assert "selection: user u3, any subject, from 2025-03-01T08:00:05+00:00, to 2025-03-01T08:00:20+00:00" in out
    manifest = json.loads((bundle / "manifest.json").read_text())
    for key, value in (("subject_id", "s10"), ("user_id", "u4"), ("from", "2025-03-01T08:00:11+00:00")):
        edited = {**manifest, "selection": {**manifest["selection"], key: value}}
        (bundle / "manifest.json").write_text(json.dumps(edited))
        code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
        assert code == 3, (key, out)
        assert "is outside the manifest's selection" in out
        assert "verified" not in out
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "selection": {**manifest["selection"], "to": 5}}))
    code, out = run("verify-evidence", str(bundle), "--log-key", vkey)
    assert (code, "selection 'to' must be a string" in out) == (2, True)


def test_a_bundle_with_a_repeated_entry_is_tampered(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert run("export-evidence", "--out", str(bundle), "--user", "u3")[0] == 0
    lines = (bundle / "entries.jsonl").read_text().splitlines(keepends=True)
    (bundle / "entries.jsonl").write_text("".join([*lines, lines[0]]))
    code, out = run("verify-evidence", str(bundle))
    assert (code, "not in increasing index order (an entry was moved or repeated)" in out) == (3, True)


def test_a_window_that_ends_before_it_starts_is_refused(installed: Settings, tmp_path: Path) -> None:
    window = ("--from", "2025-03-02T00:00:00+00:00", "--to", "2025-03-01T00:00:00+00:00")
    code, out = run("export-evidence", "--out", str(tmp_path / "bundle"), *window)
    assert (code, "--from: is later than --to" in out) == (2, True)
    assert not (tmp_path / "bundle").exists()
    code, out = run("export", "--out", str(tmp_path / "events.jsonl"), *window)
    assert (code, "--from: is later than --to" in out) == (2, True)


def test_a_corrupt_leaf_hash_stops_the_export(installed: Settings, tmp_path: Path) -> None:
    _sql(installed, "UPDATE ledger_entries SET leaf_hash = x'00' WHERE idx = 10")
    code, out = run("export-evidence", "--out", str(tmp_path / "bundle"), "--user", "u3")
    assert (code, "entry 10: stored event does not match its leaf hash" in out) == (3, True)
    assert not (tmp_path / "bundle").exists()


def test_exports_are_recorded_as_the_local_operator(installed: Settings, tmp_path: Path) -> None:
    assert run("export", "--out", str(tmp_path / "events.jsonl"), "--user", "u3")[0] == 0
    assert run("export-evidence", "--out", str(tmp_path / "bundle"), "--subject", "s10")[0] == 0
    first, second = _events(installed)[-2:]
    assert (first.user_id, first.action, first.resource_type) == ("local-operator", "export", "ledger")
    assert (first.query, first.result_count, first.subject_id) == ("user=u3", 4, None)
    assert (second.query, second.result_count, second.subject_id) == ("subject=s10", 1, "s10")
    assert "evidence bundle (tree size 31)" in (second.reason or "")  # after the first export's event
    # The bundle itself is the log as it was signed: the event recording it comes after.
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert (manifest["tree_size"], manifest["entries"]) == (31, 1)


def test_the_bundle_readme_says_how_to_check_it_without_piguard(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert run("export-evidence", "--out", str(bundle))[0] == 0
    readme = (bundle / "README.md").read_text()
    for said in (
        "first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)",
        "including the newline that ends the root\n   line and excluding the blank line",
        "SHA-256(0x00 || leaf bytes)",
        "counted from 0",
        "`from` inclusive, `to` exclusive",
        "keeps the text the user searched for (`query`)",
    ):
        assert said in readme, said
    verifier = parse_vkey((bundle / "log.vkey").read_text())
    name, hex_id, _ = (bundle / "log.vkey").read_text().strip().split("+", 2)
    assert key_id(name, verifier.public_key).hex() == hex_id


def test_witness_messages_name_the_note_and_say_what_is_wrong(installed: Settings, tmp_path: Path) -> None:
    vkey = service.log_verifier(installed).vkey()
    note = tmp_path / "checkpoint.note"
    note.write_text(run("checkpoint")[1] + "\n")  # one newline too many after the signature line
    state = str(tmp_path / "witness")
    code, out = run("witness", "--checkpoint-file", str(note), "--state", state, "--log-key", vkey)
    assert code == 3
    assert f"{note}: the note ends with an empty line" in out
    note.write_text("garbage\n")
    code, out = run("witness", "--checkpoint-file", str(note), "--state", state, "--log-key", vkey)
    assert (code, f"{note}: note has no signature block" in out) == (3, True)
    code, out = run("witness", "--checkpoint-file", str(note), "--state", state, "--log-key", "/nonexistent/key")
    assert (code, "--log-key: no such file: /nonexistent/key" in out) == (2, True)


def test_witness_shows_the_detail_of_a_server_error(
    installed: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = {"title": "Ledger integrity failure", "detail": "stored tree node (1, 0) is missing"}

    def get(url: str, *, headers: dict[str, str], timeout: float) -> Any:
        del headers, timeout
        return httpx.Response(500, json=problem, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", get)
    url = "http://log.example/api/v1/audit/checkpoint"
    vkey = service.log_verifier(installed).vkey()
    code, out = run("witness", "--checkpoint-url", url, "--state", str(tmp_path / "w"), "--log-key", vkey)
    assert code == 2
    assert f"{url}: server answered HTTP 500 (Ledger integrity failure: stored tree node (1, 0) is missing)" in out


def test_verify_evidence_refuses_a_malformed_trusted_key_as_bad_input(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert run("export-evidence", "--out", str(bundle))[0] == 0
    for bad, said in (("garbage", "--log-key: no such file: garbage"), ("a+b+c", "--log-key: verifier key")):
        code, out = run("verify-evidence", str(bundle), "--log-key", bad)
        assert (code, said in out) == (2, True), out
