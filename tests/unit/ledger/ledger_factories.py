"""Test data for the ledger: access events with field names only, never values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from piguard.interchange.events import AccessEvent

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def make_event(n: int, *, user: str | None = None, subject: str | None = None) -> AccessEvent:
    """Event number ``n``: deterministic, distinct, plausible."""
    return AccessEvent(
        event_id=f"ev-{n:08d}",
        time=T0 + timedelta(seconds=n),
        user_id=user or f"u{n % 7}",
        role="physician",
        org_id="org-1",
        terminal_id="ws-12",
        action="read",
        resource_type="death_report",
        resource_id=f"dr-{n % 50}",
        subject_id=subject or f"s{n % 50}",
        fields=("death.cause", "relative.phone"),
        purpose="TREAT",
    )
