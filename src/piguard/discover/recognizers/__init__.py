"""Pure PI recognizers (no I/O beyond their shipped data files) and their registry."""

from __future__ import annotations

from piguard.discover.recognizers.registry import ALL_ENTITIES, build_recognizers

__all__ = ["ALL_ENTITIES", "build_recognizers"]
