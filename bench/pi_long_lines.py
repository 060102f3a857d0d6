"""Scanning time of pathological long lines: runs without digits and runs of figures.

    .venv/bin/python bench/pi_long_lines.py [--sizes 0.5 1 2 4] [--out bench/results/pi_long_lines.json]

Each shape is one line of the given sizes (MB), analysed as ``piguard scan`` analyses a line,
with the identifier entities. A linear scan takes about the same seconds per MB at every size;
a quadratic one (a region search restarted at each character of a run) takes twice as long per
MB each time the line doubles (eight times as long per MB at 4 MB as at 0.5 MB). ``--check``
exits 1 when a shape's seconds per MB at the largest size exceed ``--max-growth`` times those
at the smallest.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.registry import IDENTIFIER_ENTITIES

#: One repeated unit per shape: digitless runs (the audit's), then mixed runs with digits.
SHAPES = {
    "letters": "x",
    "dna": "ACGT",
    "dashes": "-",
    "words_joined": "abc-def_",
    "base64ish": "QWxhZGRpbjpvcGVu+/",
    "digits": "7",
    "letters_digits": "a1",
    "spaced_digits": "1 ",
    "cjk": "死亡医学证明",
}


def line(shape: str, megabytes: float) -> str:
    """A line of ``shape`` of about ``megabytes`` MB of UTF-8."""
    unit = SHAPES[shape]
    count = max(1, int(megabytes * 1_000_000 / len(unit.encode("utf-8"))))
    return unit * count


def seconds(analyzer: Analyzer, text: str, rounds: int) -> float:
    """Best CPU seconds of ``rounds`` analyses of ``text`` (noise only ever adds time)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        analyzer.analyze(text)
        best = min(best, time.process_time() - started)
    return best


def main() -> int:
    """Time every shape at every size and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0], help="line sizes in MB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/pi_long_lines.json"))
    parser.add_argument("--check", action="store_true", help="fail when time per MB grows with the line")
    parser.add_argument("--max-growth", type=float, default=3.0)
    args = parser.parse_args()
    analyzer = Analyzer(entities=IDENTIFIER_ENTITIES)
    analyzer.analyze("电话13812345678")  # warm caches
    sizes = sorted(args.sizes)
    results: dict[str, dict[str, object]] = {}
    failed: list[str] = []
    for shape in SHAPES:
        per_mb: list[float] = []
        rows = []
        for megabytes in sizes:
            text = line(shape, megabytes)
            size = len(text.encode("utf-8"))
            cpu = seconds(analyzer, text, args.rounds)
            per_mb.append(cpu / (size / 1e6))
            rows.append({"bytes": size, "cpu_seconds": round(cpu, 4), "mb_per_cpu_s": round(size / 1e6 / cpu, 2)})
        growth = per_mb[-1] / per_mb[0] if per_mb[0] else 1.0
        results[shape] = {"sizes": rows, "growth_per_mb": round(growth, 2)}
        if growth > args.max_growth:
            failed.append(shape)
        print(f"{shape:15} " + "  ".join(f"{r['mb_per_cpu_s']:>8} MB/s" for r in rows) + f"  growth {growth:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.check and failed:
        print(f"time per MB grows with the line: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
