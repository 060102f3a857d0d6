"""The detector registry: every detector the scorer combines, in report order."""

from __future__ import annotations

from piguard.detect.canary import CanaryAccess
from piguard.detect.detectors.access import (
    ContactDisclosure,
    ContactElsewhere,
    FamilyLookup,
    FreshDeaths,
    LateHandleCall,
    NeighbourLookup,
    OtherInstitution,
    UnexplainedAccess,
    VolumeSpike,
)
from piguard.detect.detectors.base import Detector, Evidence, Finding
from piguard.detect.detectors.behaviour import (
    BreakGlassNoFollowUp,
    BulkExport,
    ConcurrentSessions,
    ContactListExport,
    OffShift,
    SearchEnumeration,
)


def default_detectors(names: tuple[str, ...] | None = None) -> tuple[Detector, ...]:
    """Every detector (or those named), in the order reasons are listed."""
    all_detectors: tuple[Detector, ...] = (
        CanaryAccess(), ContactListExport(), FreshDeaths(), ContactElsewhere(), LateHandleCall(), ContactDisclosure(),
        OtherInstitution(), NeighbourLookup(),
        FamilyLookup(), BulkExport(), ConcurrentSessions(), BreakGlassNoFollowUp(),
        SearchEnumeration(), VolumeSpike(), OffShift(), UnexplainedAccess(),
    )
    if names is None:
        return all_detectors
    known = {d.name: d for d in all_detectors}
    unknown = [n for n in names if n not in known]
    if unknown:
        from piguard.errors import InputError

        raise InputError(f"unknown detector(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(known[n] for n in names)


__all__ = ["Detector", "Evidence", "Finding", "default_detectors"]
