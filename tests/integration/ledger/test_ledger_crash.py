"""Crash safety: SIGKILL a process appending in a loop, at random moments, again and again.

After each kill every acknowledged event must be present at its acknowledged index, the
whole tree (entries, nodes, head, signed checkpoints) must verify, and appends must go on.
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.interchange.events import AccessEvent
from piguard.ledger import service, store
from piguard.ledger.audit import verify_ledger
from piguard.ledger.keys import ensure_signing_key

KILLS = 20


def _writer(run: int, settings: Settings, pipe: int) -> None:
    """The child: append forever, reporting each index only after its transaction committed."""
    factory = make_session_factory(make_engine(settings))
    i = 0
    while True:
        event = AccessEvent(
            event_id=f"crash-{run}-{i}",
            time=datetime.now(UTC),
            user_id="u1",
            role="nurse",
            org_id="o1",
            action="read",
            fields=("death.cause",),
        )
        with factory() as session, session.begin():
            service.bind_settings(session, settings)
            receipt = service.append(session=session, event=event)
        os.write(pipe, f"{receipt.index} {event.event_id}\n".encode())
        i += 1


def _spawn(run: int, settings: Settings) -> tuple[int, int]:
    # fork, not a fresh interpreter: start-up then costs microseconds, so 20 kills fit in seconds.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns; it is killed
        os.close(read_end)
        try:
            _writer(run, settings, write_end)
        finally:
            os._exit(1)
    os.close(write_end)
    return pid, read_end


def _drain(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def test_sigkill_while_appending_loses_no_acknowledged_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PIGUARD_CHECKPOINT_EVERY_ENTRIES", "7")
    settings = Settings()
    ensure_signing_key(settings)
    load_all_models()
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    verifier = service.log_verifier(settings)
    factory = make_session_factory(engine)
    rng = random.Random(20260228)
    acknowledged: dict[int, str] = {}
    for run in range(KILLS):
        engine.dispose()  # no pooled SQLite connection may cross the fork
        pid, fd = _spawn(run, settings)
        time.sleep(rng.uniform(0.02, 0.2))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status)
        assert os.WTERMSIG(status) == signal.SIGKILL
        out = _drain(fd)
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2:  # a line cut by the kill was never acknowledged
                acknowledged[int(parts[0])] = parts[1]
        with factory() as session, session.begin():
            table = store.ENTRIES
            stored = dict(session.execute(select(table.c.idx, table.c.event_id)).all())
            missing = {i: e for i, e in acknowledged.items() if stored.get(i) != e}
            assert not missing, f"run {run}: acknowledged events lost: {sorted(missing)[:5]}"
            report = verify_ledger(session=session, verifier=verifier)
            assert report.ok, f"run {run}: {report.findings}"
        # Appends go on after the crash, at the next index, and the tree still verifies.
        with factory() as session, session.begin():
            service.bind_settings(session, settings)
            size = service.count(session=session)
            event = AccessEvent(
                event_id=f"after-{run}",
                time=datetime.now(UTC),
                user_id="u2",
                role="nurse",
                org_id="o1",
                action="read",
                fields=("death.cause",),
            )
            receipt = service.append(session=session, event=event)
            assert (receipt.index, receipt.tree_size) == (size, size + 1)
        acknowledged[receipt.index] = event.event_id
    assert len(acknowledged) > 2 * KILLS  # the writers really did append between the kills
    with factory() as session, session.begin():
        service.bind_settings(session, settings)
        total = service.count(session=session)
        assert service.checkpoint(session=session).tree_size == total
        assert verify_ledger(session=session, verifier=verifier).ok
    engine.dispose()
