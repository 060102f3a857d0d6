"""The ``piguard`` command: one Typer app, one module per command group."""

from __future__ import annotations

import os

import typer

from piguard.cli import (
    audit,
    cases,
    db,
    demo,
    detect,
    family,
    inspections,
    orgs,
    records,
    report,
    scan,
    service,
    simulate,
    training,
    users,
)

app = typer.Typer(
    name="piguard",
    help="Guards sensitive personal records against the insiders who are allowed to log in.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
service.register(app)
demo.register(app)
scan.register(app)
simulate.register(app)
detect.register(app)
report.register(app)
app.add_typer(db.app, name="db")
app.add_typer(orgs.app, name="orgs")
app.add_typer(users.app, name="users")
app.add_typer(cases.app, name="cases")
app.add_typer(family.app, name="family")
app.add_typer(inspections.app, name="inspections")
app.add_typer(training.app, name="training")
app.add_typer(audit.app, name="audit")
app.add_typer(records.canary_app, name="canary")
app.add_typer(records.export_app, name="export")


# Files piguard writes hold personal data (exports, reports, the database, keys): readable by
# their owner only, whatever the shell's umask. Share one deliberately with chmod.
PRIVATE_UMASK = 0o077


def run() -> None:
    """Console-script entry point."""
    os.umask(PRIVATE_UMASK)
    app()
