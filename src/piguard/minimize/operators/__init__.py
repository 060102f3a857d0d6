"""Pure, reusable masking operators: mask, redact, keyed pseudonym, hash, generalise.

They know nothing about records, databases or display contexts, so the display-context
projections (``minimize/contexts.py``) and ``piguard redact`` share one implementation.
"""

from __future__ import annotations

from piguard.minimize.operators.generalise import age_band, to_month
from piguard.minimize.operators.hashing import hash_value, pseudonymize
from piguard.minimize.operators.mask import mask, mask_email, redact

__all__ = [
    "age_band",
    "hash_value",
    "mask",
    "mask_email",
    "pseudonymize",
    "redact",
    "to_month",
]
