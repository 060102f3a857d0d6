"""``piguard simulate``: generate the synthetic city's events, context, labels and complaints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from piguard.cli.common import console, fail
from piguard.errors import InputError, PiguardError
from piguard.simulate.names import SCENARIOS
from piguard.simulate.scales import SCALES


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Output directory (must not exist or be empty).")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same output.")] = 0,
    days: Annotated[int | None, typer.Option(help="Days to simulate (default per scale).")] = None,
    scale: Annotated[str, typer.Option(help=f"City size: {', '.join(SCALES)}.")] = "demo",
    scenarios: Annotated[str, typer.Option(
        help=f"Comma list of insider scenarios, 'all' or 'none'. Known: {', '.join(SCENARIOS)}."
    )] = "all",
    fmt: Annotated[str, typer.Option("--format", help="Events file format: jsonl or parquet.")] = "jsonl",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Generate a synthetic city: events, context/, labels, complaints and a manifest."""
    # numpy and the engine load here, not at import, so that `piguard --help` starts fast.
    from piguard.simulate.engine import simulate, validate_request
    from piguard.simulate.scenarios import parse_scenarios

    try:
        chosen = parse_scenarios(scenarios)
        total = validate_request(out=out, seed=seed, scale=scale, days=days, fmt=fmt)
        with Progress(
            TextColumn("[bold]simulating[/] day"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[events]:,} events"), TimeElapsedColumn(),
            console=console, disable=quiet, transient=False,
        ) as bar:
            task = bar.add_task("days", total=max(total, 0), events=0)

            def progress(done: int, events: int) -> None:
                bar.update(task, completed=done, events=events)

            manifest = simulate(out=out, seed=seed, scale=scale, days=days, scenarios=chosen,
                                fmt=fmt, progress=progress)
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        raise fail(str(exc), code=1) from None
    except OSError as exc:
        raise fail(f"cannot write output: {exc.strerror or type(exc).__name__}", code=1) from None
    counts = manifest["counts"]
    if not quiet:
        console.print(
            f"wrote {counts['events']:,} events, {counts['deaths']:,} deaths, "
            f"{counts['staff']:,} staff, {counts['labels']} labelled insiders, "
            f"{counts['complaints']} complaints to {out}", highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add the top-level ``simulate`` command."""
    app.command("simulate")(simulate_command)
