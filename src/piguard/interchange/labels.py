"""Evaluation labels (FORMATS.md section 3) and complaints (section 4).

Labels are written by simulators and read by evaluation harnesses, never by detection.
Complaints are the input of leak tracing: families who received unsolicited calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from piguard.interchange.context import parse_row
from piguard.interchange.tabular import read_rows, write_rows
from piguard.interchange.times import Time


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]


class _LabelRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    def to_record(self) -> dict[str, Any]:
        """The row as a writer-ready dict (RFC 3339 times, None for absent)."""
        return {
            name: (value.isoformat() if isinstance(value, datetime) else value)
            for name, value in ((n, getattr(self, n)) for n in type(self).model_fields)
        }


class Label(_LabelRow):
    """One malicious user in one scenario, and when their misuse began."""

    user_id: str = Field(min_length=1, max_length=128)
    scenario: str = Field(min_length=1, max_length=64)
    first_malicious_time: Time


class MaliciousEvent(_LabelRow):
    """One event that is part of a scenario's misuse."""

    event_id: str = Field(min_length=1, max_length=128)
    scenario: str = Field(min_length=1, max_length=64)


class Complaint(_LabelRow):
    """One unsolicited call a family reported; ``handle`` is the virtual number called, if any."""

    subject_id: str = Field(min_length=1, max_length=128)
    call_time: Time
    caller: OptStr = None
    handle: OptStr = None


LABEL_COLUMNS = tuple(Label.model_fields)
MALICIOUS_EVENT_COLUMNS = tuple(MaliciousEvent.model_fields)
COMPLAINT_COLUMNS = tuple(Complaint.model_fields)


def read_labels(path: Path) -> Iterator[Label]:
    """Read ``labels.csv`` (or any supported format)."""
    for row in read_rows(path):
        yield parse_row(Label, row)


def read_malicious_events(path: Path) -> Iterator[MaliciousEvent]:
    """Read ``malicious_events.csv`` (or any supported format)."""
    for row in read_rows(path):
        yield parse_row(MaliciousEvent, row)


def read_complaints(path: Path) -> Iterator[Complaint]:
    """Read ``complaints.csv`` (or any supported format)."""
    for row in read_rows(path):
        yield parse_row(Complaint, row)


def write_labels(path: Path, labels: Iterable[Label]) -> int:
    """Write labels; returns the count."""
    return write_rows(path, (item.to_record() for item in labels), columns=LABEL_COLUMNS)


def write_malicious_events(path: Path, events: Iterable[MaliciousEvent]) -> int:
    """Write the malicious event ids; returns the count."""
    return write_rows(path, (item.to_record() for item in events), columns=MALICIOUS_EVENT_COLUMNS)


def write_complaints(path: Path, complaints: Iterable[Complaint]) -> int:
    """Write complaints; returns the count."""
    return write_rows(path, (item.to_record() for item in complaints), columns=COMPLAINT_COLUMNS)
