"""The narrow interface an engine offers the detector: materialise a query, fetch rows."""

from __future__ import annotations

from typing import Any, Protocol


class Engine(Protocol):
    """Runs the shared feature SQL; results come back as plain dicts."""

    name: str

    def materialize(self, name: str, sql: str, *, cache: bool = True) -> None:
        """Make ``sql`` queryable as ``name``; computed once if ``cache`` (else where cheaper)."""
        ...

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        """Run ``sql`` and return its rows."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...
