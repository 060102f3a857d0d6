"""The selection an evidence bundle's manifest states, and the check that every event matches it.

Export writes how the events were selected (``user_id``, ``subject_id``, ``from``, ``to``; and,
for investigations, how many event ids were asked for and which were not in the log).
``verify-evidence`` refuses a bundle holding an event outside that selection: an edited
manifest, or events added from another export, cannot pass for what the manifest claims.
The manifest is not signed, so the check cannot show that no other event matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piguard.errors import InputError, LedgerError
from piguard.interchange.events import AccessEvent


@dataclass(frozen=True, slots=True)
class StatedSelection:
    """The selection as the manifest records it (None: not selected on); ``time_to`` is exclusive."""

    user_id: str | None = None
    subject_id: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    event_ids: int | None = None
    missing: int = 0
    stated: bool = True

    def describe(self) -> str:
        """One line for people: what the events were selected by."""
        if not self.stated:
            return "not stated in the manifest"
        parts = [
            f"user {self.user_id}" if self.user_id is not None else "any user",
            f"subject {self.subject_id}" if self.subject_id is not None else "any subject",
            f"from {self.time_from.isoformat()}" if self.time_from is not None else "from the start",
            f"to {self.time_to.isoformat()} (exclusive)" if self.time_to is not None else "to the checkpoint",
        ]
        if self.event_ids is not None:
            parts.append(f"{self.event_ids} event ids asked for, {self.missing} not in the log")
        return ", ".join(parts)

    def check(self, event: AccessEvent, *, index: int, where: str) -> None:
        """Raise ``LedgerError`` naming the line if ``event`` is outside the selection."""
        outside = [
            name
            for name, wrong in (
                ("user_id", self.user_id is not None and event.user_id != self.user_id),
                ("subject_id", self.subject_id is not None and event.subject_id != self.subject_id),
                ("time (before 'from')", self.time_from is not None and event.time < self.time_from),
                ("time (at or after 'to')", self.time_to is not None and event.time >= self.time_to),
            )
            if wrong
        ]
        if outside:
            raise LedgerError(
                f"{where}: entry {index} is outside the manifest's selection ({', '.join(outside)} "
                "does not match): the manifest or the entries were changed"
            )


def _text(selection: dict[str, Any], name: str, where: str) -> str | None:
    value = selection.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"selection '{name}' must be a string or null", where=where)
    return value


def _time(selection: dict[str, Any], name: str, where: str) -> datetime | None:
    value = _text(selection, name, where)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"selection '{name}' is not an RFC 3339 time", where=where) from None
    if parsed.tzinfo is None:
        raise InputError(f"selection '{name}' has no UTC offset", where=where)
    return parsed


def stated_selection(manifest: dict[str, Any], where: str) -> StatedSelection:
    """The manifest's ``selection``; ``InputError`` naming ``where`` if it is malformed."""
    if "selection" not in manifest:
        return StatedSelection(stated=False)
    selection = manifest["selection"]
    if not isinstance(selection, dict):
        raise InputError("'selection' must be a JSON object", where=where)
    event_ids = selection.get("event_ids")
    missing = selection.get("missing", [])
    if event_ids is not None and (type(event_ids) is not int or event_ids < 0):
        raise InputError("selection 'event_ids' must be a count", where=where)
    if not isinstance(missing, list):
        raise InputError("selection 'missing' must be a list", where=where)
    return StatedSelection(
        user_id=_text(selection, "user_id", where),
        subject_id=_text(selection, "subject_id", where),
        time_from=_time(selection, "from", where),
        time_to=_time(selection, "to", where),
        event_ids=event_ids,
        missing=len(missing),
    )
