"""Helpers for recognizer tests: build valid identifiers by their real rules."""

from __future__ import annotations

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.validators import luhn_ok, mod11_2_check


def resident_id(area: str, born: str, seq: str = "123") -> str:
    """A valid 18-digit resident ID for the area code and birth date (YYYYMMDD)."""
    body = area + born + seq
    return body + mod11_2_check(body)


def luhn_complete(prefix: str, length: int) -> str:
    """A Luhn-valid number starting with ``prefix`` of ``length`` digits."""
    body = prefix + "0" * (length - len(prefix) - 1)
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def found(analyzer: Analyzer, text: str) -> list[tuple[str, str]]:
    """(entity, matched text) pairs."""
    return [(f.entity, text[f.start : f.end]) for f in analyzer.analyze(text)]
