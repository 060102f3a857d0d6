"""``piguard db``: schema migrations."""

from __future__ import annotations

import typer

from piguard.cli.common import console, load_settings

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target Alembic revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from piguard.db import migrate

    settings = load_settings()
    migrate.upgrade(settings, revision=revision)
    console.print(f"database at revision [bold]{revision}[/]")
