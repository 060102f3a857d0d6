"""Full ``piguard audit verify`` of a large ledger (issue target: 1M entries in <= 30 s).

    .venv/bin/python bench/ledger_verify.py                      # smoke: 100,000 entries
    .venv/bin/python bench/ledger_verify.py --target             # 1,000,000 entries
    .venv/bin/python bench/ledger_verify.py --target --workdir var/bench-1m   # keep/reuse the log

The log is built with the pure core and bulk inserts (``ledger_common.build_sqlite_log``: real
canonical events, every interior node, a signed checkpoint every 1,000 entries). Then:

- ``verify_ledger`` in-process (what the command runs), and
- ``piguard audit verify`` as a subprocess, end to end (interpreter start, imports, output).

Baselines in the same run, over the same database and bytes: the raw sqlite3 read of every
entry row; SHA-256 of all event bytes in 1 MiB calls (the machine's hashing speed); and the
least any Python verifier must do: one SHA-256 call per leaf and per interior node.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from ledger_common import Timer, prepare_log, report_line, sqlite_settings

from piguard.db import make_engine, make_session_factory
from piguard.ledger import service
from piguard.ledger.audit import verify_ledger

TARGET_ENTRIES = 1_000_000
TARGET_SECONDS = 30.0
ROOT = Path(__file__).resolve().parents[1]


def raw_baselines(db: Path) -> tuple[Timer, Timer, Timer]:
    """Seconds to read every entry row with sqlite3; to SHA-256 the bytes in bulk; per hash call."""
    conn = sqlite3.connect(db)
    rows_data: list[bytes] = []
    with Timer() as read:
        cursor = conn.execute("SELECT idx, leaf_hash, data FROM ledger_entries ORDER BY idx")
        while rows := cursor.fetchmany(10_000):
            rows_data.extend(data for _, _, data in rows)
    conn.close()
    blob = b"".join(rows_data)
    with Timer() as bulk:
        digest = hashlib.sha256()
        view = memoryview(blob)
        for start in range(0, len(blob), 1 << 20):
            digest.update(view[start : start + (1 << 20)])
        digest.digest()
    sha = hashlib.sha256
    with Timer() as calls:
        leaves = b"".join([sha(b"\x00" + data).digest() for data in rows_data])
        level = leaves
        while len(level) >= 64:
            level = b"".join([sha(b"\x01" + level[i : i + 64]).digest() for i in range(0, len(level) - 63, 64)])
    return read, bulk, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--target", action="store_true", help=f"{TARGET_ENTRIES:,} entries; exit 1 above the target")
    parser.add_argument("--workdir", type=Path, help="keep the built log here (reused when its size matches)")
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess run")
    args = parser.parse_args()
    size = TARGET_ENTRIES if args.target else args.entries
    with prepare_log(args.workdir, size, checkpoint_every=args.checkpoint_every) as built:
        settings = sqlite_settings(built.path.parent)
        engine = make_engine(settings)
        with make_session_factory(engine)() as session, session.begin():
            verifier = service.log_verifier(settings)
            with Timer() as inproc:
                report = verify_ledger(session=session, verifier=verifier)
        engine.dispose()
        assert report.ok, report.findings[:3]
        assert report.root == built.root
        assert report.entries == size
        cli: Timer | None = None
        if not args.no_cli:
            env = {**os.environ, "PIGUARD_DATA_DIR": str(built.path.parent)}
            with Timer() as cli:
                proc = subprocess.run(
                    [str(Path(sys.executable).with_name("piguard")), "audit", "verify"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                    cwd=ROOT,
                )
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert "verified:" in proc.stdout
        read, bulk, calls = raw_baselines(built.path)
        megabytes = built.path.stat().st_size / 1e6
    floor = read.cpu + calls.cpu
    print(
        f"entries={size:,} checkpoints={report.checkpoints:,} build={built.seconds:.1f}s db={megabytes:,.0f}MB "
        f"load={os.getloadavg()[0]:.1f} (2 cores)"
    )
    print(report_line("piguard audit verify", cli, f"end to end, subprocess (target <= {TARGET_SECONDS:.0f} s at 1M)"))
    print(report_line("verify_ledger", inproc, f"in-process, {size / inproc.seconds:,.0f} entries/s (wall)"))
    print(report_line("raw sqlite3 read", read, "baseline: every entry row, no processing"))
    print(report_line("SHA-256 calls", calls, f"baseline: one call per leaf and per node ({2 * size - 1:,} calls)"))
    print(report_line("SHA-256 bulk", bulk, "baseline: the same event bytes in 1 MiB calls"))
    print(f"ratio {inproc.cpu / max(floor, 1e-6):.2f}  verify_ledger / (raw read + SHA-256 calls), CPU seconds")
    if args.target and cli is not None and not cli.seconds <= TARGET_SECONDS:
        sys.exit(1)


if __name__ == "__main__":
    main()
