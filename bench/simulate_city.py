"""Benchmark: city-scale simulation throughput (events/s) and peak memory.

Run:  .venv/bin/python bench/simulate_city.py --days 7 [--format parquet] [--out /tmp/x]

Reports the one-off setup (building the city: 50,000 staff, 110,000 deaths a year) and the
streaming phase separately, in wall-clock and CPU seconds, and the peak resident memory.
A full year is days=365; a shorter run is extrapolated (the per-day cost is flat).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from piguard.simulate.engine import simulate


def main() -> None:
    """Run the benchmark and print a JSON summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", default="city")
    parser.add_argument("--format", default="parquet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="piguard-bench-"))
    out = base / "run"
    marks: dict[str, float] = {}
    cpu0 = time.process_time()
    wall0 = time.perf_counter()

    def progress(day: int, events: int) -> None:
        if day == 1:
            # Day 1 includes the one-off setup; the streaming rate is measured from here.
            marks["wall1"], marks["cpu1"], marks["events1"] = (
                time.perf_counter(), time.process_time(), float(events))

    manifest = simulate(out=out, seed=args.seed, scale=args.scale, days=args.days,
                        fmt=args.format, progress=progress)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    events = manifest["counts"]["events"]
    stream_events = events - marks["events1"]
    stream_wall = wall - (marks["wall1"] - wall0)
    stream_cpu = cpu - (marks["cpu1"] - cpu0)
    per_day = stream_events / max(1, args.days - 1)
    summary = {
        "scale": args.scale, "days": args.days, "format": args.format, "events": events,
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "setup_and_day1_wall_s": round(marks["wall1"] - wall0, 1),
        "streaming_events_per_s_wall": round(stream_events / stream_wall),
        "streaming_events_per_s_cpu": round(stream_events / stream_cpu),
        "events_per_day": round(per_day),
        "extrapolated_year_events": round(per_day * 365),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "output_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
    }
    print(json.dumps(summary, indent=2))
    if args.out is None:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
