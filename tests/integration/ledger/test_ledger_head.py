"""A corrupt, forged, rolled-back or deleted ledger head is never signed over, on SQLite and PostgreSQL.

The head row (size and frontier) is what appends extend and checkpoints sign. Before signing,
the service rebuilds it from the last signed checkpoint and the entries stored since; appends
that would need a checkpoint over a head that fails are refused. `audit verify` names the head,
not the entries, when only the head is wrong.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import ConfigError, TamperError
from piguard.ledger import rotation, service, store
from piguard.ledger.audit import verify_ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.ledger.merkle import CompactRange, leaf_hash, perfect_subtrees
from tests.unit.ledger.ledger_factories import make_event

EVERY = 8
SIGNED = [4, 12, 20]


@pytest.fixture
def ledger(session: Session, settings: Settings) -> Session:
    """22 events, signed checkpoints at 4, 12 and 20 (the first append, then every 8), 2 appended since."""
    settings = settings.model_copy(update={"checkpoint_every_entries": EVERY, "checkpoint_every_seconds": 10**6})
    ensure_signing_key(settings)
    service.bind_settings(session, settings)
    for start in range(0, 20, 4):
        service.append_many(session=session, events=[make_event(i) for i in range(start, start + 4)])
    service.append_many(session=session, events=[make_event(i) for i in range(20, 22)])
    assert [size for size, _, _ in store.all_checkpoints(session)] == SIGNED
    return session


def _findings(session: Session) -> list[tuple[str, int | None]]:
    verifier = service.log_verifier(service.settings_for(session))
    return [(f.kind, f.index) for f in verify_ledger(session=session, verifier=verifier).findings]


def _append(session: Session, numbers: range) -> None:
    service.append_many(session=session, events=[make_event(i) for i in numbers])


def _forge_frontier(session: Session, position: int) -> None:
    frontier = bytearray(store.read_head(session).range.to_bytes())
    frontier[32 * position : 32 * position + 32] = b"\x33" * 32
    session.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": bytes(frontier)})


@pytest.mark.parametrize("position", [0, 2], ids=["signed part", "part since the checkpoint"])
def test_a_forged_frontier_is_named_and_never_signed(ledger: Session, position: int) -> None:
    _forge_frontier(ledger, position)  # size 22: subtrees [0, 16) and [16, 20) signed, [20, 22) since
    assert _findings(ledger) == [("corrupt_head", None)]
    with pytest.raises(TamperError, match=r"refusing to sign: the ledger head's frontier \(22 entries\) is not"):
        service.checkpoint(session=ledger)
    _append(ledger, range(22, 27))  # not due yet: appended (the check runs when a checkpoint is due)
    with pytest.raises(TamperError, match=r"the ledger head's frontier \(27 entries\) is not the signed checkpoint"):
        _append(ledger, range(27, 28))  # due at 28: the append is refused, nothing is signed
    assert [size for size, _, _ in store.all_checkpoints(ledger)] == SIGNED


def test_a_deleted_head_is_an_error_not_an_empty_tree(ledger: Session) -> None:
    ledger.execute(text("DELETE FROM ledger_head"))
    for attempt in (
        lambda: service.checkpoint(session=ledger),
        lambda: _append(ledger, range(22, 23)),
        lambda: service.count(session=ledger),
    ):
        nested = ledger.begin_nested()  # each attempt fails, and its transaction with it
        with pytest.raises(store.MissingHeadError, match="head row is missing, but 22 entries and 3 signed"):
            attempt()
        nested.rollback()
    assert _findings(ledger) == [("deleted_head", None)]
    assert [size for size, _, _ in store.all_checkpoints(ledger)] == SIGNED


def test_a_head_reset_to_an_empty_or_shorter_tree_is_not_appended_to(ledger: Session) -> None:
    ledger.execute(text("UPDATE ledger_head SET size = 0, frontier = :f"), {"f": b""})
    with pytest.raises(store.MissingHeadError, match="head records an empty tree, but 22 entries"):
        _append(ledger, range(22, 23))
    nodes = store.read_nodes(ledger, perfect_subtrees(0, 16))
    ledger.execute(text("UPDATE ledger_head SET size = 16, frontier = :f"), {"f": nodes[(4, 0)]})
    with pytest.raises(TamperError, match=r"entries from index 16 are already stored: the ledger head \(16 entries\)"):
        _append(ledger, range(22, 23))


def test_an_empty_ledger_still_starts_from_no_head(session: Session, settings: Settings) -> None:
    ensure_signing_key(settings)
    service.bind_settings(session, settings)
    assert service.count(session=session) == 0
    assert service.checkpoint(session=session).tree_size == 0  # signed before the first append
    _append(session, range(3))
    assert service.count(session=session) == 3
    assert [size for size, _, _ in store.all_checkpoints(session)] == [0]  # the next one is due later


def test_a_log_cut_back_below_its_signed_checkpoint_is_not_signed_again(ledger: Session) -> None:
    # The log cut back to 14 entries, head and nodes consistent with them: only the signed
    # checkpoint of 20 (kept in the table, or held by a witness) shows it.
    nodes = store.read_nodes(ledger, perfect_subtrees(0, 14))
    frontier = CompactRange(size=14, hashes=[nodes[node] for node in perfect_subtrees(0, 14)])
    ledger.execute(
        text("UPDATE ledger_head SET size = 14, frontier = :f, checkpoint_size = 12"), {"f": frontier.to_bytes()}
    )
    ledger.execute(text("DELETE FROM ledger_entries WHERE idx >= 14"))
    ledger.execute(text("DELETE FROM ledger_nodes WHERE (idx + 1) * (1 << level) > 14"))
    with pytest.raises(TamperError, match="refusing to sign a rollback: the head holds 14 entries, the last signed"):
        service.checkpoint(session=ledger)
    # Other events in place of the removed ones: refused when a checkpoint is due.
    with pytest.raises(TamperError, match="refusing to sign a rollback: the head holds 14 entries"):
        _append(ledger, range(100, 106))
    assert [size for size, _, _ in store.all_checkpoints(ledger)] == SIGNED


def test_stored_nodes_that_no_longer_give_the_signed_root_are_not_built_upon(ledger: Session) -> None:
    ledger.execute(text("UPDATE ledger_nodes SET hash = :h WHERE level = 4 AND idx = 0"), {"h": bytes(32)})
    with pytest.raises(TamperError, match="the stored tree no longer matches the signed checkpoint of size 20"):
        service.checkpoint(session=ledger)


def test_a_head_recording_a_deleted_checkpoint_is_not_signed(ledger: Session) -> None:
    ledger.execute(text("DELETE FROM ledger_checkpoints WHERE tree_size = 20"))
    with pytest.raises(TamperError, match="head records a signed checkpoint of size 20, the largest stored is 12"):
        service.checkpoint(session=ledger)


def test_a_forged_latest_checkpoint_is_not_built_upon(ledger: Session) -> None:
    note = store.checkpoint_note(ledger, 20)
    assert note is not None
    forged = note.replace("\n20\n", "\n21\n")
    ledger.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = 20"), {"n": forged})
    with pytest.raises(TamperError, match="the latest stored checkpoint does not verify"):
        service.checkpoint(session=ledger)


def test_a_key_that_did_not_sign_the_history_signs_nothing(
    ledger: Session, settings: Settings, tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    other = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("other")})
    ensure_signing_key(other)
    stranger = service.settings_for(ledger).model_copy(update={"ledger_key_file": other.ledger_key_path()})
    service.bind_settings(ledger, stranger)
    with pytest.raises(ConfigError, match="did not sign the latest stored checkpoint"):
        service.checkpoint(session=ledger)
    with caplog.at_level(logging.WARNING, logger="piguard.ledger"):
        _append(ledger, range(22, 28))  # due, but the disclosure is recorded; the checkpoint is skipped
    assert "ledger checkpoint skipped" in caplog.text
    assert [size for size, _, _ in store.all_checkpoints(ledger)] == SIGNED
    assert service.count(session=ledger) == 28


def test_a_key_rotation_is_not_signed_over_a_forged_head(ledger: Session) -> None:
    _forge_frontier(ledger, 0)
    settings = service.settings_for(ledger)
    with pytest.raises(TamperError, match="refusing to sign"):
        rotation.rotate(session=ledger, settings=settings)
    rotation.discard_pending(settings)


def test_an_honest_ledger_goes_on_checkpointing(ledger: Session) -> None:
    for start in range(22, 40, 3):
        _append(ledger, range(start, min(start + 3, 40)))
    assert [size for size, _, _ in store.all_checkpoints(ledger)] == [*SIGNED, 28, 37]
    assert service.checkpoint(session=ledger).tree_size == 40
    assert _findings(ledger) == []


def test_verify_names_extra_rows_and_missing_nodes_for_what_they_are(ledger: Session) -> None:
    event = make_event(22)
    data = event.canonical_json()
    row = (22, leaf_hash(data), data, event.event_id, service.time_us(event.time), event.user_id, event.subject_id)
    store.insert_entries(ledger, [row])  # a row beyond the head: no tree node over it was ever stored
    verifier = service.log_verifier(service.settings_for(ledger))
    report = verify_ledger(session=ledger, verifier=verifier)
    assert [(f.kind, f.index) for f in report.findings] == [("inserted_event", 22)]
    assert "entry 22 is stored beyond the head (22 entries)" in report.findings[0].detail
    ledger.execute(text("DELETE FROM ledger_entries WHERE idx = 22"))
    ledger.execute(text("DELETE FROM ledger_nodes WHERE level = 2 AND idx = 1"))
    report = verify_ledger(session=ledger, verifier=verifier)
    assert [(f.kind, f.index) for f in report.findings] == [("rewritten_node", 4)]
    assert "stored tree node (level 2, index 1) is missing" in report.findings[0].detail
