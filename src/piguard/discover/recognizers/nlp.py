"""PERSON and ADDRESS recognizers (Chinese and English); only built when those are requested."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer
from piguard.discover.recognizers.cn.address import ChineseAddressRecognizer
from piguard.discover.recognizers.cn.person import ChinesePersonRecognizer
from piguard.discover.recognizers.generic.english import (
    EnglishAddressRecognizer,
    EnglishPersonRecognizer,
)

__all__ = ["nlp_recognizers"]


class _PersonOutsideAddress(Recognizer):
    """Chinese PERSON, except inside spans the address recognizer claims (路名 like 中山路)."""

    name = "cn_person"
    entities = ("PERSON",)

    def __init__(self) -> None:
        self._person = ChinesePersonRecognizer()
        self._address = ChineseAddressRecognizer()

    def prefilter(self, text: str) -> bool:
        """Needs CJK text."""
        return self._person.prefilter(text)

    def prepare(self, texts: Sequence[str]) -> None:
        """Batch-tag the texts about to be analysed."""
        self._person.prepare(texts)

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """PERSON when the whole value is a Chinese name."""
        return self._person.validate_value(value)

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Person names that do not sit inside an address."""
        found = self._person.analyze(text, entities)
        if not found or not self._address.prefilter(text):
            return found
        spans = [(a.start, a.end) for a in self._address.analyze(text, frozenset({"ADDRESS"}))]
        return [f for f in found if not any(s <= f.start and f.end <= e for s, e in spans)]


def nlp_recognizers(entities: Collection[str]) -> list[Recognizer]:
    """The PERSON / ADDRESS recognizers for the requested entities."""
    out: list[Recognizer] = []
    if "PERSON" in entities:
        out += [_PersonOutsideAddress(), EnglishPersonRecognizer()]
    if "ADDRESS" in entities:
        out += [ChineseAddressRecognizer(), EnglishAddressRecognizer()]
    return out
