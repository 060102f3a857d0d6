"""``piguard report``: the monthly privacy report of an organisation or the city, as HTML or PDF.

Runs as ``--as USERNAME`` through the same policy and ledger as the API (the report is recorded
as an export). Exit codes: 0 done, 2 bad input or unknown name, 4 refused, 1 otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from piguard.cli.common import console, fail


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the main app."""
    app.command("report")(report)


def report(
    as_: Annotated[str, typer.Option("--as", help="Username of the privacy officer or administrator acting.")],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation id.")] = None,
    city: Annotated[bool, typer.Option("--city", help="The whole city (health commission).")] = False,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf")] = "html",
    out: Annotated[Path | None, typer.Option("--out", help="Default privacy-report-ORG-MONTH.FMT")] = None,
    alerts: Annotated[
        Path | None,
        typer.Option("--alerts", exists=True, dir_okay=False, help="Alerts from 'piguard detect --format json'."),
    ] = None,
) -> None:
    """Write the monthly privacy report: accesses, denials, break-glass, alerts, cases, rectification, training."""
    from piguard.cli.acting import run_as
    from piguard.oversight.reports import flows

    if city == (org is not None):
        raise fail("give either --org ID or --city", code=2)
    result = run_as(
        as_,
        lambda s, g, p: flows.monthly_report(
            session=s, guard=g, principal=p, org_id=org, month=month, fmt=fmt, alerts_file=alerts
        ),
    )
    target = out or Path(result.filename)
    try:
        target.write_bytes(result.content)
    except OSError as exc:
        raise fail(f"{exc.strerror or 'I/O error'}: {target}", code=2) from None
    d = result.data
    console.print(
        f"wrote {escape(str(target))} ({len(result.content)} bytes): {d.accesses} accesses, {d.denials} denials, "
        f"{d.breakglass} break-glass, {d.cases_opened} cases opened, {len(d.overdue)} overdue items, "
        f"training {d.training_coverage}",
        highlight=False,
    )
