"""`audit verify` and `audit witness` say what they found and what to do, not a wrong entry or a
circular hint."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from piguard.config import Settings
from piguard.db import make_engine
from piguard.ledger import service
from tests.integration.ledger.audit_cli import append, run


def _sql(settings: Settings, sql: str, **params: object) -> None:
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def test_a_stray_node_beyond_the_log_is_named_as_a_node_not_an_entry(installed_on: Settings) -> None:
    _sql(installed_on, "INSERT INTO ledger_nodes (level, idx, hash) VALUES (1, 99999, :h)", h=b"\x07" * 32)
    code, out = run("verify")
    assert code == 3, out
    assert "first divergence at a stored tree node beyond the log: rewritten_node" in out
    assert "stored tree node (level 1, index 99999) is stored but is not part of the tree" in out
    assert "it would cover entries from 199998, beyond the 30 entries of the log" in out
    assert "entry 199998" not in out


def test_a_deleted_head_says_what_to_do_not_to_run_verify_again(installed_on: Settings) -> None:
    _sql(installed_on, "DELETE FROM ledger_head")
    code, out = run("verify")
    assert code == 3, out
    assert "deleted_head: the ledger head row is missing, but 30 entries and" in out
    assert "restore the ledger_head row (or the database) from a backup" in out
    assert "run 'piguard audit verify'" not in out


def test_the_witness_names_the_note_that_needs_a_proof_and_says_unchanged(installed: Settings, tmp_path: Path) -> None:
    state, vkey = tmp_path / "witness", service.log_verifier(installed).vkey()
    first, second = tmp_path / "cp30.note", tmp_path / "cp45.note"
    first.write_text(run("checkpoint")[1])
    assert run("witness", "--checkpoint-file", str(first), "--state", str(state), "--log-key", vkey)[0] == 0
    code, out = run("witness", "--checkpoint-file", str(first), "--state", str(state))
    assert code == 0, out
    assert "consistent: tree size 30 (unchanged since the last run)" in out
    assert "extends" not in out
    append(installed, range(30, 45))
    second.write_text(run("checkpoint")[1])
    code, out = run("witness", "--checkpoint-file", str(second), "--state", str(state))
    assert code == 2, out
    assert f"{second}: the tree grew from 30 entries (the checkpoint in {state / 'checkpoint.note'}) to 45" in out
    assert "a consistency proof from size 30 to 45 is needed" in out
