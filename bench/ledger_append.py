"""Batched append throughput: hashing, tree update and durable commit per batch of 1,000.

    .venv/bin/python bench/ledger_append.py --backend sqlite --events 100000
    .venv/bin/python bench/ledger_append.py --backend postgresql --events 100000

Baseline, in the same process and database kind: the same events' canonical JSON inserted
into the entries table with no hashing, no tree and no head lock (what a plain audit
table would cost). Target: >= 20,000 events/s on an SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ledger_common import Timer, ledger_engine, make_events

from piguard.db import make_session_factory
from piguard.ledger import service, store
from piguard.ledger.canonical import canonical_event
from piguard.ledger.keys import ensure_signing_key

# Below this many events start-up costs dominate, so tiny smoke runs do not gate on the target.
GATE_EVENTS = 10_000


def baseline(engine, events, batch: int) -> float:  # type: ignore[no-untyped-def]
    factory = make_session_factory(engine)
    with Timer() as t:
        for start in range(0, len(events), batch):
            rows = [
                (start + i, b"", canonical_event(e), e.event_id, service.time_us(e.time), e.user_id, e.subject_id)
                for i, e in enumerate(events[start : start + batch])
            ]
            with factory() as session, session.begin():
                store.insert_entries(session, rows)
    return len(events) / t.seconds


def ledger(engine, settings, events, batch: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    factory = make_session_factory(engine)
    with Timer() as t:
        for start in range(0, len(events), batch):
            with factory() as session, session.begin():
                service.bind_settings(session, settings)
                service.append_many(session=session, events=events[start : start + batch])
    # Single appends inside an open transaction: the cost the guarded request path adds.
    singles = events[:2000]
    with factory() as session, session.begin():
        service.bind_settings(session, settings)
        with Timer() as one:
            for e in singles:
                service.append(session=session, event=e)
    # ... and each in its own transaction and commit.
    with Timer() as own:
        for e in singles:
            with factory() as session, session.begin():
                service.bind_settings(session, settings)
                service.append(session=session, event=e)
    return len(events) / t.seconds, one.seconds / len(singles), own.seconds / len(singles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    events = make_events(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        with ledger_engine(args.backend, Path(tmp) / "base") as (engine, _):
            base = baseline(engine, events, args.batch)
        with ledger_engine(args.backend, Path(tmp) / "ledger") as (engine, settings):
            ensure_signing_key(settings)
            rate, single, own = ledger(engine, settings, events, args.batch)
            with make_session_factory(engine)() as session:
                checkpoints = len(store.all_checkpoints(session))
    print(f"backend={args.backend} events={args.events} batch={args.batch}")
    print(f"ledger append   {rate:10,.0f} events/s  (target >= 20,000 on SQLite)")
    print(f"plain insert    {base:10,.0f} events/s  (baseline, same process)")
    print(f"ratio           {rate / base:10.2f}  ledger / baseline")
    print(f"single append   {single * 1e6:10,.0f} us per call inside the caller's transaction")
    print(f"single + commit {own * 1e6:10,.0f} us per event in its own transaction")
    print(f"checkpoints     {checkpoints:10d}  signed along the way")
    if args.backend == "sqlite" and args.events >= GATE_EVENTS and rate < 20_000:
        sys.exit(1)


if __name__ == "__main__":
    main()
