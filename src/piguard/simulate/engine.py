"""The simulation run: day-by-day streaming of events and context into an output directory.

Each simulated day is one chunk: its workflows and background are generated as numpy
blocks, merged with events scheduled earlier for that day (a death's workflow spans weeks),
sorted by time, numbered and written. Memory stays bounded by one day plus the pending
future events, whatever the length of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from piguard.errors import InputError
from piguard.interchange.context import OrgRow, UserRow, write_table
from piguard.interchange.labels import (
    Complaint,
    Label,
    MaliciousEvent,
    write_complaints,
    write_labels,
    write_malicious_events,
)
from piguard.interchange.tabular import BatchWriter
from piguard.simulate import background, context_out
from piguard.simulate.calls import day_calls
from piguard.simulate.city import City, build_city, check_parameters
from piguard.simulate.columns import Block, concat
from piguard.simulate.export import to_batch, warm
from piguard.simulate.scales import get_scale
from piguard.simulate.scenarios import SCENARIOS, run_scenarios
from piguard.simulate.workflows import (
    DAY,
    HOUR,
    call_events,
    death_workflows,
    index_deaths,
    other_call_events,
    schedule_reports,
)
from piguard.simulate.world import World, build_world, seconds

FORMATS = ("jsonl", "parquet")
GENERATOR_VERSION = "1"
# CPU seconds of each pipeline stage in the last run of this process (for the benchmark):
# "generate" is the main thread's day loop, "render" and "encode" the two worker threads.
STAGE_CPU: dict[str, float] = {}
_T = TypeVar("_T")


@dataclass
class RunStats:
    """Counts gathered while streaming."""

    events: int = 0
    malicious: int = 0
    per_scenario: dict[str, int] = field(default_factory=dict)
    first_malicious: dict[tuple[int, int], int] = field(default_factory=dict)


def check_output(out: Path) -> None:
    """Refuse an output directory that holds files, or whose parent cannot be written."""
    if out.exists() and not out.is_dir():
        raise InputError("exists and is a file, not a directory; choose a new directory", where=str(out))
    if out.exists() and any(out.iterdir()):
        raise InputError("output directory exists and is not empty", where=str(out))
    # Missing parent folders are created (`--out runs/demo` in a fresh checkout); the nearest
    # one that exists must be a writable folder.
    nearest = out.resolve().parent
    while not nearest.exists():
        nearest = nearest.parent
    if not nearest.is_dir():
        raise InputError("is a file, not a directory, so the output cannot be made under it", where=str(nearest))
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise InputError("directory is not writable", where=str(nearest))


def validate_request(*, out: Path, seed: int, scale: str, days: int | None, fmt: str) -> int:
    """Check every parameter before anything is written; returns the number of days."""
    config = get_scale(scale)
    days = config.default_days if days is None else days
    check_parameters(seed=seed, days=days)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", where="--format")
    check_output(out)
    return days


def simulate(
    *,
    out: Path,
    seed: int = 0,
    scale: str = "demo",
    days: int | None = None,
    scenarios: tuple[str, ...] = SCENARIOS,
    fmt: str = "jsonl",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Generate the city and write every output file into ``out`` atomically; returns the manifest."""
    days = validate_request(out=out, seed=seed, scale=scale, days=days, fmt=fmt)
    tmp = out.resolve().parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        raise InputError(f"cannot create the output directory ({exc.strerror})", where=str(out)) from None
    try:
        with _terminate_as_exit():
            manifest = _run(tmp, seed=seed, scale=scale, days=days, scenarios=scenarios, fmt=fmt, progress=progress)
            if out.exists():
                out.rmdir()
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for name in manifest["scenarios_without_labels"]:
        sys.stderr.write(f"warning: scenario {name!r} produced no labelled insider in this run "
                         "(too short a period or too small a city?)\n")
    return manifest


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    # SIGTERM raises SystemExit like Ctrl-C raises KeyboardInterrupt, so the partial directory
    # is removed; only the main thread can install a handler.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(
    tmp: Path,
    *,
    seed: int,
    scale: str,
    days: int,
    scenarios: tuple[str, ...],
    fmt: str,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    city = build_city(seed=seed, scale=scale, days=days)
    w = build_world(city)
    d = index_deaths(w)
    schedule_reports(np.random.default_rng(np.random.SeedSequence([seed, 30])), w, d)
    warm(w)
    slots = background.build_slots(np.random.default_rng([seed, 10]), w)
    outcome = run_scenarios(w, d, scenarios, seed=seed)
    extras = outcome.extras
    pending = _Pending()
    pending.add(concat(outcome.blocks))
    text = fmt == "jsonl"
    ctx_ext = "csv" if text else "parquet"
    stats = RunStats()
    malicious: list[tuple[str, str]] = []
    crews, vehicle_terminal = _crew_arrays(w)
    death_calls = _death_calls(w)
    canary = d.canary
    ctx = context_out.ContextWriters(tmp / "context", ctx_ext, w, text_times=text)
    hospitals = [o for o in city.organisations if o.org_type == "hospital"]
    with BatchWriter(tmp / f"events.{fmt}", _schema(text)) as events, ctx, _Background(events) as writer:
        ctx.deaths(d)
        STAGE_CPU.clear()
        loop_cpu = time.thread_time()
        for day in range(days):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 20, day]))
            begin, length = w.on_shift(day)
            blocks: list[Block] = []
            login_block, users, start, end = background.logins(rng, w, day, begin, length)
            blocks.append(login_block)
            ctx.shifts(users, start, end)
            care, rels, stays = background.inpatients(rng, w, slots, day, begin, length)
            blocks.append(care)
            ctx.relationships(rels)
            ctx.living(stays.subj, stays.district, rng)
            anchored = np.flatnonzero((d.anchor_day == day) & ~canary)
            if len(anchored):
                flows, rels = death_workflows(rng, w, d, anchored)
                blocks.append(flows)
                ctx.relationships(rels)
            if day in death_calls:
                flows, rels = call_events(rng, w, **death_calls[day])
                blocks.append(flows)
                ctx.relationships(rels)
            calls = day_calls(
                seed=seed, scale=w.scale, dists=city.districts, hospitals=hospitals, vehicles=city.vehicles, day=day
            )
            flows, rels = other_call_events(rng, w, calls, crews, vehicle_terminal)
            blocks.append(flows)
            ctx.relationships(rels)
            ctx.callers(calls, rng)
            blocks.append(background.statistics(rng, w, day, begin, extras, _deaths_by_district(w, d, day)))
            for item in blocks:
                pending.add(item)
            # Anything scheduled before today (only possible on day 0) is emitted with day 0;
            # accesses after the period are not part of this run.
            today = pending.pop_until(day)
            # One int64 sort key (time, then user) is much faster than a lexsort.
            order = np.argsort(today.cols["t"] * (1 << 20) + today.cols["user"], kind="stable")
            today = today.take(order)
            _emit(w, today, writer, stats, malicious, extras, text)
            if progress is not None:
                progress(day + 1, stats.events)
        STAGE_CPU["generate"] = time.thread_time() - loop_cpu
    return _finish(tmp, city, w, outcome, stats, malicious, ctx.counts, seed=seed, scenarios=scenarios, fmt=fmt)


class _Pending:
    """Events waiting for their day, bucketed by day so each day is taken without copying."""

    def __init__(self) -> None:
        self.buckets: dict[int, list[Block]] = {}

    def add(self, item: Block) -> None:
        """Schedule the events of ``item`` under their days."""
        if not len(item):
            return
        days = item.cols["t"] // DAY
        low, high = int(days.min()), int(days.max())
        if low == high:
            self.buckets.setdefault(low, []).append(item)
            return
        order = np.argsort(days, kind="stable")
        sorted_days = days[order]
        bounds = np.flatnonzero(np.diff(sorted_days)) + 1
        for part in np.split(order, bounds):
            self.buckets.setdefault(int(days[part[0]]), []).append(item.take(part))

    def pop_until(self, day: int) -> Block:
        """All events of ``day`` and any earlier day still waiting."""
        keys = [k for k in self.buckets if k <= day]
        return concat([b for k in sorted(keys) for b in self.buckets.pop(k)])


class _Background:
    """Renders and writes the days on two worker threads, in order, while the next is generated.

    A three-stage pipeline: the main thread generates day d+2 while one worker renders day
    d+1 into an Arrow batch and the other encodes day d into the file. numpy, Arrow and
    Parquet release the GIL for most of that work, so both cores are used. At most two days
    are in flight, which bounds memory.
    """

    def __init__(self, writer: BatchWriter) -> None:
        self.writer = writer
        self.renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulate-render")
        self.encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulate-writer")
        self.in_flight: deque[Future[None]] = deque()

    def __enter__(self) -> _Background:
        return self

    def write(self, render: Callable[[], pa.RecordBatch]) -> None:
        """Queue rendering and writing a batch after the previous ones (errors surface here)."""
        while len(self.in_flight) >= 2:
            self.in_flight.popleft().result()
        rendered = self.renderer.submit(_timed, "render", render)
        # The encoder is one thread taking tasks in submission order, so batches stay in order.
        self.in_flight.append(self.encoder.submit(_timed, "encode", lambda: self.writer.write(rendered.result())))

    def __exit__(self, *exc: object) -> None:
        try:
            while self.in_flight:
                self.in_flight.popleft().result()
        finally:
            for future in self.in_flight:
                future.cancel()
            self.renderer.shutdown(wait=True)
            self.encoder.shutdown(wait=True)


def _timed(stage: str, work: Callable[[], _T]) -> _T:
    # Run ``work`` and add its thread CPU time to STAGE_CPU[stage] (one thread per stage).
    start = time.thread_time()
    try:
        return work()
    finally:
        STAGE_CPU[stage] = STAGE_CPU.get(stage, 0.0) + time.thread_time() - start


def _schema(text: bool) -> pa.Schema:
    from piguard.simulate.export import event_schema

    return event_schema(text_times=text)


def _emit(
    w: World,
    today: Block,
    writer: _Background,
    stats: RunStats,
    malicious: list[tuple[str, str]],
    extras: list[tuple[str, int, tuple[str, ...]]],
    text: bool,
) -> None:
    if not len(today):
        return
    first = stats.events + 1
    writer.write(lambda: to_batch(w, today, first_id=first, extras=extras, text_times=text))
    bad = np.flatnonzero(today.cols["scenario"] > 0)
    if len(bad):
        # The same ids export.event_ids renders: events are numbered in written order.
        ids = [f"e{first + int(k):011d}" for k in bad]
        for k, event_id in zip(bad, ids, strict=True):
            code = int(today.cols["scenario"][k])
            name = SCENARIOS[code - 1]
            malicious.append((event_id, name))
            stats.per_scenario[name] = stats.per_scenario.get(name, 0) + 1
            key = (int(today.cols["user"][k]), code)
            stats.first_malicious.setdefault(key, int(today.cols["t"][k]))
    stats.events += len(today)
    stats.malicious += len(bad)


def _crew_arrays(w: World) -> tuple[np.ndarray, np.ndarray]:
    # (vehicle, roster phase, 2) staff indices of each crew, and each vehicle's terminal.
    vehicles = w.city.vehicles
    crews = np.full((len(vehicles), 3, 2), -1, np.int64)
    slot = {v.terminal_id: k for k, v in enumerate(vehicles)}
    for i, s in enumerate(w.city.staff):
        if s.vehicle_terminal is not None:
            row = crews[slot[s.vehicle_terminal], s.roster.offset]
            row[int(np.argmax(row < 0))] = i
    terminal = np.array([w.terminals.index(v.terminal_id) for v in vehicles], np.int64)
    return crews, terminal


def _death_calls(w: World) -> dict[int, dict[str, np.ndarray]]:
    # The death-linked dispatches of the city, grouped by the day of the call.
    death_index = {sid: k for k, sid in enumerate(w.death_ids)}
    by_day: dict[int, list[tuple[int, ...]]] = {}
    for j, dp in enumerate(x for x in w.city.dispatches if x.dispatch_id.startswith("dp")):
        crew = [w.staff_index[s] for s in dp.crew_ids[:2]] + [-1, -1]
        row = (
            seconds(w.city, dp.time),
            seconds(w.city, dp.assigned),
            seconds(w.city, dp.en_route),
            seconds(w.city, dp.on_scene),
            seconds(w.city, dp.closed),
            crew[0],
            crew[1],
            w.terminals.index(dp.terminal_id),
            death_index[dp.subject_id or ""],
            j,
        )
        by_day.setdefault(max(0, row[0] // DAY), []).append(row)
    out: dict[int, dict[str, np.ndarray]] = {}
    for day, rows in by_day.items():
        a = np.array(rows, np.int64)
        out[day] = {
            "call": a[:, 0],
            "assign": a[:, 1],
            "en_route": a[:, 2],
            "on_scene": a[:, 3],
            "closed": a[:, 4],
            "crew": a[:, 5:7],
            "terminal": a[:, 7],
            "subj": a[:, 8],
            "res": a[:, 9],
        }
    return out


def _deaths_by_district(w: World, d: Any, day: int) -> dict[str, list[str]]:
    # Yesterday's deaths whose report exists when the coders search (from 09:00).
    written = d.created <= day * DAY + 9 * HOUR
    found = np.flatnonzero((d.t >= (day - 1) * DAY) & (d.t < day * DAY) & ~d.canary & written)
    out: dict[str, list[str]] = {}
    for k in found:
        out.setdefault(w.city.deaths[int(k)].district, []).append(w.death_ids[int(k)])
    return out


def _users(city: City) -> list[UserRow]:
    rows: list[UserRow] = []
    org_district = {o.org_id: o.district for o in city.organisations}
    hired = city.start - timedelta(days=365)
    for s in city.staff:
        until: datetime | None = s.transfer.time if s.transfer else None
        rows.append(
            UserRow(
                user_id=s.staff_id,
                role=s.role,
                org_id=s.org_id,
                district=org_district[s.org_id],
                home_compound=s.home_compound,
                surname=s.surname,
                active_from=hired,
                active_to=until,
            )
        )
        if s.transfer:
            rows.append(
                UserRow(
                    user_id=s.staff_id,
                    role=s.role,
                    org_id=s.transfer.to_org_id,
                    district=org_district[s.transfer.to_org_id],
                    home_compound=s.home_compound,
                    surname=s.surname,
                    active_from=s.transfer.time,
                )
            )
    return rows


def _finish(
    tmp: Path,
    city: City,
    w: World,
    outcome: Any,
    stats: RunStats,
    malicious: list[tuple[str, str]],
    ctx_counts: dict[str, int],
    *,
    seed: int,
    scenarios: tuple[str, ...],
    fmt: str,
) -> dict[str, Any]:
    ext = "csv" if fmt == "jsonl" else "parquet"
    counts = dict(ctx_counts)
    counts["users"] = write_table(tmp / "context" / f"users.{ext}", _users(city), table="users")
    counts["orgs"] = write_table(
        tmp / "context" / f"orgs.{ext}",
        [OrgRow(org_id=o.org_id, org_type=o.org_type, district=o.district, name=o.name) for o in city.organisations],
        table="orgs",
    )
    labels = sorted(
        (
            Label(
                user_id=w.staff_ids[user],
                scenario=SCENARIOS[code - 1],
                first_malicious_time=city.start + timedelta(seconds=t),
            )
            for (user, code), t in stats.first_malicious.items()
        ),
        key=lambda label: (label.scenario, label.user_id),
    )
    counts["labels"] = write_labels(tmp / "labels.csv", labels)
    counts["malicious_events"] = write_malicious_events(
        tmp / "malicious_events.csv", (MaliciousEvent(event_id=e, scenario=s) for e, s in malicious)
    )
    complaints = sorted(outcome.complaints, key=lambda c: (c[1], c[0]))
    counts["complaints"] = write_complaints(
        tmp / "complaints.csv",
        (
            Complaint(subject_id=subject, call_time=city.start + timedelta(seconds=t), caller=caller)
            for subject, t, caller in complaints
        ),
    )
    counts["events"] = stats.events
    counts["deaths"] = len(city.deaths)
    counts["staff"] = len(city.staff)
    manifest: dict[str, Any] = {
        "generator": "piguard simulate",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": city.scale,
        "days": city.days,
        "start": city.start.isoformat(),
        "end": city.end.isoformat(),
        "scenarios": list(scenarios),
        "format": fmt,
        "counts": counts,
        "malicious_events_per_scenario": stats.per_scenario,
        # Requested scenarios that found no victim or insider (e.g. too few days for them).
        "scenarios_without_labels": [s for s in scenarios if s not in stats.per_scenario],
        "files": {
            "events": f"events.{fmt}",
            "context": "context/",
            "labels": "labels.csv",
            "malicious_events": "malicious_events.csv",
            "complaints": "complaints.csv",
        },
        "synthetic": True,
        "note": "Synthetic data: identities are valid in form but randomly composed.",
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest
