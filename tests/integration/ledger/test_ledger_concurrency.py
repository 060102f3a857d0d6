"""Concurrent writers on real SQLite and PostgreSQL: gapless indexes, one tree, no fork."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from piguard.db import make_session_factory
from piguard.ledger import service
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
