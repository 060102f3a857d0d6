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
    suspects: list[Suspect] = []
    for kind, column in (("user", "user_id"), ("terminal", "terminal_id")):
        suspects.extend(
            _rank(
                con,
                kind=kind,
                column=column,
                window=window,
                population=population,
                victims_total=victims_total,
                options=options,
            )
        )
    suspects.extend(_handle_holders(complaints, handles, victims_total))
    suspects = _canary_callers(con, complaints, options.canary_subjects, victims_total) + suspects
    suspects.sort(key=lambda s: (-s.score, s.p_value if s.p_value is not None else 0.0, s.kind, s.id))
    issued = {h.handle for h in handles}
    return TraceReport(
        complaints=len(complaints),
        suspects=tuple(_dedupe(suspects)),
        canary_calls=sum(1 for c in complaints if c.subject_id in options.canary_subjects),
        unknown_handles=sum(1 for c in complaints if c.handle and c.handle not in issued),
    )


def _dedupe(suspects: list[Suspect]) -> list[Suspect]:
    seen: set[tuple[str, str]] = set()
    out: list[Suspect] = []
    for s in suspects:
        if (s.kind, s.id) not in seen:
            seen.add((s.kind, s.id))
            out.append(s)
    return out


def _canary_callers(
    con: duckdb.DuckDBPyConnection, complaints: Sequence[Complaint], canaries: frozenset[str], victims_total: int
) -> list[Suspect]:
    """Users who opened a canary record that later received a call: certain leak sources."""
    called = sorted({c.subject_id for c in complaints if c.subject_id in canaries})
    if not called:
        return []
    con.register("_canary", pa.table({"subject_id": called}))
    rows = con.execute("""
SELECT r.user_id, count(DISTINCT r.subject_id) AS k, list(r.event_id ORDER BY r.ts) AS ids
FROM reach r JOIN _canary c ON c.subject_id = r.subject_id GROUP BY r.user_id
""").fetchall()
    con.unregister("_canary")
    return [
        Suspect(
            kind="user",
            id=str(user),
            victims_accessed=int(k),
            victims_total=victims_total,
            p_value=0.0,
            score=1.0,
            event_ids=tuple(ids[:EVIDENCE]),
        )
        for user, k, ids in rows
    ]


def _rank(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    column: str,
    window: str,
    population: int,
    victims_total: int,
    options: TraceOptions,
) -> list[Suspect]:
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
    for who, subject, event_id, _ in hits:
        victims[who].add(subject)
        if len(evidence[who]) < EVIDENCE:
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
                score=round(1.0 - corrected, 6),
                event_ids=tuple(evidence[who]),
            )
        )
    out.sort(key=lambda s: (-s.score, s.p_value or 0.0))
    return out[: options.max_suspects]


def _sig(value: float) -> float:
    return float(f"{value:.4g}")


def _handle_holders(complaints: Sequence[Complaint], handles: Sequence[HandleRow], victims_total: int) -> list[Suspect]:
    holder = {h.handle: h.user_id for h in handles}
    called: dict[str, set[str]] = defaultdict(set)
    victims: dict[str, set[str]] = defaultdict(set)
    for c in complaints:
        if c.handle and c.handle in holder:
            called[holder[c.handle]].add(c.handle)
            victims[holder[c.handle]].add(c.subject_id)
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
