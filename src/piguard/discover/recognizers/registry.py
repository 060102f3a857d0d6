"""Which recognizer serves which entity; heavy ones (jieba) are only built when requested."""

from __future__ import annotations

from collections.abc import Collection

from piguard.discover.recognizers.base import Recognizer

__all__ = ["ALL_ENTITIES", "IDENTIFIER_ENTITIES", "build_recognizers"]

IDENTIFIER_ENTITIES: tuple[str, ...] = (
    "CN_RESIDENT_ID",
    "CN_MOBILE",
    "CN_LANDLINE",
    "BANK_CARD",
    "CN_USCC",
    "CN_PLATE",
    "CN_PASSPORT",
    "CN_TRAVEL_PERMIT",
    "EMAIL",
    "IP_ADDRESS",
    "URL",
    "PHONE",
    "IBAN",
    "US_SSN",
)
CONTEXTUAL_ENTITIES: tuple[str, ...] = ("DATE_OF_BIRTH", "MEDICAL", "MINOR_UNDER_14")
NLP_ENTITIES: tuple[str, ...] = ("PERSON", "ADDRESS")
ALL_ENTITIES: tuple[str, ...] = IDENTIFIER_ENTITIES + CONTEXTUAL_ENTITIES + NLP_ENTITIES


def build_recognizers(entities: Collection[str]) -> list[Recognizer]:
    """Recognizers needed for ``entities``; modules for unrequested entities are not imported."""
    wanted = set(entities)
    out: list[Recognizer] = []
    from piguard.discover.recognizers.cn.identifiers import cn_recognizers
    from piguard.discover.recognizers.generic.contextual import (
        DateOfBirthRecognizer,
        MedicalRecognizer,
        PhoneRecognizer,
    )
    from piguard.discover.recognizers.generic.identifiers import generic_recognizers
    from piguard.discover.recognizers.generic.minors import MinorRecognizer

    candidates: list[Recognizer] = [
        *cn_recognizers(),
        *generic_recognizers(),
        PhoneRecognizer(),
        DateOfBirthRecognizer(),
        MedicalRecognizer(),
        MinorRecognizer(),
    ]
    if wanted.intersection(NLP_ENTITIES):
        from piguard.discover.recognizers.nlp import nlp_recognizers

        candidates.extend(nlp_recognizers(wanted))
    for rec in candidates:
        if wanted.intersection(rec.entities):
            out.append(rec)
    return out
