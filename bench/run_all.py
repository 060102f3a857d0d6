"""Run every benchmark one after another (``make bench``); results are printed and kept in bench/results/.

    .venv/bin/python -m bench.run_all            # the quick sizes (about ten minutes on 2 cores)
    .venv/bin/python -m bench.run_all --full     # the sizes the targets in docs/benchmarks.md name
    .venv/bin/python -m bench.run_all --only guarded_read ledger_append

Each benchmark runs in its own process (a fresh interpreter per measurement, so one cannot warm
or starve another) and measures its own baseline in the same run; the machine is noisy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Bench:
    """One benchmark script with its quick and full arguments."""

    name: str
    quick: tuple[str, ...]
    full: tuple[str, ...]


BENCHES = (
    Bench("guarded_read", ("--seconds", "3"), ("--seconds", "10")),
    Bench("ledger_append", ("--events", "20000"), ("--events", "100000")),
    Bench("ledger_proofs", (), ("--target",)),
    Bench("ledger_verify", (), ("--target",)),
    Bench("ledger_evidence", (), ("--target",)),
    Bench("pi_eval", ("--no-presidio", "--limit", "300"), ()),
    Bench("pi_throughput", ("--no-presidio", "--mb", "1"), ()),
    Bench("pi_long_lines", ("--check", "--sizes", "0.5", "1", "2"), ("--check",)),
    Bench("pi_columns", ("--rows", "100000"), ("--rows", "1000000")),
    Bench("pi_redact", ("--rows", "5000"), ("--rows", "100000")),
    Bench("simulate_city", ("--days", "1", "--out", "/tmp/piguard-bench-sim"), ("--days", "7")),
    Bench("detect_scale", ("--events", "1000000"), ("--events", "100000000")),
)


def main() -> int:
    """Run the selected benchmarks and report which failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the target sizes (hours for detect_scale)")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names to run")
    args = parser.parse_args()
    unknown = set(args.only or ()) - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    console = Console()
    chosen = []
    for bench in BENCHES:
        if args.only is not None and bench.name not in args.only:
            continue
        if not (ROOT / "bench" / f"{bench.name}.py").exists():
            console.print(f"[yellow]skipped {bench.name}: bench/{bench.name}.py is missing[/]")
            continue
        chosen.append(bench)
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
    ) as progress:
        overall = progress.add_task("benchmarks", total=len(chosen))
        for bench in chosen:
            progress.update(overall, description=f"running {bench.name}")
            command = [sys.executable, f"bench/{bench.name}.py", *(bench.full if args.full else bench.quick)]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - started
            output = done.stdout + (f"\n[stderr]\n{done.stderr}" if done.returncode else "")
            (RESULTS / f"{bench.name}.txt").write_text(f"$ {' '.join(command[1:])}\n{output}", encoding="utf-8")
            status = "[green]ok[/]" if done.returncode == 0 else f"[red]failed (exit {done.returncode})[/]"
            progress.console.print(f"[bold]{bench.name}[/] {status} in {seconds:.0f} s")
            progress.console.print(done.stdout.rstrip(), markup=False, highlight=False)
            if done.returncode:
                failed.append(bench.name)
            progress.advance(overall)
    if failed:
        console.print(f"[red]failed:[/] {', '.join(failed)} (see bench/results/<name>.txt)")
        return 1
    console.print(f"all {len(chosen)} benchmarks ran; outputs in {RESULTS.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
