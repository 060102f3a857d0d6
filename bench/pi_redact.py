"""Benchmark: redacting a synthetic death-register CSV, identifiers only and all entities.

    .venv/bin/python bench/pi_redact.py [--rows 20000]

Uses ``pi_columns``' generator (names, resident IDs, mobiles, landlines, addresses, birth
dates, amounts, notes). As a baseline it times one csv-module copy of the same file (read every
row, write it back), the floor for any redaction that keeps the format, and reports rows per
second and the ratio to that copy. No target is set; the numbers go to
docs/benchmarks-discovery.md.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pi_columns import generate

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.registry import IDENTIFIER_ENTITIES
from piguard.discover.redact import Redactor, redact_file


def copy_csv(source: Path, target: Path) -> None:
    """The baseline: every row read and written back with the csv module."""
    with source.open(encoding="utf-8", newline="") as fin, target.open("w", encoding="utf-8", newline="") as fout:
        csv.writer(fout).writerows(csv.reader(fin))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "deaths.csv"
        generate(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        t0 = time.perf_counter()
        copy_csv(source, Path(tmp) / "copy.csv")
        baseline = time.perf_counter() - t0
        print(f"{args.rows} rows, {size_mb:.1f} MB; baseline csv copy {baseline:.2f} s")
        for label, entities in (("identifiers only", IDENTIFIER_ENTITIES), ("all entities", None)):
            analyzer = Analyzer(entities=entities)
            t0 = time.perf_counter()
            target = Path(tmp) / f"out-{len(label)}.csv"
            stats = redact_file(source, target, analyzer=analyzer, redactor=Redactor("mask"))
            elapsed = time.perf_counter() - t0
            print(
                f"{label:17} {elapsed:6.2f} s  {args.rows / elapsed:8.0f} rows/s  {size_mb / elapsed:5.2f} MB/s  "
                f"{elapsed / baseline:6.1f}x the copy  ({stats.values_changed} values changed)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
