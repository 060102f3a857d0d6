"""Tampering of every kind the issue lists is detected and named, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, text

from piguard.config import Settings
from piguard.db import make_session_factory
from piguard.ledger import audit, service, store
from piguard.ledger.audit import AuditReport, verify_ledger
from piguard.ledger.checkpoint import Checkpoint, Verifier, sign_checkpoint
from piguard.ledger.keys import ensure_signing_key, load_signing_key
from piguard.ledger.merkle import CompactRange, leaf_hash
from tests.unit.ledger.ledger_factories import make_event

SIZE = 40


@dataclass
class Ledger:
    engine: Engine
    settings: Settings
    verifier: Verifier

    def verify(self) -> AuditReport:
        """Verify with the default chunk and page sizes, and again with tiny ones (so that complete
        chunks, the levels above them and page boundaries are crossed): both must agree."""
        reports = []
        for chunk_level, page in ((audit.CHUNK_LEVEL, audit.PAGE), (2, 7)):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(audit, "CHUNK_LEVEL", chunk_level)
                patch.setattr(audit, "PAGE", page)
                with make_session_factory(self.engine)() as session, session.begin():
                    reports.append(verify_ledger(session=session, verifier=self.verifier))
        default, tiny = reports
        assert (default.findings, default.root, default.entries) == (tiny.findings, tiny.root, tiny.entries)
        return default

    def tamper(self, *statements: str, **params: object) -> None:
        with self.engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql), params)


@pytest.fixture
def ledger(fresh_engine: Engine, settings: Settings) -> Ledger:
    """40 committed events with signed checkpoints at sizes 20 and 40."""
    settings = settings.model_copy(update={"checkpoint_every_entries": 16})
    ensure_signing_key(settings)
    factory = make_session_factory(fresh_engine)
    for start in (0, 20):
        with factory() as session, session.begin():
            service.bind_settings(session, settings)
            service.append_many(session=session, events=[make_event(i) for i in range(start, start + 20)])
    with factory() as session, session.begin():
        assert [s for s, _, _ in store.all_checkpoints(session)] == [20, 40]
    return Ledger(fresh_engine, settings, service.log_verifier(settings))


def _first(report: AuditReport) -> tuple[str, int | None]:
    assert not report.ok, "tampering went unnoticed"
    first = report.first
    assert first is not None
    return first.kind, first.index


def test_untouched_ledger_verifies(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok, report.findings
    assert (report.entries, report.tree_size, report.checkpoints) == (SIZE, SIZE, 2)


def test_modified_event(ledger: Ledger) -> None:
    forged = make_event(13, user="someone-else").canonical_json()
    ledger.tamper("UPDATE ledger_entries SET data = :d WHERE idx = 13", d=forged)
    assert _first(ledger.verify()) == ("modified_event", 13)


def test_modified_event_with_rewritten_leaf_hash(ledger: Ledger) -> None:
    forged = make_event(13, user="someone-else").canonical_json()
    ledger.tamper(
        "UPDATE ledger_entries SET data = :d, leaf_hash = :h WHERE idx = 13",
        d=forged,
        h=leaf_hash(forged),
    )
    kind, index = _first(ledger.verify())
    assert kind == "modified_event"
    assert index in (12, 13)


def test_deleted_event(ledger: Ledger) -> None:
    ledger.tamper("DELETE FROM ledger_entries WHERE idx = 13")
    assert _first(ledger.verify()) == ("deleted_event", 13)


def test_deleted_event_with_renumbering(ledger: Ledger) -> None:
    ledger.tamper(
        "DELETE FROM ledger_entries WHERE idx = 13",
        "UPDATE ledger_entries SET idx = idx + 1000 WHERE idx > 13",
        "UPDATE ledger_entries SET idx = idx - 1001 WHERE idx > 1000",
    )
    kind, index = _first(ledger.verify())
    assert kind == "deleted_event"
    assert index in (12, 13)


def test_reordered_events(ledger: Ledger) -> None:
    ledger.tamper(
        "UPDATE ledger_entries SET idx = -1 WHERE idx = 10",
        "UPDATE ledger_entries SET idx = 10 WHERE idx = 17",
        "UPDATE ledger_entries SET idx = 17 WHERE idx = -1",
    )
    assert _first(ledger.verify()) == ("reordered_events", 10)


def test_inserted_event(ledger: Ledger) -> None:
    ledger.tamper(
        "UPDATE ledger_entries SET idx = idx + 1000 WHERE idx >= 13",
        "UPDATE ledger_entries SET idx = idx - 999 WHERE idx >= 1000",
    )
    forged = make_event(999, user="alibi")
    with make_session_factory(ledger.engine)() as session, session.begin():
        data = forged.canonical_json()
        store.insert_entries(
            session,
            [
                (
                    13,
                    leaf_hash(data),
                    data,
                    forged.event_id,
                    service.time_us(forged.time),
                    forged.user_id,
                    forged.subject_id,
                )
            ],
        )
    assert _first(ledger.verify()) == ("inserted_event", 13)


def test_truncated_log_even_with_head_and_nodes_rewritten(ledger: Ledger) -> None:
    with make_session_factory(ledger.engine)() as session, session.begin():
        survivors = [e.leaf_hash for e in service.iter_entries(session=session, end=30)]
    frontier = CompactRange()
    for digest in survivors:
        frontier.append(digest)
    ledger.tamper(
        "DELETE FROM ledger_entries WHERE idx >= 30",
        "DELETE FROM ledger_nodes WHERE (idx + 1) * (1 << level) > 30",
        "UPDATE ledger_head SET size = 30, frontier = :f",
        f=frontier.to_bytes(),
    )
    report = ledger.verify()
    assert _first(report) == ("truncated_log", 30)
    assert "covers 40 entries" in report.findings[0].detail


def test_rewritten_interior_node(ledger: Ledger) -> None:
    ledger.tamper("UPDATE ledger_nodes SET hash = :h WHERE level = 2 AND idx = 1", h=bytes(32))
    report = ledger.verify()
    assert _first(report) == ("rewritten_node", 4)
    assert "level 2, index 1" in report.findings[0].detail


def test_checkpoint_with_bad_signature(ledger: Ledger) -> None:
    def flip_signature(conn: Connection) -> None:
        note = conn.execute(text("SELECT note FROM ledger_checkpoints WHERE tree_size = 20")).scalar_one()
        body, _, line = note.rpartition(" ")
        forged = body + " " + ("A" if line[0] != "A" else "B") + line[1:]
        conn.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = 20"), {"n": forged})

    with ledger.engine.begin() as conn:
        flip_signature(conn)
    report = ledger.verify()
    assert _first(report)[0] == "bad_checkpoint_signature"
    assert "size 20" in report.findings[0].detail


def test_checkpoint_signed_by_another_key(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = ledger.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("other")})
    ensure_signing_key(other)
    with make_session_factory(ledger.engine)() as session, session.begin():
        root = service.root(session=session, size=30)
        forged = sign_checkpoint(
            Checkpoint(origin=other.ledger_origin, size=30, root=root), key=load_signing_key(other)
        )
        store.insert_checkpoint(session, tree_size=30, root=root, note=forged.note, created_at=datetime.now(UTC))
    report = ledger.verify()
    assert _first(report)[0] == "bad_checkpoint_signature"
    assert "size 30" in report.findings[0].detail
