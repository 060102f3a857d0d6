"""Helpers for `piguard audit` tests on an SQLite installation: append events, run the command."""

from __future__ import annotations

from collections.abc import Iterable

from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.interchange.events import AccessEvent
from piguard.ledger import service
from tests.unit.ledger.ledger_factories import make_event

runner = CliRunner()


def append_events(settings: Settings, events: Iterable[AccessEvent]) -> None:
    """Commit ``events`` to the installation's ledger in one transaction."""
    engine = make_engine(settings)
    with make_session_factory(engine)() as session, session.begin():
        service.bind_settings(session, settings)
        service.append_many(session=session, events=list(events))
    engine.dispose()


def append(settings: Settings, numbers: range) -> None:
    """Commit the factory's events with these numbers."""
    append_events(settings, (make_event(i) for i in numbers))


def run(*args: str) -> tuple[int, str]:
    """Run ``piguard audit ARGS``: exit code and output (never a traceback)."""
    result = runner.invoke(app, ["audit", *args])
    # Rich wraps long lines at the terminal width; join them back for the assertions.
    output = result.output.replace("\n", "") if result.exit_code else result.output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, output
