"""Inclusion and consistency proof generation on a large log (issue target: 10M leaves, <= 2 ms).

    .venv/bin/python bench/ledger_proofs.py                     # smoke: 100,000 entries
    .venv/bin/python bench/ledger_proofs.py --target            # 10,000,000 entries (~5 GB SQLite file)
    .venv/bin/python bench/ledger_proofs.py --target --workdir var/bench-10m   # keep/reuse the log

The log is built with the pure core and bulk inserts (``ledger_common.build_sqlite_log``: real
canonical events, every interior node, a signed checkpoint every 1,000 entries). Then
``service.inclusion_proof`` and ``service.consistency_proof`` are timed call by call inside one
open transaction, as the API calls them, at random positions: half against the whole tree, half
against a random earlier size. Every proof of the first samples is verified against the roots.

Baselines in the same run, over the same file: back to back with each call (alternating which
goes first, since the first pays the page-cache misses), the same nodes read with the raw sqlite3
module, one prepared point lookup per node (the database's own cost); and verifying the proof.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ledger_common import percentile, prepare_log, sqlite_settings

from piguard.db import make_engine, make_session_factory
from piguard.ledger import service
from piguard.ledger.merkle import (
    consistency_spans,
    inclusion_spans,
    nodes_for,
    verify_consistency,
    verify_inclusion,
)

TARGET_ENTRIES = 10_000_000
TARGET_MS = 2.0
WARMUP = 200
CHECKED = 50


Spans = Callable[[int, int], list[tuple[int, int]]]


def _timed(
    samples: list[tuple[int, int]], call: Callable[[int, int], object], raw: sqlite3.Connection, spans: Spans
) -> tuple[list[float], list[float]]:
    """Per sample: the service call and the raw reads of the same nodes, back to back, alternating
    which goes first (the first pays the page-cache misses; the machine's noise hits both alike)."""
    node_sql = "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?"
    leaf_sql = "SELECT leaf_hash FROM ledger_entries WHERE idx = ?"
    service_times: list[float] = []
    raw_times: list[float] = []

    def read_raw(nodes: list[tuple[int, int]]) -> None:
        for level, idx in nodes:
            if level == 0:
                row = raw.execute(leaf_sql, (idx,)).fetchone()
            else:
                row = raw.execute(node_sql, (level, idx)).fetchone()
            assert row is not None

    for number, (a, b) in enumerate(samples):
        nodes = sorted(nodes_for(spans(a, b)))
        # Whichever reads the nodes first pays the cache misses: alternate who goes first.
        steps = [("service", lambda: call(a, b)), ("raw", lambda: read_raw(nodes))]  # noqa: B023
        for kind, step in steps if number % 2 else reversed(steps):
            start = time.perf_counter()
            step()
            (service_times if kind == "service" else raw_times).append(time.perf_counter() - start)
    return service_times[WARMUP:], raw_times[WARMUP:]


def _ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5) * 1e3:6.3f} ms  p99 {percentile(values, 0.99) * 1e3:6.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--target", action="store_true", help=f"{TARGET_ENTRIES:,} entries; exit 1 above the target")
    parser.add_argument("--workdir", type=Path, help="keep the built log here (reused when its size matches)")
    parser.add_argument("--samples", type=int, default=2000, help="timed calls of each kind")
    args = parser.parse_args()
    size = TARGET_ENTRIES if args.target else args.entries
    rng = random.Random(9162)

    def inclusion_sample() -> tuple[int, int]:
        tree = size if rng.random() < 0.5 else rng.randint(1, size)
        return rng.randrange(tree), tree

    def consistency_sample() -> tuple[int, int]:
        size2 = size if rng.random() < 0.5 else rng.randint(1, size)
        return rng.randint(1, size2), size2

    count = args.samples + WARMUP
    inclusions = [inclusion_sample() for _ in range(count)]
    consistencies = [consistency_sample() for _ in range(count)]
    with prepare_log(args.workdir, size) as built:
        settings = sqlite_settings(built.path.parent)
        engine = make_engine(settings)
        with make_session_factory(engine)() as session, session.begin():
            assert service.count(session=session) == size
            assert service.root(session=session) == built.root

            def inclusion(index: int, tree: int) -> object:
                return service.inclusion_proof(session=session, index=index, size=tree)

            def consistency(size1: int, size2: int) -> object:
                return service.consistency_proof(session=session, size1=size1, size2=size2)

            raw = sqlite3.connect(built.path)
            incl_times, raw_incl = _timed(inclusions, inclusion, raw, inclusion_spans)
            cons_times, raw_cons = _timed(consistencies, consistency, raw, consistency_spans)
            raw.close()
            verify_times = []
            for index, tree in inclusions[WARMUP : WARMUP + CHECKED]:
                proof = service.inclusion_proof(session=session, index=index, size=tree)
                leaf = service.read_leaf_hash(session=session, index=index)
                root = service.root(session=session, size=tree)
                start = time.perf_counter()
                verify_inclusion(leaf_hash=leaf, index=index, size=tree, proof=proof, root=root)
                verify_times.append(time.perf_counter() - start)
            for size1, size2 in consistencies[WARMUP : WARMUP + CHECKED]:
                proof = service.consistency_proof(session=session, size1=size1, size2=size2)
                verify_consistency(
                    size1=size1,
                    size2=size2,
                    proof=proof,
                    root1=service.root(session=session, size=size1),
                    root2=service.root(session=session, size=size2),
                )
        engine.dispose()
        megabytes = built.path.stat().st_size / 1e6
    print(
        f"entries={size:,} db={megabytes:,.0f}MB build={built.seconds:.1f}s samples={args.samples:,} "
        f"load={os.getloadavg()[0]:.1f} (2 cores)"
    )
    print(f"inclusion_proof    {_ms(incl_times)}   (target <= {TARGET_MS} ms)")
    print(f"consistency_proof  {_ms(cons_times)}   (target <= {TARGET_MS} ms)")
    print(f"raw sqlite3 reads  {_ms(raw_incl)}   baseline: the inclusion proofs' nodes, one lookup each")
    print(f"raw sqlite3 reads  {_ms(raw_cons)}   baseline: the consistency proofs' nodes")
    print(f"verify_inclusion   {_ms(verify_times)}   baseline: checking a proof (pure Python)")
    print(
        f"ratio              {percentile(incl_times, 0.5) / percentile(raw_incl, 0.5):6.2f} / "
        f"{percentile(cons_times, 0.5) / percentile(raw_cons, 0.5):.2f}   "
        "service / raw reads at p50 (inclusion / consistency)"
    )
    if args.target and not max(percentile(incl_times, 0.5), percentile(cons_times, 0.5)) * 1e3 <= TARGET_MS:
        sys.exit(1)


if __name__ == "__main__":
    main()
