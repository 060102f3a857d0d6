"""``piguard training``: the course catalogue, completions, attestations, status and reminders.

Every command runs as ``--as USERNAME`` through the same policy and ledger as the API: a refusal
is recorded, then reported. Exit codes: 0 done, 2 bad input or unknown name, 4 refused, 1 otherwise.
Stored text (course titles and codes, usernames, names) is printed escaped, never as Rich markup.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from piguard.cli.acting import account_id, errors, org_id, run_as
from piguard.cli.common import console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.identity.schemas import Principal
    from piguard.oversight.common import Outcome
    from piguard.oversight.training.schemas import Reminder
    from piguard.records.guard import Guard

T = TypeVar("T")
app = typer.Typer(help="Privacy training: courses, completions, attestations, status, reminders.", no_args_is_help=True)
As = Annotated[str, typer.Option("--as", help="Username of the person acting.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


@app.command("courses")
def courses(as_: As, as_json: Json = False) -> None:
    """List the course catalogue."""
    from piguard.oversight.training import flows

    items = run_as(as_, lambda s, g, p: flows.list_courses(session=s, guard=g, principal=p))
    if as_json:
        console.print_json(json.dumps([item.model_dump(mode="json") for item in items]))
        return
    table = Table(title=f"{len(items)} course(s)")
    for column in ("code", "title", "mandatory", "validity (days)", "pass mark"):
        table.add_column(column)
    for item in items:
        table.add_row(
            escape(item.code),
            escape(item.title),
            "yes" if item.mandatory else "no",
            str(item.validity_days),
            str(item.pass_mark),
        )
    console.print(table)


@app.command("add-course")
def add_course(
    as_: As,
    code: Annotated[str, typer.Option("--code", help="Course code, e.g. 'deceased-data-2026'.")],
    title: Annotated[str, typer.Option("--title")],
    validity_days: Annotated[int, typer.Option("--validity-days", help="How long a completion stays valid.")],
    mandatory: Annotated[bool, typer.Option("--mandatory/--optional", help="Required by the training gate.")] = False,
    pass_mark: Annotated[int, typer.Option("--pass-mark")] = 80,
    attestation: Annotated[
        bool, typer.Option("--requires-attestation", help="The gate also requires attesting the rules text.")
    ] = False,
    binds_from: Annotated[
        str | None,
        typer.Option(
            "--binds-from",
            help="When a mandatory course starts to gate access: 'now', YYYY-MM-DD (00:00 Beijing time) or an "
            "ISO time with offset; default 30 days from now.",
        ),
    ] = None,
) -> None:
    """Add a course to the catalogue (privacy officers and administrators)."""
    from piguard.oversight.training import flows
    from piguard.oversight.training.schemas import CourseIn

    with errors():
        data = CourseIn(
            code=code,
            title=title,
            mandatory=mandatory,
            validity_days=validity_days,
            pass_mark=pass_mark,
            requires_attestation=attestation,
            binds_from=None if binds_from is None else _moment(binds_from, "--binds-from"),
        )
    course = run_as(as_, lambda s, g, p: flows.add_course(session=s, guard=g, principal=p, data=data))
    kind = "mandatory" if course.mandatory else "optional"
    binding = f", binding from {course.binds_from:%Y-%m-%d %H:%M} UTC" if course.mandatory and course.binds_from else ""
    console.print(
        f"added course {escape(course.code)} ({kind}, valid {course.validity_days} days{binding})", highlight=False
    )


def _moment(value: str, option: str) -> datetime:
    """'now', a date (its start in Beijing time) or an ISO time with an offset."""
    from datetime import date, time

    from piguard.errors import InputError
    from piguard.localtime import BEIJING

    if value.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0, 0), tzinfo=BEIJING)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError("give 'now', YYYY-MM-DD or an ISO time with offset", where=option) from None
    if parsed.tzinfo is None:
        raise InputError("give the time with an explicit UTC offset, e.g. 2026-12-31T00:00:00+08:00", where=option)
    return parsed


@app.command("complete")
def complete(
    as_: As,
    username: Annotated[str, typer.Argument(help="Account that took the course.")],
    course: Annotated[str, typer.Option("--course")],
    score: Annotated[int, typer.Option("--score", min=0, max=100)],
    completed: Annotated[datetime | None, typer.Option("--completed", help="When (UTC); default now.")] = None,
) -> None:
    """Record a passed course for an account."""
    from piguard.oversight.training import flows
    from piguard.oversight.training.schemas import CompletionIn

    at = completed.replace(tzinfo=UTC) if completed and completed.tzinfo is None else completed or datetime.now(UTC)

    def flow(s: Session, g: Guard, p: Principal) -> Outcome[object]:
        who = account_id(s, username, "USERNAME")
        data = CompletionIn(account_id=who, course_code=course, score=score, completed_at=at)
        return flows.record_completion(session=s, guard=g, principal=p, data=data)  # type: ignore[return-value]

    done = run_as(as_, flow)
    until = _day(getattr(done, "valid_until", None))
    console.print(f"{escape(username)}: {escape(course)} valid until {until}", highlight=False)


@app.command("attest")
def attest(
    as_: As,
    version: Annotated[str | None, typer.Option("--version", help="Rules version attested.")] = None,
    show: Annotated[bool, typer.Option("--show", help="Print the rules text and exit.")] = False,
) -> None:
    """Attest, for yourself, that you have read the rules for handling the deceased's data."""
    from piguard.oversight.training import flows, service

    if show:
        rules = service.rules_text()
        console.print(rules.text, highlight=False, markup=False)
        console.print(f"version {rules.version}  sha256 {rules.sha256}", highlight=False)
        return
    done = run_as(as_, lambda s, g, p: flows.attest(session=s, guard=g, principal=p, version=version))
    console.print(f"attested rules version {done.text_version} (sha256 {done.text_sha256[:16]}...)", highlight=False)


@app.command("status")
def status(
    as_: As,
    username: Annotated[str | None, typer.Argument(help="Account (default: yourself).")] = None,
    as_json: Json = False,
) -> None:
    """Training status: each mandatory course, the gate's verdict, the attestation."""
    from piguard.oversight.training import flows

    def flow(s: Session, g: Guard, p: Principal) -> Outcome[object]:
        target = account_id(s, username, "USERNAME") if username else None
        return flows.status(session=s, guard=g, principal=p, account_id=target)  # type: ignore[return-value]

    from piguard.oversight.training.schemas import TrainingStatus

    result = run_as(as_, flow)
    assert isinstance(result, TrainingStatus)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    verdict = "valid" if result.training_ok else "LAPSED (access blocked)"
    console.print(f"{escape(result.username)}: training {verdict}, until {_day(result.valid_until)}", highlight=False)
    table = Table()
    for column in ("course", "state", "valid until", "days left"):
        table.add_column(column)
    for line in result.courses:
        left = "" if line.days_left is None else str(line.days_left)
        table.add_row(escape(line.course_code), line.state, _day(line.valid_until), left)
    console.print(table)
    attested = (
        f"version {escape(result.attested_version)} on {_day(result.attested_at)}"
        if result.attested_version
        else "never"
    )
    console.print(f"rules attested: {attested}{'' if result.attestation_current else ' (not the current text)'}")


@app.command("reminders")
def reminders(
    as_: As,
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    days: Annotated[int, typer.Option("--days", min=0, max=3660, help="Reminder window.")] = 30,
    as_json: Json = False,
) -> None:
    """Staff of an organisation whose mandatory training lapses within --days (and lapsed ones)."""
    from piguard.oversight.training import flows

    def flow(s: Session, g: Guard, p: Principal) -> Outcome[list[Reminder]]:
        org_id(s, org, "--org")  # an unknown id is bad input naming the option
        return flows.reminders(session=s, guard=g, principal=p, org_id=org, days=days)

    items = run_as(as_, flow)
    if as_json:
        console.print_json(json.dumps([item.model_dump(mode="json") for item in items]))
        return
    table = Table(title=f"{len(items)} reminder(s) within {days} days")
    for column in ("username", "name", "course", "state", "valid until", "days left"):
        table.add_column(column)
    for item in items:
        left = "" if item.days_left is None else str(item.days_left)
        names = (escape(item.username), escape(item.display_name), escape(item.course_code))
        table.add_row(*names, item.state, _day(item.valid_until), left)
    console.print(table)
