"""``piguard canary`` and ``piguard export``: decoy records, and the service in interchange formats."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from piguard.cli.common import console, db_session, fail, load_settings
from piguard.errors import PiguardError

# Heavy modules (SQLAlchemy, the record services) are imported inside the commands so `piguard --help` starts fast.
if TYPE_CHECKING:
    from piguard.records.canaries import Canary

canary_app = typer.Typer(help="Canary records: decoys whose every access is an alert.", no_args_is_help=True)
export_app = typer.Typer(
    help="Export the service database in the FORMATS.md interchange formats.", no_args_is_help=True
)


def _canary_table(rows: Sequence[Canary]) -> Table:
    table = Table(title="Canary records (privacy officers only)")
    for column in ("report id", "subject id", "hospital", "district", "planted"):
        # Ids are what the other commands and the context take: never cropped, whatever the width.
        ids = column in ("report id", "subject id", "hospital")
        longest = max((len(_canary_cells(r)[column]) for r in rows), default=0)
        table.add_column(column, no_wrap=ids, min_width=longest if ids else None)
    for row in rows:
        table.add_row(*_canary_cells(row).values())
    return table


def _canary_cells(row: Canary) -> dict[str, str]:
    return {"report id": row.report_id, "subject id": row.subject_id, "hospital": row.hospital_id,
            "district": row.district, "planted": row.planted_at.isoformat(timespec="minutes")}


def _canary_json(rows: Sequence[Canary]) -> str:
    import json

    return json.dumps([{"report_id": r.report_id, "subject_id": r.subject_id, "hospital_id": r.hospital_id,
                        "district": r.district, "planted_at": r.planted_at.isoformat()} for r in rows], indent=2)


@canary_app.command("plant")
def plant(count: int = typer.Option(..., "--count", min=1, max=1000, help="How many decoys to plant.")) -> None:
    """Plant decoy deceased records, indistinguishable on every screen, and list them."""
    from piguard.db.base import utcnow
    from piguard.identity import service as identity
    from piguard.records import canaries

    settings = load_settings()
    try:
        with db_session(settings) as session, session.begin():
            certifiers: dict[str, list[str]] = {}
            for account in identity.list_accounts(session=session, role="physician", include_disabled=False):
                certifiers.setdefault(account.org_id, []).append(account.id)
            planted = canaries.plant(session=session, count=count, now=utcnow(), certifiers=certifiers)
    except PiguardError as exc:
        raise fail(str(exc), code=2) from None
    console.print(_canary_table(planted))
    console.print(f"planted {len(planted)} canaries; any access to them raises a high-severity alert in piguard detect")


@canary_app.command("list")
def list_canaries(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (whole ids, for scripts) instead of a table."),
) -> None:
    """List the planted canaries."""
    from piguard.records import canaries

    with db_session(load_settings()) as session, session.begin():
        rows = canaries.listing(session=session)
    if as_json:
        typer.echo(_canary_json(rows))
        return
    console.print(_canary_table(rows))


@export_app.command("context")
def export_context(
    out: Path = typer.Option(..., "--out", help="Directory for users/orgs/subjects/relationships tables."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
) -> None:
    """Write the context tables (FORMATS.md §2) of the service database, for piguard detect."""
    from piguard.interchange.context import write_context
    from piguard.records.export import context_tables

    if fmt not in ("csv", "parquet"):
        raise fail("--format must be csv or parquet", code=2)
    try:
        with db_session(load_settings()) as session, session.begin():
            tables = context_tables(session=session)
        out.mkdir(parents=True, exist_ok=True)
        counts = write_context(out, tables, fmt=fmt)
    except (PiguardError, OSError) as exc:
        raise fail(f"{out}: {exc}", code=2) from None
    console.print(", ".join(f"{name}: {n}" for name, n in counts.items()) + f" -> {out}")


@export_app.command("handles")
def export_handles(
    out: Path = typer.Option(..., "--out", help="handles.csv (or .jsonl/.parquet) for piguard trace."),
) -> None:
    """Write the register of issued virtual numbers (handle, user_id, subject_id, issued_at, ...)."""
    from piguard.interchange.tabular import write_rows
    from piguard.records.export import HANDLE_COLUMNS, handle_rows

    try:
        with db_session(load_settings()) as session, session.begin():
            count = write_rows(out, list(handle_rows(session=session)), columns=HANDLE_COLUMNS)
    except (PiguardError, OSError) as exc:
        raise fail(f"{out}: {exc}", code=2) from None
    console.print(f"{count} handles -> {out}")
