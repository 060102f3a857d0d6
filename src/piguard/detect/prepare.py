"""Turn the loaded tables into the engine-neutral inputs the feature SQL reads.

Renames columns whose names are reserved words in some engine (``start``/``end``), and
explodes search/export result lists into ``event_results`` here, once, because list
functions are the part of SQL where DuckDB and Spark disagree.
"""

# ruff: noqa: S608  (SQL is assembled from constants and quote-escaped file paths)

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import duckdb

INPUT_TABLES = ("events", "event_results", "p_users", "p_orgs", "p_subjects", "p_relationships",
                "p_shifts", "history_days")

_PREPARE = (
    ("p_users", "SELECT user_id, role, org_id, district, home_compound, surname, active_from, active_to "
                "FROM ctx_users"),
    ("p_orgs", "SELECT org_id, org_type, district, name FROM ctx_orgs"),
    ("p_subjects", "SELECT subject_id, any_value(death_time) AS death_ts, any_value(district) AS district, "
                   "any_value(compound) AS compound, any_value(surname) AS surname, "
                   "max(is_canary) AS is_canary FROM ctx_subjects GROUP BY subject_id"),
    ("p_relationships", "SELECT user_id, subject_id, kind, valid_from, valid_to FROM ctx_relationships"),
    ("p_shifts", "SELECT user_id, \"start\" AS shift_start, \"end\" AS shift_end FROM ctx_shifts"),
    ("event_results", "SELECT event_id, user_id, ts, action, subject_id FROM ("
                      "SELECT event_id, user_id, ts, action, unnest(string_split(result_ids, ';')) AS subject_id "
                      "FROM events WHERE result_ids IS NOT NULL) r WHERE subject_id <> ''"),
)


def partial_day(since: datetime | None) -> date | None:
    """The (UTC) day a ``--since`` cuts in two, if it does: the run covers only its end."""
    if since is None:
        return None
    at = since.astimezone(UTC)
    return None if at.time() == time(0) else at.date()


def prepare(con: duckdb.DuckDBPyConnection, *, history: Path | None = None, since: datetime | None = None) -> None:
    """Create the ``p_*`` tables, ``event_results`` and ``history_days`` in ``con``.

    ``history_days`` is the stored baseline without the days this run recomputes: every (UTC)
    day with events in this run, except a day ``since`` cuts in two, whose stored count stays
    (``user_days`` keeps the larger of it and this run's partial count).
    """
    for name, sql in _PREPARE:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
    if history is not None and history.exists():
        con.execute(
            "CREATE OR REPLACE TABLE history_days AS SELECT user_id, CAST(day AS DATE) AS day, "
            f"CAST(n_subjects AS BIGINT) AS n_subjects FROM read_parquet('{_q(history)}')"
        )
        # Only the days this run covers are recomputed from its events; earlier and later days
        # (a run over an older or shorter file) keep their stored counts.
        cut = partial_day(since)
        con.execute(
            "DELETE FROM history_days WHERE day IN (SELECT DISTINCT CAST(ts AS DATE) FROM events) "
            "AND (CAST(? AS DATE) IS NULL OR day <> CAST(? AS DATE))", [cut, cut],
        )
    else:
        con.execute("CREATE OR REPLACE TABLE history_days (user_id VARCHAR, day DATE, n_subjects BIGINT)")


def export_inputs(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, Path]:
    """Write every input table as Parquet (how the Spark engine receives them)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in INPUT_TABLES:
        path = directory / f"{name}.parquet"
        con.execute(f"COPY {name} TO '{_q(path)}' (FORMAT parquet)")
        paths[name] = path
    return paths


def _q(path: Path) -> str:
    return str(path).replace("'", "''")
