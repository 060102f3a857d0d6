"""``piguard demo``: the city, its daily work, and the Minhang pattern failing against the guard."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from piguard.cli.common import console, fail
from piguard.errors import PiguardError


def demo(
    data_dir: Path = typer.Option(
        Path("var/demo"), "--data-dir", help="Where the demo database, keys and accounts go."
    ),
    seed: int = typer.Option(7, "--seed", min=0, help="Seed of the synthetic city (same seed, same city)."),
    days: int = typer.Option(
        60, "--days", min=3, max=365, help="Days of daily work, up to today (yesterday is the last whole day)."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="An EMPTY database to load the demo into (e.g. postgresql+psycopg://...); default: an SQLite file in "
        "--data-dir. PIGUARD_DATABASE_URL and the key-file settings are ignored.",
    ),
) -> None:
    """Build a small synthetic city, run its daily work through the guard, and replay the Minhang misuse."""
    from piguard.demo.runner import run_demo

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("daily work (calls and deaths)", total=None)
            summary = run_demo(
                data_dir=data_dir,
                seed=seed,
                days=days,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                database_url=database_url,
            )
    except PiguardError as exc:
        raise fail(str(exc), code=2) from None
    city = summary.city
    console.print(
        f"[bold]City[/] seed {seed}: {len(city.districts)} districts, {len(city.organisations)} organisations, "
        f"{len(city.staff)} staff, {len(city.vehicles)} ambulances, {len(city.deaths)} deaths, "
        f"{len(city.dispatches)} calls over {city.days} days"
    )
    checks = Table(title="The Minhang pattern, replayed", show_lines=False)
    for column in ("attempt", "piguard", "as it should", "why"):
        checks.add_column(column, overflow="fold")
    for check in summary.checks:
        checks.add_row(check.attempt, check.outcome, "[green]yes[/]" if check.passed else "[red]NO[/]", check.detail)
    console.print(checks)
    totals = Table(title="Audit ledger")
    totals.add_column("allowed", justify="right")
    totals.add_column("denied", justify="right")
    totals.add_column("events in the log", justify="right")
    totals.add_column("signed checkpoint size", justify="right")
    totals.add_row(str(summary.allowed), str(summary.denied), str(summary.events), str(summary.checkpoint_size))
    console.print(totals)
    if summary.workflow_refusals:
        console.print(f"workflow steps refused: {summary.workflow_refusals}")
    console.print(f"{summary.canaries} canary records planted among the deaths (piguard canary list)")
    console.print(f"demo accounts (demo only): {summary.accounts_file}")
    console.print(f"finished in {summary.seconds:.1f} s. Next:")
    env = _demo_environment(data_dir, database_url)
    # One line each, never wrapped: they are commands to copy.
    console.print(
        f"  {env} piguard serve                 # explore the API with the demo accounts",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"  {env} piguard audit verify          # recompute the Merkle log", highlight=False, soft_wrap=True)
    console.print(
        f"  {env} piguard audit export --out {data_dir}/events.jsonl && "
        f"{env} piguard export context --out {data_dir}/context && "
        f"piguard detect {data_dir}/events.jsonl --context {data_dir}/context",
        highlight=False,
        soft_wrap=True,
    )
    keys = [name for name in ("PIGUARD_SECRET_KEY_FILE", "PIGUARD_LEDGER_KEY_FILE") if os.environ.get(name)]
    if keys:
        console.print(
            f"[yellow]note[/]: unset {' and '.join(keys)} for these commands: "
            f"the demo has its own keys in {data_dir}/keys"
        )
    if not all(check.passed for check in summary.checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the main app."""
    app.command("demo")(demo)


def _demo_environment(data_dir: Path, database_url: str | None) -> str:
    """The settings that point a command at the demo (its database too, should the shell name another)."""
    from sqlalchemy.engine import make_url

    env = f"PIGUARD_DATA_DIR={data_dir}"
    if database_url is not None:
        return f"{env} PIGUARD_DATABASE_URL={make_url(database_url).render_as_string(hide_password=True)}"
    if os.environ.get("PIGUARD_DATABASE_URL"):
        return f"{env} PIGUARD_DATABASE_URL=sqlite:///{(data_dir / 'piguard.db').resolve()}"
    return env
