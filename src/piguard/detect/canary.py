"""Canary records (detection side): decoy deaths nobody has a reason to open.

Subjects marked ``is_canary=1`` in the context are planted by ``piguard canary plant``; any
access to one is a high-severity alert, whatever the user's peers do: opening it, a refused
attempt, or its appearing among the results of a search or export the user ran.
"""

from __future__ import annotations

from collections.abc import Sequence

from piguard.detect.detectors.base import Detector, Evidence

# Events named in a reason, per kind of access; the rest are counted.
_NAMED = 5


def canary_kind(detail: str | None) -> str:
    """``opened``, ``refused`` or ``results``: how a flagged event touched the canary."""
    text = detail or ""
    if text.endswith(":results"):
        return "results"
    return "refused" if text.endswith(":denied") else "opened"


def _action(detail: str | None) -> str:
    return (detail or "access").split(":", 1)[0]


def _events(rows: Sequence[Evidence]) -> str:
    seen = list(dict.fromkeys((r.event_id, _action(r.detail)) for r in rows))
    named = ", ".join(f"event {event_id} ({action})" for event_id, action in seen[:_NAMED])
    return named + (f" and {len(seen) - _NAMED} more" if len(seen) > _NAMED else "")


class CanaryAccess(Detector):
    """Any access to a canary (decoy) record: opened, refused, or among search/export results."""

    name = "canary_access"
    always_high = True

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        del expected
        return (
            f"Opened {count} decoy (canary) record{'s' if count != 1 else ''} that no work "
            "task leads to; canary records exist only to reveal browsing"
        )

    def describe(self, *, count: int, expected: float, evidence: Sequence[Evidence]) -> str:
        """Reason text naming each event, its action and whether the decoy was opened, refused or listed."""
        if not evidence:
            return self.explain(count=count, expected=expected)
        by_kind: dict[str, list[Evidence]] = {"opened": [], "refused": [], "results": []}
        for row in evidence:
            by_kind[canary_kind(row.detail)].append(row)
        parts = []
        if by_kind["opened"]:
            parts.append(f"opened in {_events(by_kind['opened'])}")
        if by_kind["refused"]:
            parts.append(f"tried to open (refused) in {_events(by_kind['refused'])}")
        if by_kind["results"]:
            parts.append(f"listed among the results of {_events(by_kind['results'])}")
        return (
            f"{count} decoy (canary) record{'s' if count != 1 else ''} that no work task leads to: "
            f"{'; '.join(parts)}; canary records exist only to reveal browsing"
        )
