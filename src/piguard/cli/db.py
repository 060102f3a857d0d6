"""``piguard db``: schema migrations."""

from __future__ import annotations

import typer

from piguard.cli.common import console, fail, load_settings, setup_errors

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target Alembic revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from piguard.db import migrate

    settings = load_settings()
    if not migrate.known_revision(revision):
        raise fail(f"REVISION: no migration '{revision}' in this version of piguard", code=2)
    with setup_errors(settings):
        before = migrate.current_revisions(settings)
        migrate.upgrade(settings, revision=revision)
        after = migrate.current_revisions(settings)
    state = "unchanged" if after == before else f"was {', '.join(before) or 'empty'}"
    # An older target changes nothing (upgrade never downgrades): say where the database really is.
    console.print(f"database at revision {', '.join(after)} ({state})", highlight=False)
