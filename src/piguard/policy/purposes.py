"""Purposes of use: HL7 v3 ActReason codes accepted by piguard."""

from __future__ import annotations

from piguard.errors import UnknownPurposeError

PURPOSES: dict[str, str] = {
    "TREAT": "treatment",
    "ETREAT": "emergency treatment",
    "BTG": "break the glass",
    "HOPERAT": "healthcare operations",
    "PUBHLTH": "public health",
    "HRESCH": "healthcare research",
    "LEGAL": "legal (household registration, investigation)",
    "FAMRQT": "family requested",
    "HPAYMT": "healthcare payment",
    "HMARKT": "healthcare marketing",
}


def parse_purpose(value: str | None) -> str:
    """Validate a purpose of use; unknown or missing purposes raise ``UnknownPurposeError`` (400)."""
    if not value:
        raise UnknownPurposeError("a purpose of use is required (HL7 ActReason code)", where="purpose")
    code = value.strip().upper()
    if code not in PURPOSES:
        raise UnknownPurposeError(
            f"unknown purpose of use; expected one of {', '.join(sorted(PURPOSES))}", where="purpose"
        )
    return code
