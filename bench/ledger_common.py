"""Shared helpers of the ledger benchmarks: databases with the ledger tables, synthetic events."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text

from piguard.config import Settings
from piguard.db import Base, make_engine
from piguard.interchange.events import AccessEvent
from piguard.ledger import models

PG_URL = os.environ.get("PIGUARD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = [
    models.LedgerEntry.__table__,
    models.LedgerNode.__table__,
    models.LedgerHead.__table__,
    models.LedgerCheckpoint.__table__,
]
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def make_events(count: int, *, offset: int = 0) -> list[AccessEvent]:
    """Plausible access events (field names only), distinct by number."""
    return [
        AccessEvent(
            event_id=f"01J{n + offset:023d}",
            time=T0 + timedelta(seconds=n + offset),
            user_id=f"u{(n + offset) % 997}",
            role="physician",
            org_id="hosp-3",
            terminal_id="ws-0412",
            session_id="01JSESSION000000000000000",
            source_ip="10.1.2.3",
            action="read",
            resource_type="death_report",
            resource_id=f"dr-{(n + offset) % 50_000}",
            subject_id=f"s-{(n + offset) % 50_000}",
            fields=("deceased.name", "death.cause", "relative.phone"),
            purpose="TREAT",
            reason="clinical.attending",
        )
        for n in range(count)
    ]


@contextmanager
def ledger_engine(backend: str, tmp: Path) -> Iterator[tuple[Engine, Settings]]:
    """An empty database of ``backend`` holding just the ledger tables."""
    settings = Settings(data_dir=tmp)
    if backend == "sqlite":
        engine = make_engine(settings)
        Base.metadata.create_all(engine, tables=TABLES)
        yield engine, settings
        engine.dispose()
        return
    schema = f"bench_ledger_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL)

    @event.listens_for(engine, "connect")
    def _path(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    Base.metadata.create_all(engine, tables=TABLES)
    try:
        yield engine, settings
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


class Timer:
    """Wall-clock stopwatch."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
