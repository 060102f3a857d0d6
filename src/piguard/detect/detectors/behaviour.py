"""Detectors over how the system was used: shifts, searches, exports, sessions, break-glass."""

from __future__ import annotations

from piguard.detect.detectors.base import Detector, peers_phrase


class OffShift(Detector):
    """Unexplained accesses outside the user's rostered shifts (users with a roster only)."""

    name = "off_shift"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Opened {count} record{'s' if count != 1 else ''} without a relationship outside "
                f"rostered shifts; {peers_phrase(expected)}")


class SearchEnumeration(Detector):
    """Bursts of searches (10 or more in an hour), the pattern of enumerating the register."""

    name = "search_enumeration"
    metric = "events"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Ran {count} searches in bursts of 10 or more within an hour, like enumerating "
                f"the register; {peers_phrase(expected)}")


class BulkExport(Detector):
    """Exports or prints of identifiable lists (20 or more records, not statistics)."""

    name = "bulk_export"
    metric = "events"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Exported or printed {count} identifiable list{'s' if count != 1 else ''} of 20 or "
                f"more records; {peers_phrase(expected)}")


class ContactListExport(Detector):
    """Exports or prints of 20+ deaths with the relatives' phone numbers or addresses: high whatever peers do."""

    name = "contact_list_export"
    metric = "events"
    always_high = True

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        del expected  # one such list is serious whatever the peers do
        return (f"Exported or printed {count} list{'s' if count != 1 else ''} of 20 or more deaths with the "
                "relatives' phone numbers or addresses (what was sold in the Minhang case)")


class ConcurrentSessions(Detector):
    """One account in two places: a session inside another terminal's session, or rapid switching."""

    name = "concurrent_sessions"
    metric = "events"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"{count} action{'s' if count != 1 else ''} came from a second terminal while the account "
                f"was in use on another, as if used by two people; {peers_phrase(expected)}")


class BreakGlassNoFollowUp(Detector):
    """Emergency access with no clinical activity or relationship within 24 hours."""

    name = "breakglass_no_followup"
    metric = "events"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Used break-glass emergency access {count} time{'s' if count != 1 else ''} with no "
                f"clinical activity on the record in the following 24 h; {peers_phrase(expected)}")
