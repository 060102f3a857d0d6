"""Detection throughput and peak memory at scale (DuckDB engine).

Generates a synthetic city log of N events with DuckDB SQL (Parquet, FORMATS.md §1 columns;
~98 % of accesses backed by a relationship, a 2 % unexplained background, one broker), then
times ``run_detection`` on it in a fresh process and reports events/s and peak RSS.

    .venv/bin/python bench/detect_scale.py --events 10000000 --dir /tmp/detbench
"""

# ruff: noqa: S608  (SQL built from integers chosen on the command line and a temp path)

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def generate(directory: Path, n_events: int) -> None:
    """Write events.parquet and context/*.parquet for ``n_events`` events."""
    directory.mkdir(parents=True, exist_ok=True)
    ctx = directory / "context"
    ctx.mkdir(exist_ok=True)
    users = max(200, n_events // 2000)
    subjects = max(1000, n_events // 1000)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    start = "TIMESTAMPTZ '2025-01-01 00:00:00+08'"
    con.execute(f"""COPY (SELECT 'u' || i AS user_id, CASE WHEN i % 10 < 6 THEN 'physician' ELSE 'nurse' END AS role,
        'o' || (i % 100) AS org_id, 'd' || (i % 16) AS district, 'c' || (i % 5000) AS home_compound,
        'S' || (i % 300) AS surname, '2024-01-01T00:00:00+08:00' AS active_from
        FROM range({users}) t(i)) TO '{ctx}/users.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT 'o' || i AS org_id, 'hospital' AS org_type, 'd' || (i % 16) AS district,
        'Hospital ' || i AS name FROM range(100) t(i)) TO '{ctx}/orgs.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT 's' || i AS subject_id,
        strftime({start} + to_seconds(CAST(i AS BIGINT) * 31536000 // {subjects}),
          '%Y-%m-%dT%H:%M:%S+00:00') AS death_time,
        'd' || ((i * 7) % 16) AS district, 'c' || ((i * 13) % 5000) AS compound, 'S' || ((i * 11) % 300) AS surname,
        CASE WHEN i % 50000 = 7 THEN 1 ELSE 0 END AS is_canary
        FROM range({subjects}) t(i)) TO '{ctx}/subjects.parquet' (FORMAT parquet)""")
    # Three care relationships per subject, from death to 30 days after.
    con.execute(f"""COPY (SELECT 'u' || ((i * 7 + k * 101) % {users}) AS user_id, 's' || i AS subject_id,
        CASE k WHEN 0 THEN 'certifier' WHEN 1 THEN 'attending' ELSE 'coder' END AS kind,
        strftime({start} + to_seconds(CAST(i AS BIGINT) * 31536000 // {subjects} - 3600), '%Y-%m-%dT%H:%M:%S+00:00')
          AS valid_from,
        strftime({start} + to_seconds(CAST(i AS BIGINT) * 31536000 // {subjects} + 30 * 86400),
          '%Y-%m-%dT%H:%M:%S+00:00') AS valid_to
        FROM range({subjects}) t(i), range(3) r(k)) TO '{ctx}/relationships.parquet' (FORMAT parquet)""")
    con.execute(f"""COPY (
      SELECT 'e' || i AS event_id,
        strftime({start} + to_seconds(CAST(s AS BIGINT) * 31536000 // {subjects} + (i % 997) * 2400),
          '%Y-%m-%dT%H:%M:%S+00:00') AS time,
        CASE WHEN i % 50 = 0 THEN 'u' || ((i // 50) % {users})
             WHEN i % 100000 = 1 THEN 'u3' ELSE 'u' || ((s * 7 + (i % 3) * 101) % {users}) END AS user_id,
        'physician' AS role, 'o' || ((s * 7 + (i % 3) * 101) % {users} % 100) AS org_id,
        'ws-' || ((s * 7 + (i % 3) * 101) % {users}) AS terminal_id, 'read' AS action,
        'death_report' AS resource_type, 's' || s AS subject_id,
        CASE WHEN i % 4 = 0 THEN ['death.cause', 'relative.phone'] ELSE ['death.cause'] END AS fields,
        'TREAT' AS purpose, 'allowed' AS outcome
      FROM (SELECT i, (i * 2654435761) % {subjects} AS s FROM range({n_events}) t(i)))
      TO '{directory}/events.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    con.close()


def measure(directory: Path) -> dict[str, float]:
    """Run detection in this process; events/s and peak RSS."""
    from piguard.detect import Options, run_detection

    began = time.perf_counter()
    run = run_detection(directory / "events.parquet", directory / "context", options=Options(),
                        work_dir=directory)
    seconds = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"events": run.report.events_read, "seconds": round(seconds, 1),
            "events_per_second": round(run.report.events_read / seconds),
            "peak_rss_gib": round(peak_kib / 1024 / 1024, 2), "alerts": len(run.report.alerts),
            "explained_fraction": run.report.explained_fraction}


def main() -> None:
    """Generate (unless present) and measure in a child process, so peak RSS is detection's own."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/piguard-detect-bench"))
    parser.add_argument("--measure-only", action="store_true")
    args = parser.parse_args()
    target = args.dir / str(args.events)
    if args.measure_only:
        print(json.dumps(measure(target)))
        return
    if not (target / "events.parquet").exists():
        began = time.perf_counter()
        generate(target, args.events)
        print(f"generated {args.events} events in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    out = subprocess.run([sys.executable, __file__, "--events", str(args.events), "--dir", str(args.dir),
                          "--measure-only"], check=True, capture_output=True, text=True)
    print(out.stdout.strip())


if __name__ == "__main__":
    main()
