"""Detectors over record accesses: explanation, place, fields, neighbours, family, spikes."""

from __future__ import annotations

from piguard.detect.detectors.base import Detector, peers_phrase


def _records(count: int) -> str:
    return f"{count} record{'s' if count != 1 else ''}"


class UnexplainedAccess(Detector):
    """Accesses no relationship in context explains, compared with peers."""

    name = "unexplained_access"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Opened {_records(count)} with no care, crew, coding, registration or funeral "
                f"relationship on file; {peers_phrase(expected)}")


class FreshDeaths(Detector):
    """Unexplained accesses to deaths only hours old (the broker's signature)."""

    name = "unexplained_fresh_deaths"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Viewed {count} death{'s' if count != 1 else ''} within 12 h of death with no "
                f"relationship to the deceased; {peers_phrase(expected)}")


class OtherInstitution(Detector):
    """Unexplained accesses to deaths handled by another institution or in another district."""

    name = "other_institution"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Opened {_records(count)} of deaths handled by another institution or in another "
                f"district, without a relationship; {peers_phrase(expected)}")


class ContactDisclosure(Detector):
    """Relatives' contact fields disclosed without a relationship."""

    name = "contact_disclosure"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Displayed relatives' contact details of {_records(count)} without a relationship; "
                f"{peers_phrase(expected)}")


class LateHandleCall(Detector):
    """Calls to a relative's virtual number after it ended: the number left the holder's screen."""

    name = "late_handle_call"
    metric = "events"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"A relative's virtual number shown to this person was dialled {count} time"
                f"{'s' if count != 1 else ''} after it had ended (refused by the telephony bridge): the number "
                f"was written down or passed on; {peers_phrase(expected)}")


class ContactElsewhere(Detector):
    """Relatives' contact details of deaths handled by another institution, without a relationship."""

    name = "contact_elsewhere"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Displayed relatives' contact details of {_records(count)} of deaths handled by another "
                f"institution or in another district, without a relationship (the pattern of selling "
                f"families' numbers); {peers_phrase(expected)}")


class NeighbourLookup(Detector):
    """Unexplained accesses to people from the user's own residential compound."""

    name = "neighbour_lookup"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Opened {_records(count)} of people who lived in the user's own residential "
                f"compound, without a relationship; {peers_phrase(expected)}")


class FamilyLookup(Detector):
    """Accesses, without the user's own relationship, to people sharing the user's surname and compound."""

    name = "family_lookup"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Opened {_records(count)} of people with the user's surname in the user's own compound "
                f"(possible relatives), without a relationship; {peers_phrase(expected)}")


class VolumeSpike(Detector):
    """Days far above the user's own robust range (median + 5 MAD) and peers' typical day."""

    name = "volume_spike"

    def explain(self, *, count: int, expected: float) -> str:
        """Reason text."""
        return (f"Unusually many records in a day: {_records(count)} without a relationship on days "
                f"far above the user's own usual volume and the peers'; {peers_phrase(expected)}")
