"""Valid test identifiers computed by their real check rules (not copied from anywhere)."""

from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(area: str, birth: str, seq: str) -> str:
    """An 18-digit resident ID with a correct GB 11643 (ISO 7064 MOD 11-2) check character."""
    body = f"{area}{birth}{seq}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def luhn_card(prefix: str, length: int = 16) -> str:
    """A bank-card-like number of ``length`` digits that passes the Luhn check."""
    body = prefix + "0" * (length - len(prefix) - 1)
    digits = [int(d) for d in body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)
