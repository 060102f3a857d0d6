"""Redaction policies: how one value of a known entity, or one finding in a text, is replaced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from piguard.discover.analyzer import Analyzer
from piguard.discover.findings import Finding
from piguard.discover.redact.ages import with_every_age
from piguard.errors import ConfigError, InputError
from piguard.minimize.operators import hash_value, mask, mask_email, pseudonymize

__all__ = ["MINOR_MASK", "POLICIES", "Change", "Redactor", "mask_value", "redact_text", "whole_change"]

POLICIES = ("mask", "hash", "pseudonym", "remove")
_KEEP_LAST_4 = frozenset(
    {
        "CN_RESIDENT_ID",
        "CN_MOBILE",
        "CN_LANDLINE",
        "PHONE",
        "BANK_CARD",
        "IBAN",
        "US_SSN",
        "CN_PASSPORT",
        "CN_TRAVEL_PERMIT",
        "CN_USCC",
    }
)
_KEEP_FIRST_1 = frozenset({"PERSON", "CN_PLATE"})
_DATE_SEPARATORS = frozenset(" -/:.年月日T")
# A minor's age (and any value of a minors' age column) is masked to one width: a mask as long
# as the value would tell 8 from 87.
_MINOR_ENTITY = "MINOR_UNDER_14"
MINOR_MASK = "***"
#: How one value is replaced (``None`` removes it).
Change = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Redactor:
    """Applies one policy to values of a known entity; ``key`` is needed for ``pseudonym``."""

    policy: str
    key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InputError(f"unknown policy; expected one of {', '.join(POLICIES)}", where="--policy")
        if self.policy == "pseudonym" and not self.key:
            raise ConfigError("the pseudonym policy needs a key")

    def value(self, value: str, entity: str) -> str | None:
        """The replacement of one value (``None`` removes it: an empty cell, a dropped key)."""
        if self.policy == "remove":
            return None
        if self.policy == "hash":
            return hash_value(value)
        if self.policy == "pseudonym":
            assert self.key is not None
            return f"{entity}_{pseudonymize(value, key=self.key, domain=entity)}"
        return mask_value(value, entity)

    def span(self, value: str, entity: str) -> str:
        """The replacement of a span inside free text (never empty: the reader sees a gap)."""
        replaced = self.value(value, entity)
        return f"[{entity}]" if replaced is None else replaced


def mask_value(value: str, entity: str) -> str:
    """The ``mask`` policy for one entity: keep the last 4 of identifiers, a name's surname; a
    minor's age is ``MINOR_MASK`` whatever its length."""
    if entity == "EMAIL":
        return mask_email(value)
    if entity == _MINOR_ENTITY:
        return MINOR_MASK
    if entity in _KEEP_LAST_4:
        return mask(value, keep_last=4)
    if entity in _KEEP_FIRST_1:
        return mask(value, keep_first=1, keep_last=0)
    if entity == "DATE_OF_BIRTH":
        return mask(value, keep_last=0, preserve=_DATE_SEPARATORS)
    return mask(value, keep_last=0)


def redact_text(
    text: str, *, analyzer: Analyzer, redactor: Redactor, findings: list[Finding] | None = None
) -> tuple[str, int]:
    """``text`` with every finding replaced, and the number of findings (given or found here).

    Every person's age is replaced too, adults' as well as the children's that ``MINOR_UNDER_14``
    finds: masking only the children's would tell who the children are (``ages``)."""
    if findings is None:
        findings = analyzer.analyze(text)
    findings = with_every_age(text, findings, analyzer)
    out = text
    for f in reversed(findings):  # right to left, so earlier offsets stay valid
        out = out[: f.start] + redactor.span(text[f.start : f.end], f.entity) + out[f.end :]
    return out, len(findings)


def whole_change(redactor: Redactor, entity: str) -> Change:
    """The change of a column transformed whole: every value by ``entity``'s policy."""
    return lambda value: redactor.value(value, entity)
