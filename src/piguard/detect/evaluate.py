"""Evaluation against simulator labels: recall within an alert budget, AUC, time to detect.

Labels (FORMATS.md §3) are read here and only here; detection never sees them. The budget
is the issue's: 1 alert per 1,000 users per week of data, plus the number of insiders. Time
to detect replays time prefixes (detection on the events up to the end of each day) and
takes the first day the insider is inside that day's budget. The same numbers are given
for a rules-only baseline (fixed rules, no explanation by relationships, no peer
statistics) so the gain is visible.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from piguard.detect.load import connect, load_context, load_events
from piguard.detect.pipeline import DetectionRun, Options, analyze
from piguard.detect.trace import TraceOptions, trace_loaded
from piguard.errors import InputError
from piguard.interchange.context import parse_row
from piguard.interchange.labels import Label, read_complaints, read_malicious_events
from piguard.interchange.tabular import SUFFIXES, read_rows

# Fixed rules in the style of classic access monitors: no relationship context, no peers.
RULES_SQL = """
SELECT e.user_id, count(*) AS hits FROM events e
LEFT JOIN p_subjects s ON s.subject_id = e.subject_id
LEFT JOIN users_cur u ON u.user_id = e.user_id
LEFT JOIN p_orgs o ON o.org_id = e.org_id
WHERE e.outcome = 'allowed' AND (
     (e.subject_id IS NOT NULL AND s.district IS NOT NULL AND o.district IS NOT NULL AND s.district <> o.district)
  OR (e.subject_id IS NOT NULL AND (extract(hour FROM e.ts + to_minutes(coalesce(e.utc_offset, 0))) >= 20
                                 OR extract(hour FROM e.ts + to_minutes(coalesce(e.utc_offset, 0))) < 8))
  OR (u.home_compound IS NOT NULL AND s.compound = u.home_compound)
  OR (u.surname IS NOT NULL AND s.surname = u.surname)
  OR (e.action IN ('export', 'print') AND coalesce(e.result_count, 0) >= 20)
  OR e.action = 'breakglass'
  OR coalesce(s.is_canary, 0) = 1)
GROUP BY e.user_id
"""
# Night is 20:00-08:00 in the offset each event carried (local time where it happened).
MAX_REPLAYS = 60


@dataclass(frozen=True, slots=True)
class SystemScores:
    """How one ranking did."""

    budget: int
    recall: float
    precision: float
    roc_auc: float
    median_days_to_detect: float | None
    per_scenario: dict[str, dict[str, Any]]


def find_events(directory: Path) -> Path:
    """The ``events.*`` file of a simulator output directory."""
    found = [directory / f"events{s}" for s in SUFFIXES if (directory / f"events{s}").exists()]
    if len(found) != 1:
        raise InputError("expected exactly one events.* file", where=str(directory))
    return found[0]


def roc_auc(scores: dict[str, float], positives: set[str]) -> float:
    """Area under the ROC curve (Mann-Whitney), ties counted half."""
    pos = [scores.get(u, 0.0) for u in positives]
    neg = [v for u, v in scores.items() if u not in positives]
    if not pos or not neg:
        return float("nan")
    ordered = sorted(neg)
    import bisect

    total = 0.0
    for p in pos:
        lo = bisect.bisect_left(ordered, p)
        hi = bisect.bisect_right(ordered, p)
        total += lo + 0.5 * (hi - lo)
    return total / (len(pos) * len(neg))


def _ranking(scores: dict[str, float]) -> list[str]:
    return sorted((u for u, v in scores.items() if v > 0), key=lambda u: (-scores[u], u))


def _budget(n_users: int, days: float, n_insiders: int) -> int:
    return math.ceil(n_users / 1000 * max(days, 1.0) / 7) + n_insiders


def _run(con: duckdb.DuckDBPyConnection, options: Options) -> tuple[DetectionRun, dict[str, float]]:
    run = analyze(con, options=options)
    rules = {r[0]: float(r[1]) for r in con.execute(RULES_SQL).fetchall()}
    return run, rules


def evaluate(
    directory: Path,
    *,
    events: Path | None = None,
    context: Path | None = None,
    options: Options | None = None,
    replay: bool = True,
) -> dict[str, Any]:
    """Evaluate detection (and the rules baseline) on a labelled simulator output directory."""
    options = options or Options()
    rows = [(row.where, parse_row(Label, row)) for row in read_rows(directory / "labels.csv")]
    labels = [label for _, label in rows]
    malicious = defaultdict(set)
    for m in read_malicious_events(directory / "malicious_events.csv"):
        malicious[m.scenario].add(m.event_id)
    with tempfile.TemporaryDirectory(prefix="piguard-eval-") as spill:
        con = connect(temp_dir=Path(spill))
        try:
            load_events(con, [events or find_events(directory)])
            load_context(con, context or directory / "context")
            con.execute("ALTER TABLE events RENAME TO events_all")
            _check_labelled_users(con, rows)
            return _evaluate_loaded(con, directory, labels, malicious, options, replay=replay)
        finally:
            con.close()


def _check_labelled_users(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, Label]]) -> None:
    """A label must name a user of the context or the events; otherwise it could only count as missed."""
    known = {r[0] for r in con.execute("SELECT user_id FROM ctx_users UNION SELECT user_id FROM events_all").fetchall()}
    for where, label in rows:
        if label.user_id not in known:
            raise InputError("field 'user_id': no such user in the context users table or the events", where=where)


def _evaluate_loaded(
    con: duckdb.DuckDBPyConnection,
    directory: Path,
    labels: Sequence[Label],
    malicious: dict[str, set[str]],
    options: Options,
    *,
    replay: bool,
) -> dict[str, Any]:
    bounds = con.execute("SELECT min(ts), max(ts) FROM events_all").fetchall()[0]
    if not bounds or bounds[0] is None:
        raise InputError("no events to evaluate", where=str(directory))
    start, end = bounds[0].replace(tzinfo=UTC), bounds[1].replace(tzinfo=UTC)
    days = (end - start).total_seconds() / 86400
    users_row = con.execute("SELECT count(DISTINCT user_id) FROM ctx_users").fetchall()[0]
    n_users = int(users_row[0]) if users_row else 0
    # A user can be labelled in several scenarios: each scenario counts them, and overall (budget,
    # replay) they are one insider from their earliest malicious time.
    insiders: dict[str, Label] = {}
    for label in sorted(labels, key=lambda item: item.first_malicious_time):
        insiders.setdefault(label.user_id, label)
    budget = _budget(n_users, days, len(insiders))
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM events_all")
    run, rules = _run(con, options)
    all_users = {r[0] for r in con.execute("SELECT DISTINCT user_id FROM ctx_users").fetchall()}
    detector_scores = {u: run.user_surprisal.get(u, 0.0) for u in all_users}
    rule_scores = {u: rules.get(u, 0.0) for u in all_users}
    exposure = {
        "listed": _malicious_records(con, malicious),
        "opened": _malicious_records(con, malicious, listed=False),
    }
    detect_days: dict[str, dict[str, datetime]] = {"piguard": {}, "rules": {}}
    if replay and insiders:
        detect_days = _replay(con, insiders, n_users, start, end, options)
    result: dict[str, Any] = {
        "users": n_users,
        "insiders": len(insiders),
        "days": round(days, 2),
        "budget": budget,
        "events": run.report.events_read,
        "explained_fraction": run.report.explained_fraction,
    }
    for name, scores in (("piguard", detector_scores), ("rules_baseline", rule_scores)):
        key = "piguard" if name == "piguard" else "rules"
        result[name] = _score_system(scores, labels, budget, detect_days[key], exposure, replay=replay)
    complaints = directory / "complaints.csv"
    if complaints.exists():
        result["trace"] = _trace_summary(con, list(read_complaints(complaints)), labels)
    return result


def _score_system(
    scores: dict[str, float],
    labels: Sequence[Label],
    budget: int,
    detected: dict[str, datetime],
    exposure: dict[str, dict[str, list[datetime]]],
    *,
    replay: bool,
) -> dict[str, Any]:
    top = set(_ranking(scores)[:budget])
    positives = {label.user_id for label in labels}
    hits = top & positives
    scenarios: dict[str, dict[str, Label]] = defaultdict(dict)
    for label in sorted(labels, key=lambda item: item.first_malicious_time):
        scenarios[label.scenario].setdefault(label.user_id, label)
    per: dict[str, Any] = {}
    for scenario, users in sorted(scenarios.items()):
        delays: list[float] = []
        exposed: dict[str, list[int]] = {kind: [] for kind in exposure}
        unavoidable: list[int] = []
        for user, label in users.items():
            first = label.first_malicious_time.astimezone(UTC)
            when = detected.get(user)
            if when is not None:
                delays.append(max((when - first).total_seconds() / 86400, 0.0))
            for kind, by_user in exposure.items():
                times = by_user.get(user, [])
                exposed[kind].append(sum(1 for t in times if when is None or t <= when))
            unavoidable.append(_exposed_at_first(exposure.get("listed", {}).get(user, [])))
        others = {u: v for u, v in scores.items() if u not in positives or u in users}
        per[scenario] = {
            "insiders": len(users),
            "recall": sum(1 for u in users if u in top) / len(users),
            "roc_auc": round(roc_auc(others, set(users)), 4),
            "detected_in_replay": len(delays) if replay else None,
            "median_days_to_detect": round(statistics.median(delays), 2) if delays else None,
            # Records listed by a search or export count (each once); "opened" counts as before
            # the issue 6 audit (an event's own record, a search or export as one record).
            "malicious_records_before_first_alert": max(exposed["listed"], default=0),
            "malicious_records_opened_before_first_alert": max(exposed["opened"], default=0),
            # What the first malicious event itself listed or opened (the most among the
            # scenario's insiders): no alert raised on or after that event can come with fewer
            # records exposed, so the count above cannot go below this whatever detection does.
            "malicious_records_at_first_malicious_event": max(unavoidable, default=0),
        }
    # Overall, each insider once, from their earliest malicious time in any scenario.
    first_times = {
        user: min(s[user].first_malicious_time for s in scenarios.values() if user in s) for user in positives
    }
    all_delays = [
        max((detected[user] - first).total_seconds() / 86400, 0.0)
        for user, first in first_times.items()
        if user in detected
    ]
    return {
        "recall": round(len(hits) / len(positives), 4) if positives else None,
        "precision": round(len(hits) / max(len(top), 1), 4),
        "roc_auc": round(roc_auc(scores, positives), 4),
        "median_days_to_detect": round(statistics.median(all_delays), 2) if all_delays else None,
        "per_scenario": per,
    }


# The records a malicious event exposed: the one it opened, and every one a search or export
# listed (``result_ids``); an event naming neither counts as one record of its own.
_EXPOSED_SQL = """
SELECT user_id, record, min(ts) AS first_ts FROM (
  SELECT e.user_id, e.ts, e.subject_id AS record FROM events_all e JOIN _mal m ON m.event_id = e.event_id
  WHERE e.subject_id IS NOT NULL
  UNION ALL
  SELECT e.user_id, e.ts, unnest(string_split(e.result_ids, ';')) AS record
  FROM events_all e JOIN _mal m ON m.event_id = e.event_id
  WHERE e.result_ids IS NOT NULL AND {listed}
  UNION ALL
  SELECT e.user_id, e.ts, e.event_id AS record FROM events_all e JOIN _mal m ON m.event_id = e.event_id
  WHERE e.subject_id IS NULL AND (e.result_ids IS NULL OR NOT {listed})
) x
WHERE record <> ''
GROUP BY user_id, record
"""


def _exposed_at_first(times: Sequence[datetime]) -> int:
    """How many records were exposed at the earliest of ``times`` (by the first malicious event)."""
    if not times:
        return 0
    first = min(times)
    return sum(1 for t in times if t == first)


def _malicious_records(
    con: duckdb.DuckDBPyConnection, malicious: dict[str, set[str]], *, listed: bool = True
) -> dict[str, list[datetime]]:
    """Per user, the time each malicious record was first exposed (distinct records).

    With ``listed`` a search's or export's results count, each record once; without, as before
    the issue 6 audit: the record an event opened, a search or export counting as one.
    """
    ids = sorted({e for ids in malicious.values() for e in ids})
    if not ids:
        return {}
    import pyarrow as pa

    con.register("_mal", pa.table({"event_id": ids}))
    rows = con.execute(_EXPOSED_SQL.format(listed="true" if listed else "false")).fetchall()
    con.unregister("_mal")
    out: dict[str, list[datetime]] = defaultdict(list)
    for user, _, ts in rows:
        out[user].append(ts.replace(tzinfo=UTC))
    return dict(out)


def _replay(
    con: duckdb.DuckDBPyConnection,
    insiders: dict[str, Label],
    n_users: int,
    start: datetime,
    end: datetime,
    options: Options,
) -> dict[str, dict[str, datetime]]:
    """First end-of-day cutoff at which each insider is inside that prefix's budget."""
    first = min(label.first_malicious_time.astimezone(UTC) for label in insiders.values())
    day0 = first.replace(hour=0, minute=0, second=0, microsecond=0)
    total_days = max(1, math.ceil((end - day0).total_seconds() / 86400))
    step = max(1, math.ceil(total_days / MAX_REPLAYS))
    found: dict[str, dict[str, datetime]] = {"piguard": {}, "rules": {}}
    quiet = Options(engine=options.engine, detectors=options.detectors, min_score=1.1, prior=options.prior)
    for k in range(1, total_days + 1, step):
        cutoff = min(day0 + timedelta(days=k), end + timedelta(seconds=1))
        con.execute(
            "CREATE OR REPLACE TABLE events AS SELECT * FROM events_all WHERE ts < ?", [cutoff.replace(tzinfo=None)]
        )
        run, rules = _run(con, quiet)
        budget = _budget(n_users, (cutoff - start).total_seconds() / 86400, len(insiders))
        for key, scores in (("piguard", run.user_surprisal), ("rules", rules)):
            top = set(_ranking(dict(scores))[:budget])
            for user, label in insiders.items():
                if user in top and user not in found[key] and label.first_malicious_time <= cutoff:
                    found[key][user] = cutoff
        if all(len(found[key]) == len(insiders) for key in found):
            break
    return found


def _trace_summary(con: duckdb.DuckDBPyConnection, complaints: list[Any], labels: Sequence[Label]) -> dict[str, Any]:
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM events_all")
    report = trace_loaded(con, complaints=complaints, options=TraceOptions())
    users = [s.id for s in report.suspects if s.kind == "user"]
    brokers = [label.user_id for label in labels if label.scenario == "minhang_broker"]
    return {
        "complaints": report.complaints,
        "brokers": len(brokers),
        "broker_ranks": {b: (users.index(b) + 1 if b in users else None) for b in brokers},
        "all_brokers_in_top3": all(b in users[:3] for b in brokers) if brokers else None,
    }
