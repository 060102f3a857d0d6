"""``piguard canary`` and ``piguard export``: decoy records, and the service in interchange formats."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from piguard.cli.common import console, db_session, fail, id_column, load_settings, print_whole, require_database
from piguard.errors import PiguardError

# Heavy modules (SQLAlchemy, the record services) are imported inside the commands so `piguard --help` starts fast.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
        if ids:
            id_column(table, column, width=longest)
        else:
            table.add_column(column, no_wrap=True)  # a district code and a time: short, never cut to nothing
    for row in rows:
        table.add_row(*_canary_cells(row).values())
    return table


def _canary_cells(row: Canary) -> dict[str, str]:
    return {
        "report id": row.report_id,
        "subject id": row.subject_id,
        "hospital": row.hospital_id,
        "district": row.district,
        "planted": row.planted_at.isoformat(timespec="minutes"),
    }


def _canary_json(rows: Sequence[Canary]) -> str:
    import json

    return json.dumps(
        [
            {
                "report_id": r.report_id,
                "subject_id": r.subject_id,
                "hospital_id": r.hospital_id,
                "district": r.district,
                "planted_at": r.planted_at.isoformat(),
            }
            for r in rows
        ],
        indent=2,
    )


@canary_app.command("plant")
def plant(count: int = typer.Option(..., "--count", min=1, max=1000, help="How many decoys to plant.")) -> None:
    """Plant decoy deceased records, indistinguishable on every screen, and list them."""
    from piguard.cli.acting import errors
    from piguard.db.base import utcnow
    from piguard.identity import service as identity
    from piguard.records import canaries

    settings = load_settings()
    require_database(settings)
    with errors():  # a database failure is one line, never a traceback
        try:
            with db_session(settings) as session, session.begin():
                certifiers: dict[str, list[str]] = {}
                for account in identity.list_accounts(session=session, role="physician", include_disabled=False):
                    certifiers.setdefault(account.org_id, []).append(account.id)
                planted = canaries.plant(session=session, count=count, now=utcnow(), certifiers=certifiers)
                # Which records are decoys is what an insider would most like to know: planting and
                # listing them are recorded (counts only, never the decoys' ids).
                _record_export(
                    session, exported="canary_register", selection="planted", count=len(planted), action="create"
                )
        except PiguardError as exc:
            raise fail(str(exc), code=2) from None
    print_whole(_canary_table(planted))
    console.print(f"planted {len(planted)} canaries; any access to them raises a high-severity alert in piguard detect")


@canary_app.command("list")
def list_canaries(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (whole ids, for scripts) instead of a table."),
) -> None:
    """List the planted canaries."""
    from piguard.cli.acting import errors
    from piguard.records import canaries

    settings = load_settings()
    require_database(settings)
    with errors(), db_session(settings) as session, session.begin():
        rows = canaries.listing(session=session)
        _record_export(session, exported="canary_register", selection="all canaries", count=len(rows), action="read")
    if as_json:
        typer.echo(_canary_json(rows))
        return
    print_whole(_canary_table(rows))


def _record_export(session: Session, *, exported: str, selection: str, count: int, action: str = "export") -> None:
    """Record the operator's export (or canary work) in the ledger, as ``piguard audit export`` does."""
    from piguard.db.base import utcnow
    from piguard.identity.audit import record_operator_disclosure

    # No acting account: the command runs on the server as its operator. The reason names the
    # kind of export only; the rows themselves (names, compounds, subjects) never enter the event.
    record_operator_disclosure(
        session,
        at=utcnow(),
        action=action,
        resource_type=exported,
        selection=selection,
        count=count,
        reason=f"{exported} {action} by the operator on the server's command line",
    )


@export_app.command("context")
def export_context(
    out: Path = typer.Option(..., "--out", help="Directory for users/orgs/subjects/relationships tables."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the context tables (of any format) that --out already holds."
    ),
) -> None:
    """Write the context tables (FORMATS.md §2) of the service database, for piguard detect.

    All or nothing, and recorded in the ledger as an export. A directory that already holds
    context tables is refused (exit 2) unless ``--overwrite``: tables of two exports read
    together would mislead detection.
    """
    from piguard.cli.acting import errors
    from piguard.interchange.context import context_files, replacing_context, write_tables
    from piguard.records.export import context_tables

    if fmt not in ("csv", "parquet"):
        raise fail("--format must be csv or parquet", code=2)
    settings = load_settings()
    with errors():
        found = context_files(out)
        if found and not overwrite:
            names = ", ".join(path.name for path in found)
            raise fail(f"{out}: already holds context tables ({names}); pass --overwrite to replace them", code=2)
        require_database(settings)
        # Staged first, installed last: only after the export event is committed does the
        # directory hold the tables; a failure anywhere leaves it as it was.
        with (
            replacing_context(out, overwrite=overwrite) as staging,
            db_session(settings) as session,
            session.begin(),
        ):
            counts = write_tables(staging, context_tables(session=session), fmt=fmt)
            _record_export(
                session,
                exported="context_tables",
                selection=f"all rows of {', '.join(counts)} as {fmt}",
                count=sum(counts.values()),
            )
    console.print(", ".join(f"{name}: {n}" for name, n in counts.items()) + f" -> {out}")


@export_app.command("handles")
def export_handles(
    out: Path = typer.Option(..., "--out", help="handles.csv (or .jsonl/.parquet) for piguard trace."),
) -> None:
    """Write the register of issued virtual numbers (handle, user_id, subject_id, issued_at, ...).

    Recorded in the ledger as an export; the file appears only once that event is committed.
    """
    from piguard.cli.acting import errors
    from piguard.interchange.tabular import file_format, replacing_file, write_rows
    from piguard.records.export import HANDLE_COLUMNS, handle_rows

    settings = load_settings()
    with errors():
        file_format(out)  # an unsupported extension is refused before anything is read
        require_database(settings)
        with replacing_file(out) as staged, db_session(settings) as session, session.begin():
            count = write_rows(staged, list(handle_rows(session=session)), columns=HANDLE_COLUMNS)
            _record_export(session, exported="handle_register", selection="all issued handles", count=count)
    console.print(f"{count} handles -> {out}")
