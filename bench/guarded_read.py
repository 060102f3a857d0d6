"""Guarded read vs unguarded read, policy decision latency, and HTTP guarded reads per second.

Run: .venv/bin/python bench/guarded_read.py [--seconds 5] [--database-url URL]
Everything runs against an SQLite file in a temporary data directory (or, with
``--database-url``, an empty PostgreSQL database, as in production); the baseline (an
unguarded read of the same record from the same database, in its own transaction) is measured
in the same run so the ratio holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from piguard.config import Settings
from piguard.db import make_engine, make_session_factory, migrate
from piguard.identity import service as identity
from piguard.identity import totp
from piguard.identity.schemas import Principal
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject, default_engine
from piguard.records import flows
from piguard.records import service as records
from piguard.records.guard import Guard

PASSWORD = "bench password 123"  # noqa: S105 - a throwaway account in a temporary database


def setup(data_dir: Path, database_url: str | None = None) -> tuple[Settings, Principal, str, str, str]:
    """A database with one hospital, one physician (with training) and one certified report."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    ensure_secret(settings)
    ensure_signing_key(settings)
    migrate.upgrade(settings)
    engine = make_engine(settings)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db, db.begin():
        ledger.bind_settings(db, settings)
        org = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        made = identity.create_account(
            session=db,
            secret=load_secret(settings),
            username="wang.fang",
            display_name="王芳",
            role="physician",
            org_id=org.id,
            password=PASSWORD,
            demo=True,
        )
        identity.record_training(
            session=db,
            account_id=made.account.id,
            course_code="privacy-basics",
            score=95,
            completed_at=now - timedelta(days=1),
        )
        report = records.create_report(
            session=db,
            hospital_org_id=org.id,
            subject_id="s1",
            name="李秀英",
            sex="female",
            death_time=now - timedelta(days=1),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            relatives=[{"name": "王小明", "relationship": "儿子", "phone": "13912345678"}],
        )
        records.certify(session=db, report_id=report.id, certifier_id=made.account.id, at=now - timedelta(hours=20))
    engine.dispose()
    principal = Principal(
        account_id=made.account.id,
        username="wang.fang",
        role="physician",
        org_id=org.id,
        terminal_id="ws-1",
        training_valid_until=now + timedelta(days=300),
        # As authentication loads it (identity.sessions): the organisation's jurisdiction and level.
        district=org.district,
        org_level=org.level,
    )
    return settings, principal, report.id, made.account.username, made.totp_secret or ""


def timed(fn: object, seconds: float) -> list[float]:
    """Call ``fn`` repeatedly for ``seconds``; the per-call latencies."""
    assert callable(fn)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def in_process(settings: Settings, principal: Principal, report_id: str, seconds: float) -> dict[str, float]:
    """Guarded and unguarded reads of the same record, alternating rounds so load affects both alike."""
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    guard = Guard(engine=default_engine(), settings=settings, secret=load_secret(settings))

    def unguarded() -> None:
        with sessions() as db, db.begin():
            record = records.get_report_record(session=db, report_id=report_id)
            assert record is not None
            record.model_dump(mode="json")

    def guarded() -> None:
        with sessions() as db, db.begin():
            ledger.bind_settings(db, settings)
            outcome = flows.read_report(
                session=db, guard=guard, principal=principal, report_id=report_id, purpose="TREAT"
            )
        outcome.unwrap().model_dump(mode="json")

    plain: list[float] = []
    full: list[float] = []
    for _ in range(5):
        plain += timed(unguarded, seconds / 10)
        full += timed(guarded, seconds / 10)
    engine.dispose()
    return {
        "unguarded_per_s": len(plain) / sum(plain),
        "guarded_per_s": len(full) / sum(full),
        "guarded_p50_ms": statistics.median(full) * 1e3,
        "unguarded_p50_ms": statistics.median(plain) * 1e3,
        "ratio": statistics.median(full) / statistics.median(plain),
    }


def _certifier_read(resource_id: str) -> AccessRequest:
    return AccessRequest(
        Subject("u1", "physician", "org-1", "310112"),
        "read",
        ResourceRef("DeathReport", resource_id, {"hospital": "org-1", "district": "310112", "status": "certified"}),
        "TREAT",
        "hospital_certifier",
        frozenset({"certifier"}),
    )


def _percentiles(times: list[float]) -> dict[str, float]:
    times.sort()
    return {"p50_us": times[len(times) // 2] * 1e6, "p99_us": times[int(len(times) * 0.99)] * 1e6}


def decision_latency(samples: int = 20000) -> dict[str, dict[str, float]]:
    """PolicyEngine.decide on a typical certifier read: distinct records (Cedar runs) and a repeated one."""
    engine = PolicyEngine.load()  # nothing remembered yet
    distinct = [_certifier_read(f"r{i}") for i in range(samples + 500)]
    for request in distinct[:500]:
        engine.decide(request)
    evaluated = []
    for request in distinct[500:]:
        start = time.perf_counter()
        engine.decide(request)
        evaluated.append(time.perf_counter() - start)
    repeated_request = _certifier_read("r1")
    repeated = []
    for _ in range(samples):
        start = time.perf_counter()
        engine.decide(repeated_request)
        repeated.append(time.perf_counter() - start)
    return {"evaluated": _percentiles(evaluated), "remembered": _percentiles(repeated)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(settings: Settings, username: str, totp_secret: str, report_id: str, seconds: float) -> dict[str, float]:
    """Guarded reads over HTTP against `piguard serve` on loopback (one client, keep-alive)."""
    port = _free_port()
    # One account reading in a loop is exactly what the disclosure rate limit stops; this measures
    # the access path's speed, so the limit is off (with it on, each request adds one upsert).
    env = {**os.environ, "PIGUARD_DATA_DIR": str(settings.data_dir), "PIGUARD_DISCLOSURE_LIMIT_ENABLED": "false"}
    if settings.database_url:
        env["PIGUARD_DATABASE_URL"] = settings.database_url
    server = subprocess.Popen(
        [sys.executable, "-m", "piguard", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    client.get("/api/v1/audit/checkpoint")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            code = totp.code_at(totp_secret, totp.step_of(datetime.now(UTC)))
            login = client.post(
                "/api/v1/auth/login",
                json={"username": username, "password": PASSWORD, "totp": code, "terminal_id": "ws-1"},
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}", "X-Terminal-Id": "ws-1"}
            url = f"/api/v1/death-reports/{report_id}"

            def read() -> None:
                response = client.get(url, params={"purpose": "TREAT"}, headers=headers)
                assert response.status_code == 200, response.text

            samples = timed(read, seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"http_per_s": len(samples) / sum(samples), "http_p50_ms": statistics.median(samples) * 1e3}


def main() -> None:
    """Run all three measurements and print a markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--database-url",
        default=None,
        help="an EMPTY database to fill, e.g. postgresql+psycopg://postgres@127.0.0.1/bench",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings, principal, report_id, username, secret = setup(Path(tmp), args.database_url)
        local = in_process(settings, principal, report_id, args.seconds)
        decision = decision_latency()
        remote = http(settings, username, secret, report_id, args.seconds)
    rows = [
        (
            "policy decision, distinct records (Cedar evaluates) p50 / p99",
            f"{decision['evaluated']['p50_us']:.0f} / {decision['evaluated']['p99_us']:.0f} µs",
            "<= 100 µs (p50)",
        ),
        (
            "policy decision, repeated request (remembered) p50 / p99",
            f"{decision['remembered']['p50_us']:.1f} / {decision['remembered']['p99_us']:.1f} µs",
            "",
        ),
        (
            "unguarded read (same record, same DB, own transaction)",
            f"{local['unguarded_per_s']:.0f} /s (p50 {local['unguarded_p50_ms']:.2f} ms)",
            "baseline",
        ),
        (
            "guarded read in-process (decide + minimise + ledger append + commit)",
            f"{local['guarded_per_s']:.0f} /s (p50 {local['guarded_p50_ms']:.2f} ms)",
            ">= 2,000 /s",
        ),
        ("guarded / unguarded latency ratio (p50)", f"{local['ratio']:.2f}x", "<= 3x"),
        (
            "guarded read over HTTP (one keep-alive client)",
            f"{remote['http_per_s']:.0f} /s (p50 {remote['http_p50_ms']:.2f} ms)",
            "",
        ),
    ]
    print("| measure | value | target |")
    print("|---|---|---|")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
