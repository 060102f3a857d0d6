"""The selection an evidence bundle's manifest states, and the checks that the events match it.

Export writes how the events were selected (``user_id``, ``subject_id``, ``from``, ``to``; and,
for investigations and relatives' requests, the event ids asked for and those not in the log).
``verify-evidence`` refuses a bundle holding an event outside that selection (an edited
manifest, or events added from another export), and a bundle selected by event id that does not
account for every id asked for: each must be an entry or listed as ``missing``. The manifest is
not signed, so the check cannot show that no other event matched a selection by user, subject
or time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piguard.errors import InputError, LedgerError
from piguard.interchange.events import AccessEvent

#: Event ids named in a message before "and N more".
SHOWN_IDS = 5


@dataclass(frozen=True, slots=True)
class StatedSelection:
    """The selection as the manifest records it (None: not selected on); ``time_to`` is exclusive."""

    user_id: str | None = None
    subject_id: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    #: How many event ids were asked for (None: not a selection by event id).
    event_ids: int | None = None
    #: The ids asked for; None when the manifest states only their count (older bundles).
    asked: frozenset[str] | None = None
    #: The ids asked for that were not in the log when the bundle was made.
    missing_ids: frozenset[str] = frozenset()
    stated: bool = True

    @property
    def missing(self) -> int:
        """How many of the ids asked for were not in the log."""
        return len(self.missing_ids)

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
                ("event_id (not one asked for)", self.asked is not None and event.event_id not in self.asked),
                ("event_id (listed as missing)", event.event_id in self.missing_ids),
            )
            if wrong
        ]
        if outside:
            raise LedgerError(
                f"{where}: entry {index} is outside the manifest's selection ({', '.join(outside)} "
                "does not match): the manifest or the entries were changed"
            )

    def check_accounted(self, found: Collection[str], *, where: str) -> None:
        """Raise ``LedgerError`` unless every event id asked for is an entry (``found``) or listed as missing.

        ``found``: the event ids of the bundle's entries (each already checked to be one asked for).
        """
        if self.event_ids is None:
            return
        held = len(set(found))
        if self.asked is not None:
            gone = sorted(self.asked - set(found) - self.missing_ids)
            if gone:
                raise LedgerError(
                    f"{where}: event ids asked for but neither in entries.jsonl nor listed as missing: {named(gone)} "
                    f"({len(gone)} of {self.event_ids}); entries were removed from the bundle"
                )
        accounted = held + self.missing
        if accounted < self.event_ids:
            raise LedgerError(
                f"{where}: {self.event_ids} event ids were asked for, but the bundle holds {held} of them and "
                f"lists {self.missing} as missing: {self.event_ids - accounted} unaccounted for "
                "(entries were removed from the bundle)"
            )
        if accounted > self.event_ids:
            raise LedgerError(
                f"{where}: {self.event_ids} event ids were asked for, but the bundle holds {held} and lists "
                f"{self.missing} as missing: {accounted - self.event_ids} more than asked for "
                "(the manifest was changed)"
            )


def named(ids: Collection[str]) -> str:
    """Up to ``SHOWN_IDS`` ids, then how many more."""
    shown = list(ids)[:SHOWN_IDS]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


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


def _ids(value: list[Any], name: str, where: str) -> frozenset[str]:
    if not all(isinstance(item, str) for item in value):
        raise InputError(f"selection '{name}' must be a list of event id strings", where=where)
    ids = frozenset(value)
    if len(ids) != len(value):
        raise InputError(f"selection '{name}' lists an event id twice", where=where)
    return ids


def stated_selection(manifest: dict[str, Any], where: str) -> StatedSelection:
    """The manifest's ``selection``; ``InputError`` naming ``where`` if it is malformed.

    ``event_ids`` is the list of ids asked for (or, in older bundles, only their count);
    ``missing`` lists those not in the log. A manifest whose ``missing`` ids were not asked for
    contradicts itself: ``LedgerError``.
    """
    if "selection" not in manifest:
        return StatedSelection(stated=False)
    selection = manifest["selection"]
    if not isinstance(selection, dict):
        raise InputError("'selection' must be a JSON object", where=where)
    event_ids = selection.get("event_ids")
    missing = selection.get("missing", [])
    if not isinstance(missing, list):
        raise InputError("selection 'missing' must be a list", where=where)
    missing_ids = _ids(missing, "missing", where)
    asked: frozenset[str] | None = None
    if isinstance(event_ids, list):
        asked = _ids(event_ids, "event_ids", where)
        count: int | None = len(asked)
        if not missing_ids <= asked:
            raise LedgerError(
                f"{where}: selection 'missing' lists event ids that were not asked for "
                f"({named(sorted(missing_ids - asked))}): the manifest was changed"
            )
    elif event_ids is None or (type(event_ids) is int and event_ids >= 0):
        count = event_ids
    else:
        raise InputError("selection 'event_ids' must be a list of event ids (or a count)", where=where)
    if count is None and missing_ids:
        raise InputError("selection 'missing' without 'event_ids'", where=where)
    return StatedSelection(
        user_id=_text(selection, "user_id", where),
        subject_id=_text(selection, "subject_id", where),
        time_from=_time(selection, "from", where),
        time_to=_time(selection, "to", where),
        event_ids=count,
        asked=asked,
        missing_ids=missing_ids,
    )
