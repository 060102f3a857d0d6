"""piguard: guards sensitive personal records against the insiders who are allowed to log in.

The curated public API. Names load lazily so ``import piguard`` stays cheap (the web framework,
the policy engine and the analytics engines are imported only when used).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # configuration and errors
    "Settings": "piguard.config",
    "PiguardError": "piguard.errors",
    "ConfigError": "piguard.errors",
    "InputError": "piguard.errors",
    "AccessDenied": "piguard.errors",
    "LedgerError": "piguard.errors",
    # interchange formats (FORMATS.md)
    "AccessEvent": "piguard.interchange.events",
    "read_events": "piguard.interchange.events",
    "write_events": "piguard.interchange.events",
    # policy and minimisation
    "AccessRequest": "piguard.policy.pdp",
    "Decision": "piguard.policy.pdp",
    "PolicyEngine": "piguard.policy.pdp",
    "decide": "piguard.policy.pdp",
    "project": "piguard.minimize.contexts",
    # ledger
    "leaf_hash": "piguard.ledger.merkle",
    "verify_inclusion": "piguard.ledger.merkle",
    "verify_consistency": "piguard.ledger.merkle",
    # the service
    "create_app": "piguard.api.app",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'piguard' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
