"""Evidence bundles: export and verify 10,000 events (issue target: verified in < 5 s).

    .venv/bin/python bench/ledger_evidence.py                  # smoke: 1,000 events of a 100,000-entry log
    .venv/bin/python bench/ledger_evidence.py --target         # 10,000 events of a 1,000,000-entry log
    .venv/bin/python bench/ledger_evidence.py --target --workdir var/bench-1m-evidence

The log is built with the pure core and bulk inserts (``ledger_common.build_sqlite_log``); one
user's events are spread evenly through it (one in ``entries / events``), the hard case for
proofs: scattered leaves share only the nodes near the root. The selection is ``--user``.

Timed: ``export_evidence`` and ``verify_evidence`` in-process, and ``piguard audit
export-evidence`` / ``verify-evidence`` as subprocesses (end to end). Baselines in the same run:
the same proofs built one event at a time (what export did before batching); SHA-256 of the
bundle's bytes in bulk; and the least any Python verifier must do: parse each line and make one
SHA-256 call per leaf and per proof node.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ledger_common import MARKED_USER, Timer, prepare_log, report_line, sqlite_settings

from piguard.db import make_engine, make_session_factory
from piguard.ledger import evidence, service

TARGET_ENTRIES, TARGET_EVENTS, TARGET_SECONDS = 1_000_000, 10_000, 5.0
ROOT = Path(__file__).resolve().parents[1]


def piguard(*args: str, data_dir: Path) -> tuple[Timer, str]:
    env = {**os.environ, "PIGUARD_DATA_DIR": str(data_dir)}
    with Timer() as t:
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("piguard")), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return t, proc.stdout


def floor(bundle: Path) -> tuple[Timer, Timer]:
    """Seconds: SHA-256 of entries.jsonl in bulk; parse + one SHA-256 call per leaf and proof node."""
    blob = (bundle / "entries.jsonl").read_bytes()
    with Timer() as bulk:
        hashlib.sha256(blob).digest()
    sha = hashlib.sha256
    with Timer() as minimal:
        for line in blob.splitlines():
            record = json.loads(line)
            seed = sha(b"\x00" + record["leaf"].encode()).digest()
            for node in record["proof"]:
                seed = sha(b"\x01" + seed + base64.b64decode(node)).digest()
    return bulk, minimal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000, help="log size")
    parser.add_argument("--events", type=int, default=1_000, help="events in the bundle")
    parser.add_argument(
        "--target", action="store_true", help=f"{TARGET_EVENTS:,} events of {TARGET_ENTRIES:,}; exit 1 above the target"
    )
    parser.add_argument("--workdir", type=Path, help="keep the built log here (reused when it matches)")
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess runs")
    args = parser.parse_args()
    size, events = (TARGET_ENTRIES, TARGET_EVENTS) if args.target else (args.entries, args.events)
    every = max(1, size // events)
    with (
        prepare_log(args.workdir, size, marked_every=every) as built,
        tempfile.TemporaryDirectory(prefix="evidence-") as tmp,
    ):
        settings = sqlite_settings(built.path.parent)
        engine = make_engine(settings)
        factory = make_session_factory(engine)
        bundle = Path(tmp) / "bundle"
        with factory() as session, session.begin():
            service.bind_settings(session, settings)
            with Timer() as export:
                summary = evidence.export_evidence(session=session, out=bundle, settings=settings, user_id=MARKED_USER)
        assert summary.entries == built.marked, (summary.entries, built.marked)
        indexes = [json.loads(line)["index"] for line in (bundle / "entries.jsonl").read_text().splitlines()]
        with factory() as session, session.begin():
            with Timer() as one_by_one:
                for index in indexes:
                    service.inclusion_proof(session=session, index=index, size=summary.tree_size)
            with Timer() as batched:
                service.inclusion_proofs(session=session, indexes=indexes, size=summary.tree_size)
        engine.dispose()
        vkey = (bundle / "log.vkey").read_text().strip()
        with Timer() as verify:
            checked = evidence.verify_evidence(bundle, trusted_vkey=vkey)
        assert checked.entries == summary.entries
        cli_export: Timer | None = None
        cli_verify: Timer | None = None
        if not args.no_cli:
            cli_bundle = Path(tmp) / "cli-bundle"
            cli_export, _ = piguard(
                "audit", "export-evidence", "--out", str(cli_bundle), "--user", MARKED_USER, data_dir=built.path.parent
            )
            cli_verify, out = piguard(
                "audit", "verify-evidence", str(cli_bundle), "--log-key", vkey, data_dir=built.path.parent
            )
            assert f"verified: {summary.entries} events" in out, out
        megabytes = (bundle / "entries.jsonl").stat().st_size / 1e6
        bulk, minimal = floor(bundle)
    n = summary.entries
    print(
        f"log={size:,} entries, bundle={n:,} events of user {MARKED_USER} (one in {every}), "
        f"entries.jsonl={megabytes:.1f}MB, build={built.seconds:.1f}s, load={os.getloadavg()[0]:.1f} (2 cores)"
    )
    print(report_line("piguard audit verify-evidence", cli_verify, f"end to end (target < {TARGET_SECONDS:.0f} s)"))
    print(report_line("piguard audit export-evidence", cli_export, "end to end"))
    print(report_line("verify_evidence", verify, f"in-process, {n / verify.seconds:,.0f} events/s (wall)"))
    print(report_line("export_evidence", export, f"in-process, {n / export.seconds:,.0f} events/s (wall)"))
    print(report_line("proofs, batched", batched, f"service.inclusion_proofs of the {n:,} indexes at once"))
    print(report_line("proofs, one by one", one_by_one, "baseline: service.inclusion_proof per event"))
    print(report_line("parse + SHA-256 calls", minimal, "baseline: json.loads per line, one call per leaf/node"))
    print(report_line("SHA-256 bulk", bulk, "baseline: entries.jsonl in one call"))
    print(f"ratio {verify.cpu / max(minimal.cpu, 1e-6):.2f}  verify_evidence / (parse + SHA-256 calls), CPU seconds")
    if args.target and cli_verify is not None and not cli_verify.seconds < TARGET_SECONDS:
        sys.exit(1)


if __name__ == "__main__":
    main()
