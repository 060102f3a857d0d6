"""Imports every domain's models so ``Base.metadata`` is complete (Alembic, tests, create_all)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "piguard.records.models",
    "piguard.policy.models",
    "piguard.minimize.models",
    "piguard.identity.models",
    "piguard.ledger.models",
    "piguard.oversight.cases.models",
    "piguard.oversight.inspections.models",
    "piguard.oversight.training.models",
    "piguard.oversight.family.models",
)


def load_all_models() -> None:
    """Import each domain's ``models`` module once."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
