"""SQL engines that run the feature definitions of :mod:`piguard.detect.features`."""

from __future__ import annotations

from piguard.detect.engines.base import Engine

ENGINES = ("duckdb", "spark")

__all__ = ["ENGINES", "Engine"]
