"""Alembic, driven from code: ``piguard db upgrade``, the startup schema check and the migration test use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from piguard.config import Settings
from piguard.db.engine import make_engine
from piguard.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Alembic's default table, where ``piguard db upgrade`` records the revision it brought the schema to.
VERSION_TABLE = "alembic_version"


class SchemaNotCurrentError(ConfigError):
    """The database is empty, or its schema is not the one this version of piguard was written for."""


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


def current_revisions(settings: Settings) -> list[str]:
    """The schema revisions the configured database records (empty for a database never migrated)."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def known_revision(revision: str) -> bool:
    """Whether ``revision`` names a migration of this version (or is ``head``/``heads``)."""
    if revision in ("head", "heads"):
        return True
    return revision in {script.revision for script in _scripts().walk_revisions()}


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _model_tables() -> frozenset[str]:
    from piguard.db.base import Base
    from piguard.db.registry import load_all_models

    load_all_models()
    return frozenset(Base.metadata.tables)


def schema_problem(connection: Connection) -> str | None:
    """What keeps the service from running on this database (empty, or not at the newest revision), or None."""
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE not in tables:
        if not tables & _model_tables():
            return "the database is empty (no piguard tables): run 'piguard init'"
        # 'piguard init' and 'db upgrade' always record a revision; tables without one were made from
        # the models (metadata.create_all: test fixtures, benchmarks), so there is none to compare.
        return None
    scripts = _scripts()
    heads = set(scripts.get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    newest = ", ".join(sorted(heads))
    if not current:
        return f"the database records no schema revision (its {VERSION_TABLE} table is empty): run 'piguard db upgrade'"
    known = {script.revision for script in scripts.walk_revisions()}
    if not current <= known:
        return (
            f"the database schema is at revision {', '.join(sorted(current))}, which this version of piguard does "
            f"not know (its newest is {newest}): a newer piguard migrated it; run that version"
        )
    return (
        f"the database schema is at revision {', '.join(sorted(current))}, older than this version of piguard "
        f"(revision {newest}): run 'piguard db upgrade' (back the database up first)"
    )


def require_current(engine: Engine) -> None:
    """Raise ``SchemaNotCurrentError`` unless the database is at the newest revision (see ``schema_problem``)."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            problem = schema_problem(connection)
    except SQLAlchemyError as exc:
        # The driver's message may carry connection details: name the error type only.
        raise SchemaNotCurrentError(
            f"database {where}: cannot connect to it or read its schema ({type(exc).__name__})"
        ) from None
    if problem is not None:
        raise SchemaNotCurrentError(f"database {where}: {problem}")


def check_database(settings: Settings) -> None:
    """``require_current`` over a short-lived engine of the configured database (closed again)."""
    engine = make_engine(settings)
    try:
        require_current(engine)
    finally:
        engine.dispose()
