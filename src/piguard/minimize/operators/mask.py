"""Character masking and redaction."""

from __future__ import annotations

from piguard.errors import InputError

DEFAULT_KEEP_CHARS = frozenset(" -")


def mask(
    value: str,
    *,
    keep_last: int = 4,
    keep_first: int = 0,
    char: str = "*",
    preserve: frozenset[str] = DEFAULT_KEEP_CHARS,
) -> str:
    """Replace every character by ``char`` except the first/last n and separators in ``preserve``.

    Counting skips preserved separators, so ``138 1234 5678`` keeps its spacing and its
    last four digits. When the kept parts would cover the whole value, everything is
    masked instead: a short value must not come back in clear.
    """
    if keep_last < 0 or keep_first < 0:
        raise InputError("keep_first and keep_last must be >= 0", where="mask")
    if len(char) != 1:
        raise InputError("mask char must be a single character", where="mask")
    positions = [i for i, ch in enumerate(value) if ch not in preserve]
    if keep_first + keep_last >= len(positions):
        keep_first = keep_last = 0
    kept = set(positions[:keep_first])
    if keep_last:
        kept.update(positions[-keep_last:])
    return "".join(
        ch if (ch in preserve or i in kept) else char for i, ch in enumerate(value)
    )


def mask_email(value: str, *, char: str = "*") -> str:
    """Mask the local part of an e-mail address except its first character; keep the domain."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return mask(value, keep_last=0, char=char, preserve=frozenset())
    return local[0] + char * (len(local) - 1) + "@" + domain


def redact(value: str, *, placeholder: str = "[REDACTED]") -> str:
    """Replace the whole value by a placeholder (the value's length is not revealed)."""
    del value
    return placeholder
