"""Alembic, driven from code: ``piguard db upgrade`` and the migration test use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from piguard.config import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings, *, url: str | None = None) -> Config:
    """An Alembic config for the package's migrations and the configured database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or settings.resolved_database_url()).replace("%", "%%"))
    return config


def upgrade(settings: Settings, *, revision: str = "head", url: str | None = None) -> None:
    """Bring the database schema up to ``revision``."""
    if (url or settings.resolved_database_url()).startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings, url=url), revision)
