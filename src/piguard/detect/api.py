"""Library entry points: load events and context, then run :func:`pipeline.analyze`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from piguard.detect.load import (
    LoadStats,
    connect,
    load_context,
    load_context_objects,
    load_event_objects,
    load_events,
)
from piguard.detect.pipeline import DetectionRun, Options, analyze
from piguard.interchange.alerts import AlertReport
from piguard.interchange.context import ContextTables
from piguard.interchange.events import AccessEvent

EventSource = Path | Sequence[Path] | Iterable[AccessEvent]


def run_detection(
    events: EventSource,
    context: Path | ContextTables,
    *,
    options: Options | None = None,
    since: datetime | None = None,
    skip_invalid: bool = False,
    quarantine: Path | None = None,
    work_dir: Path | None = None,
) -> DetectionRun:
    """Load ``events`` and ``context`` and run detection; the full result for reports and evaluation."""
    options = options or Options()
    with tempfile.TemporaryDirectory(prefix="piguard-spill-", dir=work_dir) as spill:
        con = connect(temp_dir=Path(spill))
        try:
            if isinstance(events, Path):
                events = [events]
            if isinstance(events, Sequence) and all(isinstance(e, Path) for e in events):
                stats = load_events(con, [Path(e) for e in events], since=since,
                                    skip_invalid=skip_invalid, quarantine=quarantine)
            else:
                given = load_event_objects(con, events)  # type: ignore[arg-type]
                before = 0
                if since is not None:
                    cutoff = [since.astimezone(UTC).replace(tzinfo=None)]
                    row = con.execute("SELECT count(*) FROM events WHERE ts < ?", cutoff).fetchall()[0]
                    before = int(row[0]) if row else 0
                    con.execute("DELETE FROM events WHERE ts < ?", cutoff)
                stats = LoadStats(events_read=given - before, events_invalid=0, quarantine=None,
                                  input_rows=given, events_before_since=before, since=since)
            if isinstance(context, Path):
                load_context(con, context)
            else:
                load_context_objects(con, context)
            return analyze(con, options=options, load=stats)
        finally:
            con.close()


def detect(events: EventSource, context: Path | ContextTables, *, engine: str = "duckdb") -> AlertReport:
    """Detect misuse in ``events`` explained by ``context``; FORMATS.md §5 alerts."""
    return run_detection(events, context, options=Options(engine=engine)).report
