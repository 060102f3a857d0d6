"""`piguard db upgrade`: what it says, an unknown revision, and the 0008/0009 backfills of rows
written before them (SQLite; the migrations' SQL is plain UPDATEs, the same on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import migrate

runner = CliRunner()
TAKEN = "2025-03-01 08:00:00.000000"
ADDED = "2025-02-01 09:30:00.000000"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_upgrade_says_where_the_database_is_and_refuses_an_unknown_revision(data_dir: Path) -> None:
    made = runner.invoke(app, ["db", "upgrade"])
    assert made.exit_code == 0 and "(was empty)" in made.output
    newest = made.output.split("revision ")[1].split(" ")[0]
    older = runner.invoke(app, ["db", "upgrade", "0008"])  # never a downgrade: it says so
    assert older.exit_code == 0 and f"database at revision {newest} (unchanged)" in older.output
    unknown = runner.invoke(app, ["db", "upgrade", "nosuch"])
    assert unknown.exit_code == 2 and "no migration 'nosuch'" in unknown.output
    assert "Traceback" not in unknown.output


def test_rows_written_before_0008_and_0009_get_their_completion_and_creation_times(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    migrate.upgrade(settings, revision="0007")
    engine = create_engine(settings.resolved_database_url())
    with engine.begin() as conn:
        # A plain engine: SQLite enforces no foreign keys, so no account or organisation rows are needed.
        conn.execute(
            text(
                "INSERT INTO training_completions (id, account_id, course_code, completed_at, score, valid_until) "
                "VALUES ('01TC', '01ACC', 'privacy-basics', :taken, 90, :until)"
            ),
            {"taken": TAKEN, "until": "2026-03-01 08:00:00.000000"},
        )
        conn.execute(
            text(
                "INSERT INTO training_courses (id, code, title, mandatory, validity_days, pass_mark, "
                "requires_attestation, created_by, created_at, ledger_event_id) "
                "VALUES ('01CO', 'deceased-data', 'T', 1, 365, 80, 0, '01ACC', :added, '01EV')"
            ),
            {"added": ADDED},
        )
    engine.dispose()
    migrate.upgrade(settings)
    engine = create_engine(settings.resolved_database_url())
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT recorded_at FROM training_completions")).scalar_one()
        binds = conn.execute(text("SELECT binds_from FROM training_courses")).scalar_one()
    engine.dispose()
    assert str(recorded).startswith("2025-03-01 08:00:00") and str(binds).startswith("2025-02-01 09:30:00")
    assert datetime.fromisoformat(str(recorded)).replace(tzinfo=UTC) == datetime(2025, 3, 1, 8, tzinfo=UTC)
