"""Fixtures for the discovery source, classification, report and redaction tests."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

IDENTIFIERS = ("CN_RESIDENT_ID", "CN_MOBILE", "CN_LANDLINE", "BANK_CARD", "EMAIL", "IP_ADDRESS")


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """An analyzer for validated identifiers only (fast, no NLP models)."""
    return Analyzer(entities=IDENTIFIERS)


@pytest.fixture(scope="session")
def full_analyzer() -> Analyzer:
    """An analyzer for every entity, names and addresses included."""
    return Analyzer()
