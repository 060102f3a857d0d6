"""One detection run: prepared inputs -> shared feature SQL on an engine -> scored alerts."""

# ruff: noqa: S608  (SQL from features constants; user ids are quote-escaped literals)

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from piguard.detect import features
from piguard.detect.detectors import Detector, Evidence, Finding, default_detectors
from piguard.detect.engines.base import Engine
from piguard.detect.engines.duckdb import DuckDBEngine
from piguard.detect.load import LoadStats
from piguard.detect.notice import notice_text
from piguard.detect.prepare import export_inputs, prepare
from piguard.detect.score import (
    DEFAULT_PRIOR,
    PeerBaseline,
    combine,
    peer_keys,
    posterior_bound,
    severity,
    surprisal,
    tail_p,
)
from piguard.detect.zones import Display, display_zone
from piguard.errors import InputError
from piguard.ids import new_id
from piguard.interchange.alerts import Alert, AlertReport, Reason
from piguard.interchange.events import SERVICE_ACTIONS

# A finding is listed as a reason when it is at least this unlikely among peers.
REASON_P = 0.01
MAX_SUBJECTS_PER_ALERT = 100


@dataclass(frozen=True, slots=True)
class Options:
    """How to run detection."""

    engine: str = "duckdb"
    detectors: tuple[str, ...] | None = None
    min_score: float = 0.2
    prior: float = DEFAULT_PRIOR
    history: Path | None = None
    spark_master: str | None = None
    timelines: bool = False
    # Zone of the times shown to people (notices, HTML, table); None: the events' own offset.
    timezone: tzinfo | None = None


@dataclass(slots=True)
class DetectionRun:
    """An alert report plus what evaluation and the HTML report need beyond FORMATS.md §5."""

    report: AlertReport
    user_surprisal: dict[str, float]
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    timelines: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    display: Display = field(default_factory=lambda: Display(UTC, "UTC"))
    # Events of piguard's own actions beyond FORMATS.md section 1, by action (accepted, and said so).
    service_actions: dict[str, int] = field(default_factory=dict)
    # Accesses to a record (what ``explained_fraction`` is a fraction of; 0: nothing to explain).
    record_accesses: int = 0
    # Input files without a single row (the others had rows): said on stderr, not a failure.
    empty_files: tuple[Path, ...] = ()


def _ts(value: Any) -> datetime:
    text = str(value)
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def make_engine(con: duckdb.DuckDBPyConnection, options: Options, workdir: Path) -> Engine:
    """The engine named in ``options``, fed from the prepared tables in ``con``."""
    if options.engine == "duckdb":
        return DuckDBEngine(con)
    if options.engine == "spark":
        from piguard.detect.engines.spark import SparkEngine

        return SparkEngine(export_inputs(con, workdir / "spark-inputs"), master=options.spark_master)
    raise InputError(f"unknown engine '{options.engine}'; expected duckdb or spark")


def analyze(
    con: duckdb.DuckDBPyConnection, *, options: Options, load: LoadStats | None = None,
) -> DetectionRun:
    """Run every detector over table ``events`` (and the context tables) in ``con``.

    ``load`` is how the events were read (quarantined rows, ``--since``), for the report's
    account of every input row; without it every row of ``events`` is the input.
    """
    detectors = default_detectors(options.detectors)
    prepare(con, history=options.history, since=load.since if load else None)
    display = display_zone(con, options.timezone)
    service_actions = {str(r[0]): int(r[1]) for r in con.execute(
        "SELECT action, count(*) FROM events WHERE action IN "
        f"({', '.join(repr(a) for a in SERVICE_ACTIONS)}) GROUP BY action").fetchall()}
    row = con.execute("SELECT count(*) FROM events").fetchall()[0]
    events_read = int(row[0]) if row else 0
    row = con.execute("SELECT count(DISTINCT user_id) FROM events "
                      "WHERE user_id NOT IN (SELECT user_id FROM p_users)").fetchall()[0]
    users_unknown = int(row[0]) if row else 0
    with tempfile.TemporaryDirectory(prefix="piguard-detect-") as tmp:
        engine = make_engine(con, options, Path(tmp))
        try:
            for name, sql in (*features.BASE, *features.SUPPORT):
                engine.materialize(name, sql, cache=name in features.REUSED)
            explained = engine.fetch(features.EXPLAINED_SQL)[0]
            groups = {r["user_id"]: (r["role"], r["org_id"]) for r in engine.fetch(features.GROUPS_SQL)}
            findings = _findings(engine, detectors, groups)
            run = _assemble(findings, groups, options, detectors, display.tz)
            run.display = display
            run.service_actions = service_actions
            if options.timelines and run.report.alerts:
                run.timelines = _timelines(engine, [a.user_id for a in run.report.alerts])
            if options.history is not None:
                _save_history(engine, options.history)
        finally:
            engine.close()
    n_acc = int(explained["n"] or 0)
    run.record_accesses = n_acc
    run.empty_files = load.empty_files if load else ()
    fraction = float(explained["n_explained"] or 0) / n_acc if n_acc else 1.0
    run.report = run.report.model_copy(update={
        "events_read": events_read, "explained_fraction": round(fraction, 6), "engine": options.engine,
        "events_invalid": load.events_invalid if load else 0,
        "input_rows": load.input_rows if load else events_read,
        "events_before_since": load.events_before_since if load else 0,
        "events_duplicate": load.duplicates if load else 0,
        "users_unknown": users_unknown,
    })
    return run


def _findings(engine: Engine, detectors: Sequence[Detector],
              groups: dict[str, tuple[str, str]]) -> dict[str, list[Finding]]:
    keys = peer_keys(groups)
    # All flags in one table (one job on Spark), then per-detector counts and evidence from it.
    engine.materialize("flags", features.flags_sql([(d.name, d.flag_sql) for d in detectors]))
    aggs_by_det: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in engine.fetch(features.aggregate_sql("flags")):
        aggs_by_det[r["detector"]].append(r)
    evidence: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in engine.fetch(features.evidence_sql("flags")):
        evidence[(r["detector"], r["user_id"])].append(r)
    by_user: dict[str, list[Finding]] = defaultdict(list)
    for det in detectors:
        aggs = aggs_by_det.get(det.name, [])
        counts = {
            r["user_id"]: det.count(n_events=int(r["n_events"]), n_subjects=int(r["n_subjects"]))
            for r in aggs
        }
        baseline = PeerBaseline(counts, keys)
        for r in aggs:
            user = r["user_id"]
            count = counts[user]
            if count <= 0:
                continue
            peer = baseline.for_user(user)
            p_value = 0.0 if det.always_high else tail_p(count, peer)
            rows = sorted(evidence.get((det.name, user), []),
                          key=lambda e: (str(e["ts"]), str(e["event_id"]), str(e["subject_id"])))
            found = tuple(Evidence(event_id=str(e["event_id"]), subject_id=e["subject_id"], detail=e["detail"])
                          for e in rows)
            # An event flagged for two records (a search listing two canaries) is one piece of evidence.
            by_event: dict[str, dict[str, Any]] = {}
            for e in rows:
                by_event.setdefault(str(e["event_id"]), e)
            first_rows = list(by_event.values())
            text = det.describe(count=count, expected=peer.mean, evidence=found)
            flagged = int(r["n_events"])  # flagged rows, as the evidence rows are counted
            if len(rows) < flagged:
                # The evidence is capped (EVIDENCE_PER_USER): say so rather than let the lists look whole.
                text += f" (the evidence lists the first {len(rows)} of {flagged} flagged accesses)"
            by_user[user].append(Finding(
                detector=det.name, user_id=user, count=count, expected=peer.mean, p_value=p_value,
                first_ts=_ts(r["first_ts"]), last_ts=_ts(r["last_ts"]),
                event_ids=tuple(str(e["event_id"]) for e in first_rows),
                subject_ids=tuple(dict.fromkeys(str(e["subject_id"]) for e in rows if e["subject_id"])),
                text=text,
                event_times=tuple(_ts(e["ts"]) for e in first_rows),
                evidence=found,
            ))
    return by_user


def _assemble(findings: dict[str, list[Finding]], groups: dict[str, tuple[str, str]],
              options: Options, detectors: Sequence[Detector], tz: tzinfo) -> DetectionRun:
    high = {d.name for d in detectors if d.always_high}
    order = {d.name: i for i, d in enumerate(detectors)}
    surprisals: dict[str, float] = {}
    alerts: list[tuple[float, float, Alert]] = []
    for user in set(groups) | set(findings):
        user_findings = findings.get(user, [])
        by_det = {f.detector: f.p_value for f in user_findings}
        p_combined = combine([by_det.get(d.name, 1.0) for d in detectors])
        surprisals[user] = surprisal(p_combined)
        is_high = any(f.detector in high for f in user_findings)
        score = 1.0 if is_high else posterior_bound(p_combined, prior=options.prior)
        if score < options.min_score and not is_high:
            continue
        shown = [f for f in user_findings if f.detector in high or f.p_value <= REASON_P]
        shown.sort(key=lambda f: (order[f.detector], f.p_value))
        if not shown:
            continue
        subjects = tuple(dict.fromkeys(s for f in shown for s in f.subject_ids))[:MAX_SUBJECTS_PER_ALERT]
        reasons = tuple(Reason(detector=f.detector, text=f.text, event_ids=f.event_ids) for f in shown)
        alert = Alert(
            alert_id=new_id(), user_id=user, score=round(score, 6),
            severity=severity(score, always_high=is_high),
            first_event_time=min(f.first_ts for f in shown), last_event_time=max(f.last_ts for f in shown),
            subject_ids=subjects, reasons=reasons,
            notice=notice_text(user_id=user, findings=shown, tz=tz),
        )
        alerts.append((score, surprisals[user], alert))
    alerts.sort(key=lambda item: (-item[0], -item[1], item[2].user_id))
    report = AlertReport(
        generated_at=datetime.now(UTC), engine=options.engine, events_read=0, explained_fraction=1.0,
        alerts=tuple(a for _, _, a in alerts), users_scored=len(surprisals),
    )
    return DetectionRun(report=report, user_surprisal=surprisals, findings=dict(findings))


def _timelines(engine: Engine, users: list[str]) -> dict[str, list[tuple[datetime, int]]]:
    values = ", ".join("('" + u.replace("'", "''") + "')" for u in users)
    engine.materialize("alerted_users", f"SELECT user_id FROM (VALUES {values}) AS v(user_id)")
    out: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for r in engine.fetch(features.timeline_sql("alerted_users")):
        out[r["user_id"]].append((_ts(r["ts"]), int(r["explained"])))
    for points in out.values():
        points.sort()
    return dict(out)


def _save_history(engine: Engine, path: Path) -> None:
    rows = engine.fetch(features.HISTORY_OUT_SQL)
    table = pa.table({
        "user_id": pa.array([r["user_id"] for r in rows], pa.string()),
        "day": pa.array([str(r["day"])[:10] for r in rows], pa.string()),
        "n_subjects": pa.array([int(r["n_subjects"]) for r in rows], pa.int64()),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
