"""On SQLite a savepoint and a migration stay inside their transaction (Python's driver begins lazily)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from piguard.config import Settings
from piguard.db import make_engine, make_session_factory, migrate
from piguard.records import service as records


def test_a_released_savepoint_is_rolled_back_with_its_transaction(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    migrate.upgrade(settings)
    engine = make_engine(settings)
    sessions = make_session_factory(engine)

    def request_that_fails_after_its_change() -> None:
        with sessions() as db, db.begin():
            db.execute(text("SELECT 1"))  # reads before the first write, as authentication does
            with db.begin_nested():  # as the workflows do around their change
                records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
            raise RuntimeError("the ledger append failed")

    with pytest.raises(RuntimeError):
        request_that_fails_after_its_change()
    with sessions() as db:
        assert db.execute(text("SELECT count(*) FROM organisations")).scalar_one() == 0
    engine.dispose()


def test_concurrent_requests_that_read_then_write_in_a_savepoint_all_succeed(tmp_path: Path) -> None:
    # Each reads inside its savepoint, waits, then writes: with a deferred BEGIN the snapshot
    # of the losers could not be upgraded once the first had committed ("database is locked" at
    # once, which the server answered with 500s); BEGIN IMMEDIATE makes them wait their turn.
    settings = Settings(data_dir=tmp_path)
    migrate.upgrade(settings)
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    failures: list[str] = []

    def request(k: int) -> None:
        try:
            with sessions() as db, db.begin(), db.begin_nested():
                db.execute(text("SELECT count(*) FROM organisations")).scalar_one()
                time.sleep(0.05)
                records.create_organisation(session=db, name=f"Hospital {k}", org_type="hospital", district="310112")
        except Exception as exc:  # any failure is the finding
            failures.append(type(exc).__name__)

    threads = [threading.Thread(target=request, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with sessions() as db:
        assert db.execute(text("SELECT count(*) FROM organisations")).scalar_one() == 6
    engine.dispose()


def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    migrate.upgrade(settings)
    url = settings.resolved_database_url()
    engine = create_engine(url)
    with engine.connect() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    # The package's own env.py and revisions, plus one revision that fails after changing the schema.
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_fails_half_way.py").write_text(
        f'''"""A revision that fails half-way."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("organisations", sa.Column("half_done", sa.Integer))
    raise RuntimeError("the migration failed half-way")


def downgrade() -> None:
    pass
'''
    )
    config = migrate.alembic_config(settings)
    config.set_main_option("script_location", str(scripts))
    with pytest.raises(RuntimeError, match="half-way"):
        command.upgrade(config, "head")
    tables = inspect(engine)
    assert "half_done" not in tables.get_table_names()
    assert "half_done" not in {column["name"] for column in tables.get_columns("organisations")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
    engine.dispose()
