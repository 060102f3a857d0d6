"""Alerts (FORMATS.md section 5) and leak-tracing results (section 6): models and writers.

Both are single JSON documents. Extra fields (``notice``, ``detectors``, ...) are allowed by
the contract and are written where piguard has them; readers ignore what they do not know.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from piguard.errors import InterchangeError, validation_reason

Severity = Literal["low", "medium", "high"]


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Reason(_Doc):
    """One detector's finding about a user, in words a privacy officer can act on."""

    detector: str
    text: str
    event_ids: tuple[str, ...] = ()


class Alert(_Doc):
    """All of one user's incidents in one run, grouped, with a score in [0, 1]."""

    alert_id: str
    user_id: str
    score: float = Field(ge=0.0, le=1.0)
    severity: Severity
    first_event_time: datetime
    last_event_time: datetime
    subject_ids: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    notice: str | None = None


class AlertReport(_Doc):
    """The result of one detection run (``piguard detect --format json``)."""

    generated_at: datetime
    engine: str
    events_read: int = Field(ge=0)
    explained_fraction: float = Field(ge=0.0, le=1.0)
    alerts: tuple[Alert, ...] = ()
    # Every input row is accounted for: input_rows = events_read (analysed) + events_invalid
    # (quarantined with --skip-invalid; events_duplicate of them repeat an event_id) +
    # events_before_since (left to the baselines by --since).
    events_invalid: int = Field(default=0, ge=0)
    users_scored: int = Field(default=0, ge=0)
    input_rows: int = Field(default=0, ge=0)
    events_before_since: int = Field(default=0, ge=0)
    events_duplicate: int = Field(default=0, ge=0)
    # Users with events but no row in the context's users table: analysed all the same (their
    # role and organisation from the events), but nothing the users table says explains them.
    users_unknown: int = Field(default=0, ge=0)


SuspectKind = Literal["user", "terminal", "handle_holder"]


class Suspect(_Doc):
    """One candidate source of a leak: a user, a terminal, or the holder of a called handle."""

    kind: SuspectKind
    id: str
    victims_accessed: int = Field(ge=0)
    victims_total: int = Field(ge=0)
    expected: float | None = None
    p_value: float | None = None
    score: float = Field(ge=0.0, le=1.0)
    event_ids: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()


class TraceReport(_Doc):
    """The result of ``piguard trace --format json``."""

    complaints: int = Field(ge=0)
    suspects: tuple[Suspect, ...] = ()
    canary_calls: int = Field(default=0, ge=0)
    # Complaints naming a handle that no handles row matches: their handle names no one.
    unknown_handles: int = Field(default=0, ge=0)
    # The events traced over: input_rows = events_read + events_invalid (quarantined).
    events_read: int = Field(default=0, ge=0)
    events_invalid: int = Field(default=0, ge=0)
    input_rows: int = Field(default=0, ge=0)


def _record(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return data


def alert_report_json(report: AlertReport) -> str:
    """The report as FORMATS.md §5 JSON (alerts sorted by score, highest first)."""
    ordered = report.model_copy(update={"alerts": tuple(sorted(report.alerts, key=lambda a: -a.score))})
    return json.dumps(_record(ordered), ensure_ascii=False, indent=2)


def trace_report_json(report: TraceReport) -> str:
    """The trace result as FORMATS.md §6 JSON (suspects sorted by score, highest first)."""
    ordered = report.model_copy(
        update={"suspects": tuple(sorted(report.suspects, key=lambda s: -s.score))}
    )
    return json.dumps(_record(ordered), ensure_ascii=False, indent=2)


def write_alert_report(path: Path, report: AlertReport) -> None:
    """Write ``report`` as JSON to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(alert_report_json(report) + "\n", encoding="utf-8")


def write_trace_report(path: Path, report: TraceReport) -> None:
    """Write ``report`` as JSON to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(trace_report_json(report) + "\n", encoding="utf-8")


def read_alert_report(path: Path) -> AlertReport:
    """Read a §5 alerts document; errors name the file and the field."""
    return _read(path, AlertReport)


def read_trace_report(path: Path) -> TraceReport:
    """Read a §6 trace document; errors name the file and the field."""
    return _read(path, TraceReport)


M = TypeVar("M", bound=BaseModel)


def _read(path: Path, model: type[M]) -> M:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InterchangeError(f"cannot read file: {exc.strerror}", where=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InterchangeError(f"invalid JSON ({type(exc).__name__})", where=str(path)) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "document"
        raise InterchangeError(f"field '{field}': {validation_reason(first)}", where=str(path)) from None
