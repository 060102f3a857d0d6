"""Spark engine: the same feature SQL on Apache Spark (local mode, or a cluster by URL).

The prepared inputs arrive as Parquet files (written by DuckDB); each becomes a temporary
view, and materialised steps are cached views (filled by the first query that reads them),
so the statements are those DuckDB runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from piguard.errors import DetectionError


class SparkEngine:
    """Runs the feature SQL on a Spark session."""

    name = "spark"

    def __init__(self, inputs: dict[str, Path], *, master: str | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise DetectionError("the Spark engine needs pyspark (pip install pyspark)") from None
        # Spark's Python workers must use this interpreter; times are UTC throughout.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = (
            SparkSession.builder.appName("piguard-detect")
            .master(master or os.environ.get("PIGUARD_SPARK_MASTER", "local[2]"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("PIGUARD_SPARK_PARTITIONS", "4"))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        )
        # Extra settings, e.g. "spark.sql.codegen.wholeStage=false,spark.sql.adaptive.enabled=false".
        for item in os.environ.get("PIGUARD_SPARK_CONF", "").split(","):
            key, sep, value = item.partition("=")
            if sep and key.strip():
                builder = builder.config(key.strip(), value.strip())
        try:
            self._spark = builder.getOrCreate()
        except Exception as exc:  # Java missing or cluster unreachable: report, don't trace back
            raise DetectionError(f"cannot start Spark ({type(exc).__name__})") from None
        self._spark.sparkContext.setLogLevel("ERROR")
        self._cached: list[Any] = []
        for name, path in inputs.items():
            self._spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str, *, cache: bool = True) -> None:
        """Cache ``sql`` as the temporary view ``name`` (a plain view if not ``cache``)."""
        if not cache:
            self._spark.sql(sql).createOrReplaceTempView(name)
            return
        # Computed once, by the first query that reads it (forcing it now costs a job per step).
        frame = self._spark.sql(sql).cache()
        frame.createOrReplaceTempView(name)
        self._cached.append(frame)

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts."""
        return [row.asDict() for row in self._spark.sql(sql).collect()]

    def close(self) -> None:
        """Drop cached data; the session stays for reuse in this process."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()
