"""``piguard detect``, ``piguard trace`` and ``piguard evaluate``.

Exit codes (FORMATS.md §8): 0 when the command ran, whatever it found; 2 for bad usage or
unreadable input; 1 for any other failure. Errors are one line, never a traceback, and never
contain record data.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from piguard.cli.common import console, fail, load_settings
from piguard.errors import InputError, PiguardError

FORMATS = ("json", "table", "html")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--since: not an RFC 3339 time: {value!r}", code=2) from None
    if parsed.tzinfo is None:
        raise fail("--since: the time needs an explicit UTC offset (e.g. 2025-03-01T00:00:00+08:00)", code=2)
    return parsed


def _check_out(out: Path | None) -> None:
    """Refuse an unusable --out before the run, not after minutes of work (bad usage: exit 2)."""
    if out is not None and out.is_dir():
        raise fail(f"--out: {out} is a directory; give a file name", code=2)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out} ({exc.strerror or type(exc).__name__})", code=1) from None


def detect_command(
    events: Annotated[list[Path], typer.Argument(help="Event files (FORMATS.md §1: .jsonl, .csv, .parquet, .gz), "
                                                 "or directories of them.")],
    context: Annotated[Path, typer.Option("--context", help="Directory of context tables (FORMATS.md §2).")],
    fmt: Annotated[str, typer.Option("--format", help="json, table or html.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here instead of stdout.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")] = "duckdb",
    since: Annotated[str | None, typer.Option("--since", help="Only events at or after this RFC 3339 time; "
                                              "earlier days come from the baselines in the data directory.")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Quarantine invalid rows and go on.")] = False,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Where skipped rows go.")] = None,
    min_score: Annotated[float, typer.Option("--min-score", help="Lowest score that raises an alert.")] = 0.2,
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master URL.")] = None,
    zone: Annotated[str | None, typer.Option("--timezone", help="Show times to people (notices, HTML, table) "
                                             "in this offset or zone (+08:00, Asia/Shanghai); default: the "
                                             "events' own offset. JSON times are unchanged.")] = None,
) -> None:
    """Find insiders misusing their access: ranked alerts with reasons (FORMATS.md §5)."""
    from piguard.detect import Options, run_detection
    from piguard.detect.report import render_html
    from piguard.detect.zones import parse_zone
    from piguard.interchange.alerts import alert_report_json

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}", code=2)
    if engine not in ("duckdb", "spark"):
        raise fail("--engine must be duckdb or spark", code=2)
    if not 0.0 <= min_score <= 1.0:
        raise fail("--min-score must be between 0 and 1", code=2)
    start = _since(since)
    try:
        chosen = parse_zone(zone) if zone is not None else None
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    settings = load_settings()
    state = settings.data_dir / "detect"
    if skip_invalid and quarantine is None:
        quarantine = state / f"quarantine-{datetime.now().strftime('%Y%m%dT%H%M%S')}.jsonl"
    options = Options(engine=engine, min_score=min_score, history=state / "history.parquet",
                      spark_master=spark_master, timelines=fmt == "html", timezone=chosen)
    _check_out(out)
    try:
        state.mkdir(parents=True, exist_ok=True)
        run = run_detection(list(events), context, options=options, since=start,
                            skip_invalid=skip_invalid, quarantine=quarantine, work_dir=state)
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        raise fail(str(exc), code=1) from None
    except OSError as exc:
        raise fail(f"cannot write to the data directory ({exc.strerror})", code=1) from None
    _announce(run.report.events_invalid, run.report.events_duplicate, quarantine)
    _note_run(run)
    if run.report.users_unknown:
        typer.echo(f"note: {run.report.users_unknown} user(s) with events have no row in the users table; "
                   "their events were analysed with the role and organisation the events give", err=True)
    if fmt == "json":
        _emit(alert_report_json(run.report), out)
    elif fmt == "html":
        _emit(render_html(run), out or Path("alerts.html"))
        if out is None:
            typer.echo("wrote alerts.html")
    else:
        _alerts_table(run, out)


def _note_run(run: object) -> None:
    """Say on stderr what the report's numbers rest on: empty files, service actions, nothing to explain."""
    from piguard.detect.pipeline import DetectionRun

    assert isinstance(run, DetectionRun)
    for path in run.empty_files:
        typer.echo(f"warning: {path}: no event rows in this file", err=True)
    for action, n in run.service_actions.items():
        typer.echo(f"note: {n} event(s) of piguard's own action '{action}' (not in FORMATS.md §1) were read "
                   "and analysed", err=True)
    if run.record_accesses == 0:
        why = " (all before --since)" if run.report.events_before_since else ""
        typer.echo(f"warning: no record accesses to analyse{why}; nothing was explained and nothing was found",
                   err=True)


def _announce(invalid: int, duplicates: int, quarantine: Path | None) -> None:
    """Quarantined rows are never dropped silently: say how many, and where they are."""
    if invalid:
        repeated = f", {duplicates} of them repeating an earlier event_id" if duplicates else ""
        typer.echo(f"warning: {invalid} invalid event row(s) quarantined in {quarantine}{repeated}", err=True)


def _accounting(report: object) -> str:
    """``3550 rows read: 3540 analysed, 10 quarantined`` (and those before --since)."""
    from piguard.interchange.alerts import AlertReport

    assert isinstance(report, AlertReport)
    parts = [f"{report.events_read} analysed"]
    if report.events_invalid:
        parts.append(f"{report.events_invalid} quarantined")
    if report.events_before_since:
        parts.append(f"{report.events_before_since} before --since")
    return f"{report.input_rows} rows read: {', '.join(parts)}"


def _alerts_table(run: object, out: Path | None) -> None:
    from piguard.detect.pipeline import DetectionRun

    assert isinstance(run, DetectionRun)
    report, tz = run.report, run.display.tz
    explained = (f"{report.explained_fraction:.1%} of {run.record_accesses} record accesses explained"
                 if run.record_accesses else "no record accesses to explain")
    table = Table(title=f"{len(report.alerts)} alert(s) from {report.events_read} events; {explained}",
                  caption=f"{_accounting(report)}; dates in {run.display.label}")
    for column in ("#", "user", "score", "severity", "from", "to", "reasons"):
        table.add_column(column)
    for i, a in enumerate(report.alerts, start=1):
        table.add_row(str(i), a.user_id, f"{a.score:.3f}", a.severity,
                      a.first_event_time.astimezone(tz).date().isoformat(),
                      a.last_event_time.astimezone(tz).date().isoformat(), ", ".join(r.detector for r in a.reasons))
    if out is None:
        console.print(table)
    else:
        from rich.console import Console

        try:
            with out.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=160).print(table)
        except OSError as exc:
            raise fail(f"cannot write {out} ({exc.strerror or type(exc).__name__})", code=1) from None


def trace_command(
    complaints: Annotated[Path, typer.Option("--complaints", help="complaints.csv (FORMATS.md §4).")],
    events: Annotated[list[Path], typer.Option("--events", help="Event files or directories (repeatable).")],
    context: Annotated[Path | None, typer.Option("--context", help="Context directory (checked, optional).")] = None,
    handles: Annotated[Path | None, typer.Option("--handles", help="handles.csv: handle,user_id,subject_id,"
                                                 "issued_at.")] = None,
    window_days: Annotated[int, typer.Option("--window-days", help="Days before a call that count.")] = 30,
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the result here.")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Quarantine invalid rows and go on.")] = False,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Where skipped rows go.")] = None,
) -> None:
    """Rank users, terminals and handle holders as the source of leaked contacts (FORMATS.md §6)."""
    from piguard.detect.trace import TraceOptions, load_complaints, read_handles, trace
    from piguard.interchange.alerts import trace_report_json
    from piguard.interchange.context import read_context

    if fmt not in ("json", "table"):
        raise fail("--format must be json or table", code=2)
    if window_days <= 0:
        raise fail("--window-days must be at least 1", code=2)
    state = load_settings().data_dir / "detect"
    if skip_invalid and quarantine is None:
        quarantine = state / f"trace-quarantine-{datetime.now().strftime('%Y%m%dT%H%M%S')}.jsonl"
    _check_out(out)
    try:
        canaries: frozenset[str] = frozenset()
        if context is not None:
            canaries = frozenset(s.subject_id for s in read_context(context).subjects if s.is_canary)
        report = trace(
            complaints=load_complaints(complaints), events=list(events),
            handles=read_handles(handles) if handles else (),
            options=TraceOptions(window_days=window_days, canary_subjects=canaries), skip_invalid=skip_invalid,
            quarantine=quarantine if skip_invalid else None,
        )
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        raise fail(str(exc), code=1) from None
    except OSError as exc:
        raise fail(f"cannot write to the data directory ({exc.strerror})", code=1) from None
    _announce(report.events_invalid, 0, quarantine)
    if report.unknown_handles:
        # Such a call still counts as a victim; only the handle cannot name its holder.
        why = f"that is not in {handles} (never issued)" if handles else "but no --handles file was given"
        typer.echo(f"warning: {report.unknown_handles} complaint(s) name a handle {why}; "
                   "they are traced by record access only", err=True)
    if report.canary_calls:  # in every format: a called canary is a certain leak
        typer.echo(f"ALERT (high): {report.canary_calls} call(s) reached canary records; "
                   "whoever opened them before the call (within --window-days) is listed with score 1", err=True)
    if fmt == "json":
        _emit(trace_report_json(report), out)
        return
    table = Table(title=f"Leak tracing over {report.complaints} complaint(s)",
                  caption=f"{report.input_rows} event rows read: {report.events_read} traced"
                          + (f", {report.events_invalid} quarantined" if report.events_invalid else ""))
    for column in ("#", "kind", "id", "victims", "expected", "p-value", "score"):
        table.add_column(column)
    for i, s in enumerate(report.suspects, start=1):
        table.add_row(str(i), s.kind, s.id, f"{s.victims_accessed}/{s.victims_total}",
                      "" if s.expected is None else f"{s.expected:.2f}",
                      "" if s.p_value is None else f"{s.p_value:.2g}", f"{s.score:.3f}")
    console.print(table)


def evaluate_command(
    labels: Annotated[Path, typer.Option("--labels", help="Simulator output directory with labels.csv, "
                                         "malicious_events.csv, events.*, context/, complaints.csv.")],
    events: Annotated[Path | None, typer.Option("--events", help="Events file (default: DIR/events.*).")] = None,
    context: Annotated[Path | None, typer.Option("--context", help="Context dir (default: DIR/context).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb or spark.")] = "duckdb",
    no_replay: Annotated[bool, typer.Option("--no-replay", help="Skip the time-prefix replay.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON result here.")] = None,
) -> None:
    """Score detection and a rules-only baseline against simulator labels (JSON)."""
    from piguard.detect.evaluate import evaluate
    from piguard.detect.pipeline import Options

    if not (labels / "labels.csv").exists():
        raise fail(f"{labels}: labels.csv not found", code=2)
    _check_out(out)
    try:
        result = evaluate(labels, events=events, context=context, options=Options(engine=engine),
                          replay=not no_replay)
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        raise fail(str(exc), code=1) from None
    _emit(json.dumps(result, indent=2, default=str), out)


def register(app: typer.Typer) -> None:
    """Add ``detect``, ``trace`` and ``evaluate`` to the main app."""
    app.command("detect")(detect_command)
    app.command("trace")(trace_command)
    app.command("evaluate")(evaluate_command)
