"""Access events (FORMATS.md section 1): the record the ledger stores and detection reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from piguard.errors import InterchangeError, validation_reason
from piguard.interchange.tabular import WHITESPACE, Row, read_rows, split_list, write_rows
from piguard.interchange.times import in_utc_range, rfc3339

ROLES = (
    "physician",
    "nurse",
    "emt",
    "dispatcher",
    "cdc_coder",
    "cdc_epidemiologist",
    "police_registrar",
    "funeral_clerk",
    "privacy_officer",
    "admin",
    "service",
)
# FORMATS.md section 1's actions.
ACTIONS = (
    "read",
    "search",
    "export",
    "print",
    "create",
    "update",
    "login",
    "logout",
    "breakglass",
    "resolve_handle",
)
# Actions piguard's own service writes beyond FORMATS.md section 1: ``concurrent_session``
# (identity.login: a login while the account has live sessions on other terminals). Accepted
# from any source, as the ledger export is one; every other value is refused.
SERVICE_ACTIONS = ("concurrent_session",)
ACCEPTED_ACTIONS = ACTIONS + SERVICE_ACTIONS
EVENT_COLUMNS = (
    "event_id",
    "time",
    "user_id",
    "role",
    "org_id",
    "terminal_id",
    "session_id",
    "source_ip",
    "action",
    "resource_type",
    "resource_id",
    "subject_id",
    "fields",
    "purpose",
    "outcome",
    "reason",
    "query",
    "result_count",
    "result_subject_ids",
)
LIST_COLUMNS = ("fields", "result_subject_ids")
INT_COLUMNS = ("result_count",)
OPTIONAL_TEXT = (
    "terminal_id",
    "session_id",
    "source_ip",
    "resource_type",
    "resource_id",
    "subject_id",
    "purpose",
    "reason",
    "query",
)
# The largest count an integer column of every engine holds (a larger one is refused, not wrapped).
MAX_COUNT = 2**63 - 1


class AccessEvent(BaseModel):
    """One access to personal data, or one attempt (FORMATS.md section 1)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    event_id: str = Field(min_length=1, max_length=128)
    time: datetime
    user_id: str = Field(min_length=1, max_length=128)
    role: str = Field(min_length=1, max_length=64)
    org_id: str = Field(min_length=1, max_length=128)
    terminal_id: str | None = None
    session_id: str | None = None
    source_ip: str | None = None
    # Roles are validated as non-empty strings (other systems have roles of their own). An
    # action must be one detection knows (ACCEPTED_ACTIONS): an unknown one would pass every
    # detector unseen, so it is refused rather than silently left unmonitored.
    action: str = Field(min_length=1, max_length=64)
    resource_type: str | None = None
    resource_id: str | None = None
    subject_id: str | None = None
    fields: tuple[str, ...] = ()
    purpose: str | None = None
    outcome: Literal["allowed", "denied"] = "allowed"
    reason: str | None = None
    query: str | None = None
    result_count: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    result_subject_ids: tuple[str, ...] = ()

    @field_validator("time", mode="before")
    @classmethod
    def _is_rfc3339(cls, value: Any) -> Any:
        return rfc3339(value)

    @field_validator("time")
    @classmethod
    def _needs_offset(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("time must carry an explicit UTC offset (RFC 3339)")
        in_utc_range(value)
        return value

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value in ACCEPTED_ACTIONS:
            return value
        # The value itself is not repeated: messages never carry input values.
        hint = " (actions are lower case; it is not changed silently)" if value.lower() in ACCEPTED_ACTIONS else ""
        raise ValueError(
            f"unknown action{hint}; expected one of {', '.join(ACTIONS)} (FORMATS.md section 1) "
            f"or piguard's own {', '.join(SERVICE_ACTIONS)}"
        )

    @field_validator(*OPTIONAL_TEXT, mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        # A JSON "" (or spaces) is an absent value, as an empty CSV cell is; stored as None on
        # both reading paths, so that e.g. an empty subject_id is no subject.
        return None if isinstance(value, str) and not value.strip(WHITESPACE) else value

    @field_validator("outcome", mode="before")
    @classmethod
    def _default_outcome(cls, value: Any) -> Any:
        # Absent, null or blank is the contract's default; any other value must be one of the two.
        if value is None or (isinstance(value, str) and not value.strip(WHITESPACE)):
            return "allowed"
        return value.strip(WHITESPACE) if isinstance(value, str) else value

    @field_validator("fields", "result_subject_ids", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> tuple[str, ...]:
        return tuple(split_list(value))

    def to_record(self) -> dict[str, Any]:
        """The event as a JSON-ready dict: RFC 3339 time, absent optional fields omitted."""
        record: dict[str, Any] = {}
        for name in EVENT_COLUMNS:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            if name == "time":
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            record[name] = value
        return record

    def canonical_json(self) -> bytes:
        """RFC 8785 (JCS) canonical JSON: the bytes of the ledger leaf."""
        return rfc8785.dumps(self.to_record())


def _wrong_json_type(data: dict[str, Any]) -> tuple[str, str] | None:
    """(field, reason) for a JSON/Parquet value of a type FORMATS.md section 1 does not allow.

    The model would coerce these (``true`` to 1, ``[1, 2]`` to ``"1"``, ``"2"``); a CSV cell
    is text and never one of them. Checked here, on rows read from files, so that the events
    the service builds itself do not pay for it.
    """
    if isinstance(data.get("result_count"), bool):
        return "result_count", "must be an integer, not true or false"
    for name in LIST_COLUMNS:
        value = data.get(name)
        if isinstance(value, list | tuple):
            try:
                # join refuses any item that is not a string, in C: half the cost of a generator per row.
                "".join(value)
            except TypeError:
                return name, "list items must be strings (not numbers, booleans, null, lists or objects)"
    return None


def event_from_row(row: Row) -> AccessEvent:
    """Validate one input row as an access event; errors name the file, line and field."""
    wrong = _wrong_json_type(row.data)
    if wrong is not None:
        raise InterchangeError(f"field '{wrong[0]}': {wrong[1]}", where=row.where)
    try:
        return AccessEvent.model_validate(row.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise InterchangeError(f"field '{field}': {validation_reason(first)}", where=row.where) from None


def read_events(path: Path) -> Iterator[AccessEvent]:
    """Read and validate every event of a FORMATS.md events file."""
    for row in read_rows(path):
        yield event_from_row(row)


def write_events(path: Path, events: Iterable[AccessEvent]) -> int:
    """Write events in the format named by the file extension; returns the count."""
    return write_rows(
        path,
        (event.to_record() for event in events),
        columns=EVENT_COLUMNS,
        list_columns=LIST_COLUMNS,
        int_columns=INT_COLUMNS,
    )
