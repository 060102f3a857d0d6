"""Shared helpers of the ledger benchmarks: databases with the ledger tables, synthetic events."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from piguard.config import Settings
from piguard.db import Base, make_engine
from piguard.interchange.events import AccessEvent
from piguard.ledger import models, store
from piguard.ledger.canonical import canonical_event
from piguard.ledger.checkpoint import Checkpoint, sign_checkpoint
from piguard.ledger.keys import ensure_signing_key, load_signing_key
from piguard.ledger.merkle import CompactRange

PG_URL = os.environ.get("PIGUARD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = [
    models.LedgerEntry.__table__,
    models.LedgerNode.__table__,
    models.LedgerHead.__table__,
    models.LedgerCheckpoint.__table__,
    models.LedgerKeyRotation.__table__,
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
    """Wall-clock stopwatch, plus the CPU seconds this process and its finished children used.

    On the shared, noisy machine the CPU time is the steadier figure: wall time includes the
    time other engineers' processes held the two cores.
    """

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.start_cpu = _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = _cpu() - self.start_cpu


def _cpu() -> float:
    children = os.times()  # finished subprocesses (10 ms resolution); this process: process_time
    return time.process_time() + children.children_user + children.children_system


# ---------------------------------------------------------------------------------------------
# Fast construction of a large log for the proof, verify and evidence benchmarks.
#
# The service appends ~25,000 events/s, so a 10M-entry log would take minutes of append calls.
# Here the same bytes are produced directly: canonical JSON from a template (checked against
# ``canonical_event``), leaf hashes and interior nodes from the pure core's ``CompactRange``,
# signed checkpoints every ``checkpoint_every`` entries, all bulk-inserted with the sqlite3
# module into the tables the service uses (journal off while loading, WAL afterwards).

MARKED_USER = "u-target"
_MARKS = {"event_id": "@ID@", "time": "@TIME@", "user_id": "@USER@", "resource_id": "@RES@", "subject_id": "@SUBJ@"}


def _template() -> str:
    sample = make_events(1)[0].model_copy(update=_MARKS)
    text_ = canonical_event(sample).decode().replace("{", "{{").replace("}", "}}")
    for name, mark in _MARKS.items():
        text_ = text_.replace(mark, "{" + name + "}")
    return text_


def marked(n: int, marked_every: int) -> bool:
    """Whether event ``n`` belongs to ``MARKED_USER`` (one in ``marked_every``)."""
    return marked_every > 0 and n % marked_every == marked_every // 2


def _user(n: int, marked_every: int) -> str:
    return MARKED_USER if marked(n, marked_every) else f"u{n % 997}"


@dataclass
class BuiltLog:
    """What ``build_sqlite_log`` wrote."""

    path: Path
    size: int
    root: bytes
    checkpoints: int
    marked: int
    seconds: float


def build_sqlite_log(
    path: Path,
    settings: Settings,
    size: int,
    *,
    checkpoint_every: int = 1000,
    marked_every: int = 0,
    batch: int = 50_000,
) -> BuiltLog:
    """Write a ledger of ``size`` entries into a new SQLite file at ``path``."""
    start = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(plain, tables=TABLES)
    plain.dispose()
    ensure_signing_key(settings)
    key = load_signing_key(settings)
    origin = settings.ledger_origin
    template = _template()
    for n in (0, 1, max(size - 1, 0), marked_every // 2):
        event = make_events(1, offset=n)[0].model_copy(update={"user_id": _user(n, marked_every)})
        assert canonical_event(event) == template.format(**_fields(n, marked_every)).encode()
    sha = hashlib.sha256
    tree = CompactRange()
    checkpoints = marks = 0
    last_cp, last_cp_us = 0, None
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    entry_sql = f"INSERT INTO ledger_entries ({', '.join(store.ENTRY_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
    for first in range(0, size, batch):
        rows = []
        nodes: list[tuple[int, int, bytes]] = []
        cps = []
        for n in range(first, min(first + batch, size)):
            fields = _fields(n, marked_every)
            data = template.format(**fields).encode()
            digest = sha(b"\x00" + data).digest()
            nodes.extend((lv, ix, h) for (lv, ix), h in tree.append(digest))
            rows.append(
                (n, digest, data, fields["event_id"], fields["time_us"], fields["user_id"], fields["subject_id"])
            )
            marks += fields["user_id"] == MARKED_USER
            if tree.size % checkpoint_every == 0 or tree.size == size:
                body = Checkpoint(origin=origin, size=tree.size, root=tree.root())
                stamp = fields["time_us"]
                created = store.from_us(stamp).strftime("%Y-%m-%d %H:%M:%S.%f")
                cps.append((tree.size, body.root, sign_checkpoint(body, key=key).note, created))
                last_cp, last_cp_us = tree.size, stamp
        with db:
            db.executemany(entry_sql, rows)
            db.executemany("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
            db.executemany(
                "INSERT INTO ledger_checkpoints (tree_size, root, note, created_at) VALUES (?, ?, ?, ?)", cps
            )
            checkpoints += len(cps)
    with db:
        db.execute(
            "INSERT INTO ledger_head (id, size, frontier, checkpoint_size, checkpoint_time_us) VALUES (1, ?, ?, ?, ?)",
            (tree.size, tree.to_bytes(), last_cp, last_cp_us),
        )
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return BuiltLog(path, size, tree.root(), checkpoints, marks, time.perf_counter() - start)


def _fields(n: int, marked_every: int) -> dict[str, Any]:
    moment = T0 + timedelta(seconds=n)
    return {
        "event_id": f"01J{n:023d}",
        "time": moment.isoformat(),
        "time_us": store.to_us(moment),
        "user_id": _user(n, marked_every),
        "resource_id": f"dr-{n % 50_000}",
        "subject_id": f"s-{n % 50_000}",
    }


def sqlite_settings(workdir: Path) -> Settings:
    """Settings whose database is ``workdir/piguard.db`` (what the CLI opens with that data dir)."""
    return Settings(data_dir=workdir)


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@contextmanager
def prepare_log(
    workdir: Path | None, size: int, *, checkpoint_every: int = 1000, marked_every: int = 0
) -> Iterator[BuiltLog]:
    """A built log in ``workdir`` (reused if it was built with the same parameters), else a temp dir."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
            yield build_sqlite_log(
                Path(tmp) / "piguard.db",
                sqlite_settings(Path(tmp)),
                size,
                checkpoint_every=checkpoint_every,
                marked_every=marked_every,
            )
        return
    meta = {"size": size, "checkpoint_every": checkpoint_every, "marked_every": marked_every}
    stamp, db = workdir / "bench-log.json", workdir / "piguard.db"
    if stamp.exists() and db.exists() and json.loads(stamp.read_text()).get("meta") == meta:
        saved = json.loads(stamp.read_text())
        yield BuiltLog(db, size, bytes.fromhex(saved["root"]), saved["checkpoints"], saved["marked"], 0.0)
        return
    for stale in (stamp, db, db.with_name("piguard.db-wal"), db.with_name("piguard.db-shm")):
        stale.unlink(missing_ok=True)
    built = build_sqlite_log(
        db, sqlite_settings(workdir), size, checkpoint_every=checkpoint_every, marked_every=marked_every
    )
    stamp.write_text(
        json.dumps({"meta": meta, "root": built.root.hex(), "checkpoints": built.checkpoints, "marked": built.marked})
    )
    yield built


def report_line(label: str, timer: Timer | None, note: str) -> str:
    """One result line: wall and CPU seconds (``-`` when the step was skipped)."""
    if timer is None:
        return f"{label:<30} {'-':>8}        {'-':>8}       {note}"
    return f"{label:<30} {timer.seconds:8.2f} s wall {timer.cpu:8.2f} s cpu  {note}"
