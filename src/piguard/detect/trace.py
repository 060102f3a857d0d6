"""Leak-source tracing: who reached the families that later received marketing calls.

For every user (and terminal) the number of victims accessed in a window before the call is
compared with what their normal access volume would reach by chance: a hypergeometric tail
(population = records anyone accessed in the period, successes = victims, draws = distinct
records the suspect accessed), Bonferroni-corrected for the number of suspects tested. Only
accesses that could have shown the family's number count (``CONTACT``): the call needed it.
Calls made to a virtual contact handle name the person the handle was issued to directly.
"""

# ruff: noqa: S608  (SQL is assembled from constants and quote-escaped file paths)

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from piguard.detect.load import connect, load_events
from piguard.errors import InputError
from piguard.interchange.alerts import Suspect, TraceReport
from piguard.interchange.context import parse_row
from piguard.interchange.labels import Complaint, read_complaints
from piguard.interchange.tabular import read_rows
from piguard.interchange.times import OptTime

DEFAULT_WINDOW_DAYS = 30
MAX_SUSPECTS = 25
EVIDENCE = 50
# A marketing call needs the family's number: an access can be a leak source only if its
# screen showed relatives' contact details, or if the log does not say what it showed (no
# ``fields``). A clinical or coding screen without them cannot have leaked the number.
CONTACT = (
    "(fields IS NULL OR fields LIKE '%;relative.%' OR fields LIKE '%phone%' "
    "OR fields LIKE '%contact%' OR action = 'resolve_handle' OR resource_type = 'contact')"
)


class HandleRow(BaseModel):
    """One issued virtual contact handle (exported by the service)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    handle: str = Field(min_length=1, max_length=128)
    user_id: str = Field(min_length=1, max_length=128)
    subject_id: str | None = None
    issued_at: OptTime = None


def read_handles(path: Path) -> list[HandleRow]:
    """Read ``handles.csv`` (handle, user_id, subject_id, issued_at); errors name file and line."""
    return [parse_row(HandleRow, row) for row in read_rows(path)]


@dataclass(frozen=True, slots=True)
class TraceOptions:
    """Tracing parameters."""

    window_days: int = DEFAULT_WINDOW_DAYS
    max_suspects: int = MAX_SUSPECTS
    # Decoy (canary) subjects: a call to one proves a leak, so whoever opened it is named.
    canary_subjects: frozenset[str] = frozenset()


def trace(
    *,
    complaints: Sequence[Complaint],
    events: Sequence[Path],
    handles: Sequence[HandleRow] = (),
    options: TraceOptions | None = None,
    skip_invalid: bool = False,
    quarantine: Path | None = None,
) -> TraceReport:
    """Rank users, terminals and handle holders as the likely source of the complained calls."""
    options = options or TraceOptions()
    if options.window_days <= 0:
        raise InputError("the window must be at least one day")
    with tempfile.TemporaryDirectory(prefix="piguard-trace-") as spill:
        con = connect(temp_dir=Path(spill))
        try:
            stats = load_events(con, list(events), skip_invalid=skip_invalid, quarantine=quarantine)
            report = trace_loaded(con, complaints=complaints, handles=handles, options=options)
            return report.model_copy(
                update={
                    "events_read": stats.events_read,
                    "events_invalid": stats.events_invalid,
                    "input_rows": stats.input_rows,
                }
            )
        finally:
            con.close()


def trace_loaded(
    con: duckdb.DuckDBPyConnection,
    *,
    complaints: Sequence[Complaint],
    handles: Sequence[HandleRow] = (),
    options: TraceOptions | None = None,
) -> TraceReport:
    """Trace over the ``events`` table already loaded in ``con``."""
    options = options or TraceOptions()
    if not complaints:
        return TraceReport(complaints=0, suspects=())
    calls = pa.table(
        {
            "subject_id": [c.subject_id for c in complaints],
            "call_ts": pa.array(
                [c.call_time.astimezone(UTC).replace(tzinfo=None) for c in complaints], pa.timestamp("us")
            ),
        }
    )
    con.register("_calls", calls)
    window = f"INTERVAL {int(options.window_days)} DAYS"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE calls AS SELECT subject_id, min(call_ts) AS call_ts "
        "FROM _calls GROUP BY subject_id"
    )
    con.unregister("_calls")
    # Every record whose relatives' contact details a person could have passed on: opened
    # directly, or delivered by an export or print, on a screen that showed them (see CONTACT).
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE reach AS
SELECT event_id, ts, user_id, terminal_id, subject_id FROM events
WHERE subject_id IS NOT NULL AND outcome = 'allowed' AND {CONTACT}
UNION ALL
SELECT event_id, ts, user_id, terminal_id, unnest(string_split(result_ids, ';')) AS subject_id FROM events
WHERE result_ids IS NOT NULL AND outcome = 'allowed' AND action IN ('export', 'print') AND {CONTACT}
""")
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE span AS
SELECT min(call_ts) - {window} AS lo, max(call_ts) AS hi FROM calls
""")
    victims_total = len({c.subject_id for c in complaints})
    row = con.execute("""
SELECT count(DISTINCT r.subject_id) FROM reach r, span s WHERE r.ts >= s.lo AND r.ts <= s.hi AND r.subject_id <> ''
""").fetchall()[0]
    population = max(int(row[0]) if row else 0, victims_total)
    # A call to a canary proves a leak: whoever reached it (as any victim is counted) is named.
    called_canaries = frozenset(c.subject_id for c in complaints if c.subject_id in options.canary_subjects)
    suspects: list[Suspect] = []
    certain: set[tuple[str, str]] = set()
    for kind, column in (("user", "user_id"), ("terminal", "terminal_id")):
        ranked, named = _rank(
            con,
            kind=kind,
            column=column,
            window=window,
            population=population,
            victims_total=victims_total,
            options=options,
            canaries=called_canaries if kind == "user" else frozenset(),
        )
        suspects.extend(ranked)
        certain.update((kind, who) for who in named)
    suspects.extend(_handle_holders(complaints, handles, victims_total))
    # Canary openers first (the proof), then by score and p-value.
    suspects.sort(
        key=lambda s: (
            -s.score,
            (s.kind, s.id) not in certain,
            s.p_value if s.p_value is not None else 0.0,
            s.kind,
            s.id,
        )
    )
    issued = {h.handle for h in handles}
    return TraceReport(
        complaints=len(complaints),
        suspects=tuple(suspects),
        canary_calls=sum(1 for c in complaints if c.subject_id in options.canary_subjects),
        unknown_handles=sum(1 for c in complaints if c.handle and c.handle not in issued),
    )


def _rank(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    column: str,
    window: str,
    population: int,
    victims_total: int,
    options: TraceOptions,
    canaries: frozenset[str] = frozenset(),
) -> tuple[list[Suspect], frozenset[str]]:
    """Suspects of one kind, and those who reached a called canary (score 1, never cut off).

    A canary opener keeps the statistics of all their victims (``victims_accessed``,
    ``expected``, ``p_value``); the canary events lead their evidence. Every hit, canary or
    not, is an access in the window before that family's first call.
    """
    volumes = dict(
        con.execute(f"""
SELECT r.{column}, count(DISTINCT r.subject_id) FROM reach r, span s
WHERE r.ts >= s.lo AND r.ts <= s.hi AND r.{column} IS NOT NULL GROUP BY r.{column}
""").fetchall()
    )
    hits = con.execute(f"""
SELECT r.{column} AS who, r.subject_id, r.event_id, r.ts FROM reach r
JOIN calls c ON c.subject_id = r.subject_id
WHERE r.ts <= c.call_ts AND r.ts >= c.call_ts - {window} AND r.{column} IS NOT NULL
ORDER BY r.ts
""").fetchall()
    victims: dict[str, set[str]] = defaultdict(set)
    evidence: dict[str, list[str]] = defaultdict(list)
    proof: dict[str, list[str]] = {}  # events that reached a called canary
    for who, subject, event_id, _ in hits:
        victims[who].add(subject)
        if subject in canaries:
            proof.setdefault(who, []).append(event_id)
        elif len(evidence[who]) < EVIDENCE:
            evidence[who].append(event_id)
    tested = max(len(volumes), 1)
    out: list[Suspect] = []
    for who, reached in victims.items():
        k = len(reached)
        n = max(int(volumes.get(who, k)), k)
        expected = n * victims_total / population if population else 0.0
        p_value = float(stats.hypergeom.sf(k - 1, population, victims_total, n))
        corrected = min(1.0, p_value * tested)
        out.append(
            Suspect(
                kind=kind,
                id=str(who),
                victims_accessed=k,
                victims_total=victims_total,
                expected=round(expected, 4),
                p_value=_sig(p_value),
                score=1.0 if who in proof else round(1.0 - corrected, 6),
                event_ids=tuple((proof.get(who, []) + evidence[who])[:EVIDENCE]),
            )
        )
    out.sort(key=lambda s: (s.id not in proof, -s.score, s.p_value or 0.0))
    named = [s for s in out if s.id in proof]
    others = [s for s in out if s.id not in proof]
    return named + others[: max(options.max_suspects - len(named), 0)], frozenset(proof)


def _sig(value: float) -> float:
    return float(f"{value:.4g}")


def _handle_holders(complaints: Sequence[Complaint], handles: Sequence[HandleRow], victims_total: int) -> list[Suspect]:
    """Holders of called handles: only a handle issued before the call can have been passed on."""
    issued = {h.handle: h for h in handles}
    called: dict[str, set[str]] = defaultdict(set)
    victims: dict[str, set[str]] = defaultdict(set)
    for c in complaints:
        row = issued.get(c.handle) if c.handle else None
        if row is None or (row.issued_at is not None and row.issued_at > c.call_time):
            continue
        called[row.user_id].add(row.handle)
        victims[row.user_id].add(c.subject_id)
    return [
        Suspect(
            kind="handle_holder",
            id=user,
            victims_accessed=len(victims[user]),
            victims_total=victims_total,
            handles=tuple(sorted(hs)),
            score=1.0,
        )
        for user, hs in called.items()
    ]


def load_complaints(path: Path) -> list[Complaint]:
    """Read complaints (FORMATS.md §4)."""
    return list(read_complaints(path))


def suspects_table(report: TraceReport) -> list[dict[str, Any]]:
    """Rows for a text table of the report."""
    return [s.model_dump(exclude={"event_ids"}) for s in report.suspects]
