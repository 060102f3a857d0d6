"""DuckDB engine: the embedded default, out-of-core (spills to the data directory)."""

from __future__ import annotations

from typing import Any

import duckdb


class DuckDBEngine:
    """Runs the feature SQL in the DuckDB connection that holds the prepared inputs."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def materialize(self, name: str, sql: str, *, cache: bool = True) -> None:
        """``CREATE OR REPLACE TABLE name AS sql`` (a table is always cheaper than re-running here)."""
        del cache
        self._con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts."""
        cursor = self._con.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        """The connection belongs to the caller; nothing to release here."""
