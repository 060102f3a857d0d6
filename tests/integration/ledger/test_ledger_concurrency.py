"""Concurrent writers on real SQLite and PostgreSQL: gapless indexes, one tree, no fork."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from piguard.config import Settings
from piguard.db import make_session_factory
from piguard.db.snapshot import begin_read_snapshot
from piguard.ledger import service
from piguard.ledger.audit import verify_ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.ledger.merkle import CompactRange, leaf_hash
from tests.unit.ledger.ledger_factories import make_event


def test_concurrent_appends_are_serialised(fresh_engine: Engine) -> None:
    factory = make_session_factory(fresh_engine)
    writers, per_writer = 4, 15

    def write(worker: int) -> list[int]:
        indexes = []
        for i in range(per_writer):
            with factory() as session, session.begin():
                event = make_event(worker * 1000 + i)
                indexes.append(service.append(session=session, event=event).index)
        return indexes

    with ThreadPoolExecutor(max_workers=writers) as pool:
        results = list(pool.map(write, range(writers)))
    acknowledged = sorted(i for chunk in results for i in chunk)
    total = writers * per_writer
    assert acknowledged == list(range(total))
    with factory() as session, session.begin():
        entries = list(service.iter_entries(session=session))
        assert [e.index for e in entries] == list(range(total))
        rebuilt = CompactRange()
        for entry in entries:
            assert leaf_hash(entry.data) == entry.leaf_hash
            rebuilt.append(entry.leaf_hash)
        assert service.root(session=session) == rebuilt.root()
        assert service.count(session=session) == total


def test_rolled_back_append_leaves_no_trace(fresh_engine: Engine) -> None:
    factory = make_session_factory(fresh_engine)
    with factory() as session, session.begin():
        service.append(session=session, event=make_event(1))
    with factory() as session:
        session.begin()
        service.append(session=session, event=make_event(2))
        session.rollback()
    with factory() as session, session.begin():
        assert service.count(session=session) == 1
        assert service.append(session=session, event=make_event(3)).index == 1


def test_verify_reads_one_snapshot_while_the_service_appends(fresh_engine: Engine, tmp_path: Path) -> None:
    factory = make_session_factory(fresh_engine)
    with factory() as session, session.begin():
        for i in range(5):
            service.append(session=session, event=make_event(i))
    settings = Settings(data_dir=tmp_path / "data")
    ensure_signing_key(settings)
    verifier = service.log_verifier(settings)
    with factory() as reader, reader.begin():
        begin_read_snapshot(reader)
        assert service.count(session=reader) == 5  # the snapshot is taken here
        with factory() as writer, writer.begin():  # the service goes on appending meanwhile
            for i in range(5, 8):
                service.append(session=writer, event=make_event(i))
        report = verify_ledger(session=reader, verifier=verifier)
        # Entries, head and tree nodes are all read as of the snapshot: no false "inserted" entries.
        assert report.ok, report.findings
        assert (report.entries, report.tree_size) == (5, 5)
    with factory() as session, session.begin():
        begin_read_snapshot(session)
        later = verify_ledger(session=session, verifier=verifier)
        assert later.ok and later.tree_size == 8
