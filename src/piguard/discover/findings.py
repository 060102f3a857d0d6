"""The one record every recognizer emits: an entity found at a span, with its reason."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A piece of personal information found in a text.

    ``start``/``end`` are code-point offsets into the analysed text (end exclusive);
    ``entity`` is a canonical FORMATS.md section 7 name; ``explanation`` says which pattern,
    validator and context words produced it, and never contains the matched value.
    """

    entity: str
    start: int
    end: int
    score: float
    explanation: str
    recognizer: str
