"""PIPL Article 28 / GB/T 35273 categories of the canonical entities (FORMATS.md section 7).

Sensitive personal information under PIPL Art. 28: biometrics, religious belief, specific
identity, medical and health, financial accounts, whereabouts and tracks, and any PI of minors
under 14. GB/T 35273-2020 Appendix B lists identity-card numbers among sensitive PI ("specific
identity"), so identity documents are sensitive; ordinary contact data (phone, email) is not.
"""

from __future__ import annotations

__all__ = ["CATEGORIES", "ENTITY_CATEGORY", "category_of", "is_sensitive"]

#: Every category and whether PIPL treats it as sensitive.
CATEGORIES: dict[str, bool] = {
    "identity_document": True,
    "financial_account": True,
    "medical_health": True,
    "biometric": True,
    "whereabouts_location": True,
    "minors": True,
    "contact": False,
    "online_identifier": False,
    "personal_basic": False,
}

ENTITY_CATEGORY: dict[str, str] = {
    "CN_RESIDENT_ID": "identity_document",
    "CN_PASSPORT": "identity_document",
    "CN_TRAVEL_PERMIT": "identity_document",
    "US_SSN": "identity_document",
    "CN_MOBILE": "contact",
    "CN_LANDLINE": "contact",
    "PHONE": "contact",
    "EMAIL": "contact",
    "BANK_CARD": "financial_account",
    "IBAN": "financial_account",
    "MEDICAL": "medical_health",
    # A licence plate tracks a vehicle (and so its owner) through cameras and parking
    # records: GB/T 35273 B.1 lists it among whereabouts/track information.
    "CN_PLATE": "whereabouts_location",
    "IP_ADDRESS": "online_identifier",
    "URL": "online_identifier",
    "PERSON": "personal_basic",
    "ADDRESS": "personal_basic",
    "DATE_OF_BIRTH": "personal_basic",
    # An age under 14 (text), or an age or birth-date column that puts people under 14.
    "MINOR_UNDER_14": "minors",
    # A unified social credit code identifies an organisation, or a sole trader; it is not
    # PI of a natural person in most records, so it counts as a basic identifier only.
    "CN_USCC": "personal_basic",
}


def category_of(entity: str) -> str:
    """The PIPL / GB/T 35273 category of a canonical entity (``personal_basic`` if unknown)."""
    return ENTITY_CATEGORY.get(entity, "personal_basic")


def is_sensitive(entity: str) -> bool:
    """Whether PIPL Art. 28 treats the entity's category as sensitive personal information."""
    return CATEGORIES.get(category_of(entity), False)
