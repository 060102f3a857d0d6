"""Canary records (detection side): decoy deaths nobody has a reason to open.

Subjects marked ``is_canary=1`` in the context are planted by ``piguard canary plant``; any
access to one is a high-severity alert, whatever the user's peers do.
"""

from __future__ import annotations

from piguard.detect.detectors.base import Detector


class CanaryAccess(Detector):
    """Any access to a canary (decoy) record."""

    name = "canary_access"
    always_high = True

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        del expected
        return (f"Opened {count} decoy (canary) record{'s' if count != 1 else ''} that no work "
                "task leads to; canary records exist only to reveal browsing")
