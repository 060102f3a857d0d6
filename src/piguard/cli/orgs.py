"""``piguard orgs``: register organisations and emergency-centre vehicles, the first step of an installation.

Run on the server by its operator, as ``piguard users``; every registration is appended to the
ledger as the local operator's change. Exit codes: 0 done, 2 bad input or unknown id, 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from piguard.cli.acting import errors
from piguard.cli.common import console, db_session, id_column, load_settings, print_whole

# SQLAlchemy and the records service are imported inside the commands so `piguard --help` starts fast.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    help="Organisations and their vehicles: create them before the accounts that belong to them.",
    no_args_is_help=True,
)
ORG_TYPE_HELP = "hospital, emergency_center, cdc, police, funeral_home, civil_affairs or health_commission."


@contextmanager
def _transaction() -> Iterator[Session]:
    """One committed transaction; expected failures become one line and an exit code."""
    settings = load_settings()
    with errors(), db_session(settings) as session, session.begin():
        yield session


def _record(session: Session, *, org_id: str, resource_type: str, resource_id: str, reason: str) -> None:
    """Append the operator's registration to the ledger, as ``users add`` and ``users training`` do."""
    from piguard.identity import audit

    audit.record_operator_change(
        session,
        at=datetime.now(UTC),
        org_id=org_id,
        action="create",
        reason=reason,
        resource_type=resource_type,
        resource_id=resource_id,
    )


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Name, unique in its district, e.g. '闵行区中心医院'.")],
    org_type: Annotated[str, typer.Option("--type", help=ORG_TYPE_HELP)],
    district: Annotated[str, typer.Option("--district", help="6-digit GB/T 2260 adcode, e.g. 310112.")],
    level: Annotated[str, typer.Option("--level", help="district or municipal (whole-city remit).")] = "district",
) -> None:
    """Register an organisation; prints its id (for 'piguard users add --org')."""
    from piguard.records import service as records

    with _transaction() as session:
        org = records.create_organisation(session=session, name=name, org_type=org_type, district=district, level=level)
        _record(
            session,
            org_id=org.id,
            resource_type="organisation",
            resource_id=org.id,
            reason=f"organisation registered by the operator: {org.org_type}, district {org.district}, {org.level}",
        )
        org_id = org.id
    console.print(org_id, highlight=False)


@app.command("list")
def list_(
    org_type: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
    district: Annotated[str | None, typer.Option("--district", help="Only this district (adcode).")] = None,
) -> None:
    """List organisations in a table."""
    from piguard.records import service as records

    with _transaction() as session:
        rows = [
            (org.id, org.name, org.org_type, org.district, org.level)
            for org in records.list_organisations(session=session, org_type=org_type, district=district)
        ]
    table = Table(title=f"{len(rows)} organisation(s)")
    id_column(table, "id")  # whole, to be copied into 'users add --org'
    for column in ("name", "type", "district", "level"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    print_whole(table)


@app.command("add-vehicle")
def add_vehicle(
    org_id: Annotated[str, typer.Argument(help="The emergency centre's id.")],
    call_sign: Annotated[str, typer.Option("--call-sign", help="e.g. 'Minhang 3'.")],
    terminal_id: Annotated[str, typer.Option("--terminal-id", help="The vehicle's MDT id, e.g. 'mdt-0003'.")],
) -> None:
    """Register an ambulance and its mobile data terminal with an emergency centre; prints its id."""
    from piguard.records import service as records

    with _transaction() as session:
        vehicle = records.create_vehicle(session=session, org_id=org_id, call_sign=call_sign, terminal_id=terminal_id)
        _record(
            session,
            org_id=vehicle.org_id,
            resource_type="vehicle",
            resource_id=vehicle.id,
            reason=f"vehicle registered by the operator: terminal {vehicle.terminal_id}",
        )
        vehicle_id = vehicle.id
    console.print(vehicle_id, highlight=False)


@app.command("vehicles")
def vehicles(org_id: Annotated[str, typer.Argument(help="The emergency centre's id.")]) -> None:
    """List an emergency centre's vehicles in a table."""
    from piguard.records import service as records

    with _transaction() as session:
        rows = [(v.id, v.call_sign, v.terminal_id) for v in records.list_vehicles(session=session, org_id=org_id)]
    table = Table(title=f"{len(rows)} vehicle(s)")
    id_column(table, "id")
    for column in ("call sign", "terminal id"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    print_whole(table)
