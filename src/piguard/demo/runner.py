"""Build, load and run the demo city; then replay the Minhang pattern and summarise."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, literal, select
from sqlalchemy import table as table_clause
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db import make_engine, make_session_factory, migrate
from piguard.db.base import utcnow
from piguard.demo.loader import LoadedCity, load_city
from piguard.demo.minhang import Check, replay
from piguard.demo.workflows import Context, WorkLog, count_cases, run_city
from piguard.errors import InputError
from piguard.keys import ensure_secret, load_secret, write_private
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.policy.pdp import PolicyEngine
from piguard.simulate.city import SHANGHAI, City, build_city

ACCOUNTS_FILE = "demo-accounts.json"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo did."""

    city: City
    allowed: int
    denied: int
    events: int
    checkpoint_size: int
    checks: list[Check]
    accounts_file: Path
    seconds: float
    workflow_refusals: dict[str, int]
    canaries: int


def prepare(data_dir: Path, database_url: str | None = None) -> Settings:
    """A fresh demo data directory: refuses to touch a directory holding a non-demo database.

    The demo never takes its database or keys from the environment: a shell set up for a real
    installation (``PIGUARD_DATABASE_URL``, key files) must not get a synthetic city in its
    database nor demo checkpoints signed with its log key. Another database is named explicitly
    (``database_url``) and must hold no piguard data.
    """
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key_file=None, ledger_key_file=None)
    if database_url is not None:
        _refuse_a_used_database(settings)
    database = data_dir / "piguard.db"
    if database_url is None and database.exists():
        if not (data_dir / ACCOUNTS_FILE).exists():
            raise InputError(
                "holds a piguard database that is not a demo; choose another --data-dir", where=str(data_dir)
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        (data_dir / ACCOUNTS_FILE).unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_secret(settings)
    ensure_signing_key(settings)
    migrate.upgrade(settings)
    return settings


def _refuse_a_used_database(settings: Settings) -> None:
    """InputError unless the named database holds no piguard rows (organisations, accounts, ledger)."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            used = [
                table
                for table in ("organisations", "accounts", "ledger_entries")
                if table in present
                and connection.execute(select(literal(1)).select_from(table_clause(table)).limit(1)).first()
            ]
    except SQLAlchemyError as exc:
        raise InputError(f"cannot open the database ({type(exc).__name__})", where="--database-url") from None
    finally:
        engine.dispose()
    if used:
        raise InputError(
            f"the database already holds piguard data ({', '.join(used)}); the demo loads a synthetic city and "
            "writes to the ledger: give it an empty database",
            where="--database-url",
        )


def run_demo(
    *,
    data_dir: Path,
    seed: int,
    days: int = 60,
    progress: Callable[[int, int], None] | None = None,
    database_url: str | None = None,
) -> DemoSummary:
    """Run the whole demo; ``progress(done, total)`` is called as cases finish."""
    started = time.perf_counter()
    settings = prepare(data_dir, database_url)
    secret = load_secret(settings)
    today = utcnow().astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    city = build_city(seed=seed, scale="demo", start=today - timedelta(days=days), days=days)
    now = utcnow()
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session, session.begin():
            ledger.bind_settings(session, settings)
            loaded = load_city(session=session, secret=secret, city=city, now=now)
        ctx = Context(city, loaded, PolicyEngine.load(), settings, secret, now, WorkLog())
        total = count_cases(ctx)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, total)

        run_city(sessions=sessions, ctx=ctx, tick=tick)
        with sessions() as session, session.begin():
            ledger.bind_settings(session, settings)
            checks = replay(session, ctx)
        with sessions() as session, session.begin():
            ledger.bind_settings(session, settings)
            signed = ledger.checkpoint(session=session, settings=settings)
            events = ledger.count(session=session)
            outcomes = _outcomes(session)
    finally:
        engine.dispose()
    accounts = _write_accounts(data_dir, loaded, seed)
    return DemoSummary(
        city=city,
        allowed=outcomes.get("allowed", 0),
        denied=outcomes.get("denied", 0),
        events=events,
        checkpoint_size=signed.tree_size,
        checks=checks,
        accounts_file=accounts,
        seconds=time.perf_counter() - started,
        workflow_refusals=dict(ctx.log.failures),
        canaries=len(ctx.log.canaries),
    )


def _outcomes(session: Session) -> dict[str, int]:
    return dict(Counter(event.outcome for event in ledger.iter_events(session=session)))


def _write_accounts(data_dir: Path, loaded: LoadedCity, seed: int) -> Path:
    path = data_dir / ACCOUNTS_FILE
    payload = {
        "warning": "DEMO ONLY: synthetic accounts of a synthetic city; never use these credentials elsewhere",
        "seed": seed,
        "generated_at": datetime.now(SHANGHAI).isoformat(),
        "accounts": loaded.credentials,
    }
    path.unlink(missing_ok=True)
    write_private(path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))
    os.chmod(path, 0o600)
    return path
