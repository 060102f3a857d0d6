"""Helpers shared by CLI modules: settings, database sessions, consistent error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from piguard.config import Settings

console = Console()
err_console = Console(stderr=True)


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a one-line error naming the variable (exit 2)."""
    from pydantic import ValidationError

    from piguard.config import Settings
    from piguard.errors import validation_reason

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PIGUARD_" + "_".join(str(part) for part in first["loc"]).upper()
        # The message names the rule, never the value (it could be a secret or a path).
        raise fail(f"configuration: {name}: {validation_reason(first)}", code=2) from None
    _warn_unknown_variables()
    return settings


#: PIGUARD_ variables read elsewhere than the settings (detection engines, the witness, the tests).
_OTHER_VARIABLES = frozenset({
    "PIGUARD_DUCKDB_MEMORY", "PIGUARD_SPARK_CONF", "PIGUARD_SPARK_MASTER", "PIGUARD_SPARK_PARTITIONS",
    "PIGUARD_WITNESS_TOKEN", "PIGUARD_SHARED_DIR", "PIGUARD_TEST_DATABASE_URL",
})  # fmt: skip


def _warn_unknown_variables() -> None:
    """Warn of a PIGUARD_ variable no setting reads: a typo (PIGUARD_DATABASE_ULR) is otherwise silent."""
    import os

    from piguard.config import Settings

    known = {f"PIGUARD_{name.upper()}" for name in Settings.model_fields} | _OTHER_VARIABLES
    for name in sorted(n for n in os.environ if n.upper().startswith("PIGUARD_") and n.upper() not in known):
        err_console.print(
            f"[bold yellow]warning[/]: {escape(name)} is not a piguard setting and is ignored (a typo?)",
            highlight=False,
            soft_wrap=True,
        )


def require_database(settings: Settings) -> None:
    """Exit 2 with one line unless the configured database exists and holds piguard's schema."""
    from sqlalchemy.engine import make_url

    from piguard.db import migrate
    from piguard.errors import ConfigError

    url = make_url(settings.resolved_database_url())
    database = url.database
    # Connecting would create an SQLite file (and its directory): look before, so a mistyped
    # PIGUARD_DATA_DIR leaves nothing behind.
    if url.get_backend_name() == "sqlite" and database and database != ":memory:" and not Path(database).exists():
        raise fail(f"database {database} does not exist: run 'piguard init'", code=2)
    try:
        migrate.check_database(settings)  # empty, or at another revision: the message names the fix
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None


@contextmanager
def db_session(settings: Settings) -> Iterator[Session]:
    """A session whose engine is disposed afterwards; the caller opens the transaction."""
    # Imported here so that `piguard --help` and light commands start fast.
    from piguard.db import make_engine, make_session_factory, migrate
    from piguard.db.registry import load_all_models
    from piguard.ledger.service import bind_settings

    # Commands import only the services they use; loading every domain's models keeps the mapped
    # tables complete, so a flush can resolve foreign keys into any domain.
    load_all_models()
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    try:
        # A schema older or newer than the code: the command says so instead of failing mid-way on
        # a missing column (a database created from the models, as the tests do, passes).
        migrate.require_current(engine)
        with factory() as session:
            bind_settings(session, settings)
            yield session
    finally:
        engine.dispose()


@contextmanager
def db_session_factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory whose engine is disposed afterwards, for commands that run several transactions."""
    from piguard.db import make_engine, make_session_factory
    from piguard.db.registry import load_all_models

    load_all_models()
    engine = make_engine(settings)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print an error (never a traceback) and return the Exit to raise.

    The message is printed as plain text (a file name with ``[brackets]`` is not Rich markup)
    and never wrapped or cropped at the terminal width, so long paths stay whole and copyable.
    """
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


# Ids are what the other commands take: a table never crops them, whatever the terminal width.
ID_WIDTH = 26
_UNLIMITED = 10_000
# Besides the columns kept whole (and every column's borders and padding), room for the others to fold into.
_ROOM_TO_FOLD = 48


def id_column(table: Table, name: str, *, width: int = ID_WIDTH) -> None:
    """Add a column kept whole (an id, a username): it is never wrapped nor cropped by ``print_whole``."""
    table.add_column(name, no_wrap=True, min_width=max(width, len(name)))


def print_whole(table: Table) -> None:
    """Print ``table`` wider than the terminal rather than crop a column kept whole (``no_wrap``).

    Past the terminal's edge the terminal wraps the lines; a pipe or a file keeps them whole.
    """
    natural = Measurement.get(console, console.options.update_width(_UNLIMITED), table).maximum
    if natural <= console.width:
        console.print(table)
        return
    frame = 3 * len(table.columns) + 1
    whole = sum(column.min_width or 0 for column in table.columns if column.no_wrap)
    width = max(console.width, min(natural, frame + whole + _ROOM_TO_FOLD))
    if width == console.width:
        console.print(table)
        return
    wide = Console(
        file=console.file,
        width=width,
        color_system=console.color_system,  # type: ignore[arg-type]
        force_terminal=console.is_terminal,
        no_color=console.no_color,
    )
    wide.print(table, crop=False)


@contextmanager
def setup_errors(settings: Settings) -> Iterator[None]:
    """Set-up commands (init, db upgrade, serve): an unusable database or data directory is one line, exit 2.

    The message names the database without its password, and the error's kind, never the
    driver's text (it may quote connection details).
    """
    from alembic.util.exc import CommandError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        yield
    except (ArgumentError, NoSuchModuleError, ImportError):  # ImportError: a dialect whose driver is not installed
        raise fail(
            "configuration: PIGUARD_DATABASE_URL: not a database URL piguard can use "
            "(postgresql+psycopg://USER@HOST/DB, or leave it unset for the embedded SQLite file)",
            code=2,
        ) from None
    except SQLAlchemyError as exc:
        where = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
        raise fail(f"database {where}: cannot reach or use it ({type(exc).__name__})", code=2) from None
    except CommandError as exc:
        raise fail(f"database schema: {exc}", code=2) from None
    except OSError as exc:
        raise fail(f"{exc.strerror or type(exc).__name__}: {exc.filename or settings.data_dir}", code=2) from None
