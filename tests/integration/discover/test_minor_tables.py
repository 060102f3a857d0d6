"""Database tables holding minors' data (MINOR_UNDER_14), on SQLite and PostgreSQL and via the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.discover.analyzer import Analyzer
from piguard.discover.scanner import scan_database
from piguard.ids import new_id

ENTITIES = "MINOR_UNDER_14,DATE_OF_BIRTH,CN_MOBILE"


@pytest.fixture
def deaths(engine: Engine) -> Iterator[tuple[str, str]]:
    """A death register with an age column and a birth-date column; (URL, table name)."""
    url = engine.url.render_as_string(hide_password=False)
    postgres = engine.dialect.name == "postgresql"
    name = f"minor_deaths_{new_id().lower()}"
    today = dt.date.today()
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one() if postgres else None
        qualified = f'"{schema}".{name}' if schema else name
        conn.execute(
            text(f"CREATE TABLE {qualified} (id INTEGER PRIMARY KEY, nl INTEGER, csrq DATE, lxdh VARCHAR(20))")
        )
        rows = []
        for i in range(40):
            # One row in ten is a child: five years old, born five years before today.
            age = 5 if i % 10 == 3 else 60 + i
            rows.append(
                {"i": i, "nl": age, "csrq": today.replace(year=today.year - age, day=1), "lxdh": f"1381234{i:04d}"}
            )
        conn.execute(text(f"INSERT INTO {qualified} VALUES (:i, :nl, :csrq, :lxdh)"), rows)  # noqa: S608
    yield url, (f"{schema}.{name}" if schema else name)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {qualified}"))


def test_scan_database_reports_age_and_birth_date_columns(deaths: tuple[str, str]) -> None:
    url, table = deaths
    result = scan_database(url, analyzer=Analyzer(entities=ENTITIES.split(",")), tables=[table])
    got = {(c.column, c.entity): (c.matched, c.sampled) for c in result.columns}
    assert got[("nl", "MINOR_UNDER_14")] == (4, 40)
    assert got[("csrq", "DATE_OF_BIRTH")] == (40, 40)
    assert got[("csrq", "MINOR_UNDER_14")] == (4, 40)
    assert ("lxdh", "CN_MOBILE") in got


def test_a_later_reference_date_ages_the_children(deaths: tuple[str, str]) -> None:
    url, table = deaths
    later = dt.date.today() + dt.timedelta(days=366 * 10)
    result = scan_database(url, analyzer=Analyzer(entities=ENTITIES.split(",")), tables=[table], reference_date=later)
    entries = {(c.column, c.entity) for c in result.columns}
    # A stated age stays as recorded; the birth dates are now of people over 14.
    assert ("nl", "MINOR_UNDER_14") in entries and ("csrq", "MINOR_UNDER_14") not in entries


def test_cli_json_report_counts_minors_as_sensitive(deaths: tuple[str, str]) -> None:
    url, table = deaths
    result = CliRunner().invoke(
        app, ["scan", "--db", url, "--tables", table, "--format", "json", "--entities", ENTITIES, "--no-progress"]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    minors = [c for c in report["columns"] if c["entity"] == "MINOR_UNDER_14"]
    assert {c["column"] for c in minors} == {"nl", "csrq"}
    assert all(c["category"] == "minors" and c["sensitive"] and c["kind"] == "values" for c in minors)
    assert report["summary"]["by_category"]["minors"] == 2


def test_cli_reference_date_ages_birth_dates_and_bad_dates_are_refused(deaths: tuple[str, str]) -> None:
    url, table = deaths
    later = (dt.date.today() + dt.timedelta(days=366 * 10)).isoformat()
    base = ["scan", "--db", url, "--tables", table, "--format", "json", "--entities", ENTITIES, "--no-progress"]
    result = CliRunner().invoke(app, [*base, "--reference-date", later])
    assert result.exit_code == 0, result.stderr
    minors = {c["column"] for c in json.loads(result.stdout)["columns"] if c["entity"] == "MINOR_UNDER_14"}
    assert minors == {"nl"}  # stated ages stay as recorded; the birth dates are of teenagers by then
    bad = CliRunner().invoke(app, [*base, "--reference-date", "2025-13-01"])
    assert bad.exit_code == 2 and "--reference-date" in bad.output


def test_cli_redact_lists_a_column_once(tmp_path: Path) -> None:
    src = tmp_path / "register.csv"
    born = dt.date.today().replace(day=1)
    rows = [f"{i},{born.replace(year=born.year - (5 if i == 3 else 70))}" for i in range(30)]
    src.write_text("id,csrq\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["redact", str(src), str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("csrq (") == 1, result.stderr
