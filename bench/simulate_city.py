"""Benchmark: city-scale simulation throughput (events/s) and peak memory.

Run:  .venv/bin/python bench/simulate_city.py --days 7 [--format parquet] [--out /tmp/x]

Reports the one-off setup (building the city: 50,000 staff, 110,000 deaths a year) and the
streaming phase separately, in wall-clock and CPU seconds (CPU: all threads of the process),
the peak resident memory and the load average of the machine before and after.

- ``streaming_*``: from the end of day 1 to the end of the run, including the final flush
  and the small tables written at the end (what a full-year run is dominated by).
- ``steady_*``: between the progress marks of day 2 and the last day, i.e. the per-day cost
  with the pipeline full (at most two days are in flight behind the mark, a constant lag),
  without the one-off tail; use it to extrapolate short runs (the per-day cost is flat).

- ``stage_cpu_s_per_day``: thread CPU time per simulated day of each pipeline stage (main
  thread generating, worker rendering Arrow batches, worker encoding the file), which the
  load of a shared machine disturbs far less than wall time; ``two_idle_cores_bound_events_per_s``
  is the rate those stage costs allow on two otherwise idle cores, events per day divided
  by max(slowest stage, total / 2). It is an estimate, not a measurement.

A full year is days=365; a shorter run is extrapolated from the steady rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from piguard.simulate import engine
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
    # The benchmark's own scratch folder: created on a fresh machine, emptied before a re-run.
    base.mkdir(parents=True, exist_ok=True)
    if out.exists():
        shutil.rmtree(out)
    marks: dict[str, float] = {}
    load_before = os.getloadavg()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()

    def progress(day: int, events: int) -> None:
        now = (time.perf_counter(), time.process_time(), float(events))
        if day == 1:
            # Day 1 includes the one-off setup; the streaming rate is measured from here.
            marks["wall1"], marks["cpu1"], marks["events1"] = now
        if day == 2:
            marks["wall2"], marks["cpu2"], marks["events2"] = now
        marks["wallN"], marks["cpuN"], marks["eventsN"] = now

    manifest = simulate(out=out, seed=args.seed, scale=args.scale, days=args.days, fmt=args.format, progress=progress)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    events = manifest["counts"]["events"]
    stream_events = events - marks["events1"]
    stream_wall = wall - (marks["wall1"] - wall0)
    stream_cpu = cpu - (marks["cpu1"] - cpu0)
    per_day = stream_events / max(1, args.days - 1)
    steady: dict[str, float] = {}
    if args.days >= 4:
        steady_events = marks["eventsN"] - marks["events2"]
        steady["steady_events_per_s_wall"] = round(steady_events / (marks["wallN"] - marks["wall2"]))
        steady["steady_events_per_s_cpu"] = round(steady_events / (marks["cpuN"] - marks["cpu2"]))
        steady["tail_wall_s"] = round(wall - (marks["wallN"] - wall0), 1)
    stages = {k: round(v / args.days, 3) for k, v in engine.STAGE_CPU.items()}
    bound = max(max(stages.values()), sum(stages.values()) / 2)
    summary = {
        "scale": args.scale,
        "days": args.days,
        "format": args.format,
        "events": events,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "setup_and_day1_wall_s": round(marks["wall1"] - wall0, 1),
        "streaming_events_per_s_wall": round(stream_events / stream_wall),
        "streaming_events_per_s_cpu": round(stream_events / stream_cpu),
        **steady,
        "stage_cpu_s_per_day": stages,
        "two_idle_cores_bound_events_per_s": round(events / args.days / bound),
        "events_per_day": round(per_day),
        "extrapolated_year_events": round(per_day * 365),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "output_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    if args.out is None:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
