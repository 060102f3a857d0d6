"""Helpers shared by CLI modules: settings, database sessions, consistent error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

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
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PIGUARD_" + "_".join(str(part) for part in first["loc"]).upper()
        # The message names the rule, never the value (it could be a secret or a path).
        raise fail(f"configuration: {name}: {validation_reason(first)}", code=2) from None


@contextmanager
def db_session(settings: Settings) -> Iterator[Session]:
    """A session whose engine is disposed afterwards; the caller opens the transaction."""
    # Imported here so that `piguard --help` and light commands start fast.
    from piguard.db import make_engine, make_session_factory
    from piguard.db.registry import load_all_models
    from piguard.ledger.service import bind_settings

    # Commands import only the services they use; loading every domain's models keeps the mapped
    # tables complete, so a flush can resolve foreign keys into any domain.
    load_all_models()
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    try:
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
