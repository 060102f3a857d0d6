"""``piguard cases``: investigations from the server's command line, acting as a named account.

Every command runs as ``--as USERNAME`` through the same policy, case rules and ledger as the
API: a refusal is recorded, then reported. Exit codes: 0 done, 2 bad input or unknown name,
4 refused (policy, state machine, four-eyes), 1 otherwise.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from piguard.cli.acting import account_id, org_id
from piguard.cli.acting import errors as _errors
from piguard.cli.acting import run_as as _run
from piguard.cli.common import console, id_column, print_whole

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.identity.schemas import Principal
    from piguard.oversight.cases.schemas import CaseDetail, CaseOut
    from piguard.oversight.common import Outcome
    from piguard.records.guard import Guard

T = TypeVar("T")
app = typer.Typer(
    help="Investigation cases: open, move, attach evidence, dispose (four-eyes), export.", no_args_is_help=True
)

As = Annotated[str, typer.Option("--as", help="Username of the privacy officer or administrator acting.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (at least 10 characters).")]
CaseArg = Annotated[str, typer.Argument(help="Case id.")]


def _load_alert(path: Path, alert_id: str | None) -> dict[str, Any]:
    """One alert from a ``piguard detect --format json`` file (or a file holding one alert)."""
    from piguard.errors import InputError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("not a JSON alert file", where=str(path)) from None
    alerts = data.get("alerts", [data]) if isinstance(data, dict) else []
    chosen = [a for a in alerts if isinstance(a, dict) and (alert_id is None or a.get("alert_id") == alert_id)]
    if len(chosen) != 1:
        raise InputError("name one alert with --alert-id (the file holds several or none matching)", where=str(path))
    return chosen[0]


def _e(value: object) -> str:
    """Stored or typed text as Rich prints it literally: ``[white on white]`` or ``[/]`` is not markup."""
    return escape(str(value))


def _summary(cases: list[CaseOut]) -> Table:
    table = Table(title=f"{len(cases)} case(s)")
    for column in ("id", "state", "title", "source", "suspect", "assignee", "opened"):
        # The id is what the other commands take: never cropped, whatever the terminal width.
        if column == "id":
            id_column(table, column)
        else:
            table.add_column(column, overflow="fold")
    for case in cases:
        table.add_row(
            _e(case.id),
            _e(case.state),
            _e(case.title),
            _e(f"{case.source}:{case.source_ref}" if case.source_ref else case.source),
            _e(case.suspect_user_id or ""),
            _e(case.assignee_id),
            case.opened_at.isoformat(timespec="seconds"),
        )
    return table


def _show(case: CaseDetail) -> None:
    console.print(f"[bold]{_e(case.title)}[/]  ({_e(case.id)})", highlight=False)
    console.print(
        f"state [bold]{_e(case.state)}[/]; source {_e(case.source)} {_e(case.source_ref or '')}; "
        f"suspect {_e(case.suspect_user_id or '-')}; organisation {_e(case.org_id or '-')}; "
        f"investigator {_e(case.assignee_id)}",
        highlight=False,
    )
    if case.subjects:
        subjects = Table(title="Records concerned")
        for column in ("report id", "subject id", "added"):
            subjects.add_column(column)
        for subject in case.subjects:
            subjects.add_row(
                _e(subject.report_id), _e(subject.subject_id), subject.added_at.isoformat(timespec="seconds")
            )
        console.print(subjects)
    if case.evidence:
        items = Table(title="Evidence")
        for column in ("kind", "reference", "sha256", "cited events", "added by"):
            items.add_column(column)
        for item in case.evidence:
            items.add_row(
                _e(item.kind), _e(item.reference), _e(item.sha256 or ""), str(len(item.event_ids)), _e(item.added_by)
            )
        console.print(items)
    if case.dispositions:
        rows = Table(title="Dispositions")
        for column in ("id", "kind", "target", "effective", "authority", "status", "proposed by", "decided by"):
            rows.add_column(column)
        for d in case.dispositions:
            rows.add_row(
                _e(d.id),
                _e(d.kind),
                _e(d.target_user_id),
                d.effective_date.isoformat(),
                _e(d.authority),
                _e(d.status),
                _e(d.proposed_by),
                _e(d.decided_by or ""),
            )
        console.print(rows)
    history = Table(title="History (append-only; every entry is in the audit ledger)")
    for column in ("#", "time (UTC)", "what", "by", "reason", "ledger event"):
        history.add_column(column)
    for entry in case.history:
        step = f"{entry.kind} {entry.from_state or ''}->{entry.to_state}" if entry.to_state else entry.kind
        history.add_row(
            str(entry.seq),
            entry.at.isoformat(timespec="seconds"),
            _e(step),
            _e(entry.actor_id),
            _e(entry.reason),
            _e(entry.ledger_event_id),
        )
    console.print(history)


def _resolved_alert(session: Session, alert: dict[str, Any]) -> dict[str, Any]:
    """The alert with its ``user_id`` as an account id (the file may name the account by username)."""
    user = alert.get("user_id")
    if not isinstance(user, str) or not user:
        return alert
    return {**alert, "user_id": account_id(session, user, "--alert (user_id)")}


@app.command("open")
def open_(
    actor: As,
    title: Annotated[str, typer.Option("--title")],
    assignee: Annotated[str, typer.Option("--assignee", help="Username of the investigating privacy officer.")],
    reason: Reason,
    source: Annotated[str, typer.Option("--source", help="alert, complaint, canary or manual.")] = "manual",
    ref: Annotated[str | None, typer.Option("--ref", help="The alert, complaint or canary id.")] = None,
    suspect: Annotated[str | None, typer.Option("--suspect", help="Username or user id under suspicion.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation concerned.")] = None,
    subject: Annotated[list[str] | None, typer.Option("--subject", help="Death report or subject id (repeat).")] = None,
    alert: Annotated[Path | None, typer.Option("--alert", help="piguard detect JSON file holding the alert.")] = None,
    alert_id: Annotated[str | None, typer.Option("--alert-id", help="Which alert of the file.")] = None,
) -> None:
    """Open a case and assign it; the investigator may then read the records it concerns."""
    from piguard.oversight.cases import flows
    from piguard.oversight.cases.schemas import CaseOpen

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[CaseDetail]:
        data = CaseOpen.model_validate(
            {
                "title": title,
                "source": source,
                "source_ref": ref,
                "suspect_user_id": account_id(session, suspect, "--suspect") if suspect else None,
                "org_id": org_id(session, org, "--org") if org else None,
                "assignee_id": account_id(session, assignee, "--assignee"),
                "subjects": subject or [],
                "reason": reason,
                "alert": _resolved_alert(session, _load_alert(alert, alert_id)) if alert else None,
            }
        )
        return flows.open_case(session=session, guard=guard, principal=principal, data=data)

    case = _run(actor, flow)
    console.print(
        f"opened case [bold]{_e(case.id)}[/] ({len(case.subjects)} record(s), state {_e(case.state)})", highlight=False
    )


@app.command("list")
def list_(
    actor: As,
    state: Annotated[str | None, typer.Option("--state")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="Username.")] = None,
    org: Annotated[str | None, typer.Option("--org")] = None,
) -> None:
    """List cases, newest first."""
    from piguard.errors import InputError
    from piguard.oversight.cases import flows
    from piguard.oversight.cases.models import STATES

    if state is not None and state not in STATES:
        with _errors():
            raise InputError(f"unknown state; expected one of {', '.join(STATES)}", where="--state")

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[list[CaseOut]]:
        who = account_id(session, assignee, "--assignee") if assignee else None
        where = org_id(session, org, "--org") if org else None
        return flows.list_cases(
            session=session, guard=guard, principal=principal, state=state, assignee_id=who, org_id=where
        )

    print_whole(_summary(_run(actor, flow)))


@app.command("show")
def show(case_id: CaseArg, actor: As) -> None:
    """A case with its records, evidence, dispositions and full history."""
    from piguard.oversight.cases import flows

    _show(_run(actor, lambda s, g, p: flows.get_case(session=s, guard=g, principal=p, case_id=case_id)))


@app.command("transition")
def transition(
    case_id: CaseArg,
    to_state: Annotated[str, typer.Argument(help="investigating, substantiated, unsubstantiated or closed.")],
    actor: As,
    reason: Reason,
) -> None:
    """Move a case to its next state."""
    from piguard.oversight.cases import flows

    case = _run(
        actor,
        lambda s, g, p: flows.transition(
            session=s, guard=g, principal=p, case_id=case_id, to_state=to_state, reason=reason
        ),
    )
    console.print(f"case {_e(case.id)} is now [bold]{_e(case.state)}[/]", highlight=False)


@app.command("assign")
def assign(
    case_id: CaseArg,
    actor: As,
    to: Annotated[str, typer.Option("--to", help="Username of the new investigator.")],
    reason: Reason,
) -> None:
    """Hand a case to another privacy officer."""
    from piguard.oversight.cases import flows

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[CaseDetail]:
        return flows.assign(
            session=session,
            guard=guard,
            principal=principal,
            case_id=case_id,
            assignee_id=account_id(session, to, "--to"),
            reason=reason,
        )

    console.print(f"case {_e(_run(actor, flow).id)} assigned to {_e(to)}", highlight=False)


@app.command("subjects")
def subjects(
    case_id: CaseArg,
    actor: As,
    subject: Annotated[list[str], typer.Option("--subject", help="Death report or subject id (repeat).")],
    reason: Reason,
) -> None:
    """Add records the case concerns."""
    from piguard.oversight.cases import flows

    case = _run(
        actor,
        lambda s, g, p: flows.add_subjects(
            session=s, guard=g, principal=p, case_id=case_id, subjects=subject, reason=reason
        ),
    )
    console.print(f"case {_e(case.id)} concerns {len(case.subjects)} record(s)", highlight=False)


@app.command("evidence")
def evidence(
    case_id: CaseArg,
    actor: As,
    kind: Annotated[str, typer.Option("--kind", help="alert, ledger_event, evidence_bundle or document.")],
    reason: Reason,
    ref: Annotated[str | None, typer.Option("--ref", help="Alert id, event id or name.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Document or bundle file: its SHA-256 is recorded.")
    ] = None,
    sha256: Annotated[str | None, typer.Option("--sha256", help="SHA-256 (hex) when the file is elsewhere.")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="Ledger event id it cites (repeat).")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Attach evidence by reference (a file is hashed here; only its name and hash are stored)."""
    from piguard.errors import InputError
    from piguard.oversight.cases import flows
    from piguard.oversight.cases.schemas import EvidenceIn

    with _errors():
        if file is not None:
            digest = hashlib.sha256()
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            sha256, ref = digest.hexdigest(), ref or file.name
        if not ref:
            raise InputError("give --ref or --file", where="--ref")
        item = EvidenceIn.model_validate(
            {
                "kind": kind,
                "reference": ref,
                "sha256": sha256,
                "description": description,
                "event_ids": event or [],
                "reason": reason,
            }
        )
    added = _run(
        actor, lambda s, g, p: flows.attach_evidence(session=s, guard=g, principal=p, case_id=case_id, item=item)
    )
    console.print(f"attached {_e(added.kind)} {_e(added.reference)} ({_e(added.id)})", highlight=False)


@app.command("propose")
def propose(
    case_id: CaseArg,
    actor: As,
    kind: Annotated[str, typer.Option("--kind", help="warning, retraining, fine, suspension_of_practice, ...")],
    target: Annotated[str, typer.Option("--target", help="Username or user id of the person sanctioned.")],
    effective: Annotated[str, typer.Option("--date", help="Date it takes effect (YYYY-MM-DD).")],
    authority: Annotated[str, typer.Option("--authority", help="Who imposes it.")],
    reason: Reason,
    detail: Annotated[str | None, typer.Option("--detail", help="e.g. amount or duration.")] = None,
) -> None:
    """Propose a disposition on a substantiated case (another officer must approve it)."""
    from piguard.errors import InputError
    from piguard.oversight.cases import flows
    from piguard.oversight.cases.models import Disposition
    from piguard.oversight.cases.schemas import DispositionIn

    with _errors():
        try:
            when = date.fromisoformat(effective)
        except ValueError:
            raise InputError("not a date (YYYY-MM-DD)", where="--date") from None

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[Disposition]:
        item = DispositionIn.model_validate(
            {
                "kind": kind,
                "target_user_id": account_id(session, target, "--target"),
                "effective_date": when,
                "authority": authority,
                "detail": detail,
                "reason": reason,
            }
        )
        return flows.propose_disposition(session=session, guard=guard, principal=principal, case_id=case_id, item=item)

    made = _run(actor, flow)
    console.print(f"proposed {_e(made.kind)} ({_e(made.id)}); awaiting approval by another officer", highlight=False)


@app.command("approve")
def approve(
    case_id: CaseArg,
    disposition_id: Annotated[str, typer.Argument(help="Disposition id.")],
    actor: As,
    reason: Reason,
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
) -> None:
    """Approve (or --reject) a proposed disposition; never the proposer's own (four-eyes)."""
    from piguard.oversight.cases import flows

    decided = _run(
        actor,
        lambda s, g, p: flows.decide_disposition(
            session=s,
            guard=g,
            principal=p,
            case_id=case_id,
            disposition_id=disposition_id,
            decision="rejected" if reject else "approved",
            reason=reason,
        ),
    )
    console.print(f"disposition {_e(disposition_id)} {_e(decided.decision)}", highlight=False)


@app.command("export")
def export(
    case_id: CaseArg,
    actor: As,
    out: Annotated[Path, typer.Option("--out", help="Bundle folder to create.")],
) -> None:
    """Write the case's evidence bundle; check it with 'piguard audit verify-evidence'."""
    from piguard.oversight.cases import flows

    bundle = _run(actor, lambda s, g, p: flows.export_case(session=s, guard=g, principal=p, case_id=case_id, out=out))
    console.print(
        f"wrote case {_e(bundle.case_id)}: {bundle.history} history entries, {bundle.summary.entries} ledger events "
        f"with proofs (tree size {bundle.summary.tree_size}) to {_e(out)}",
        highlight=False,
    )
    if bundle.missing:
        console.print(f"{len(bundle.missing)} cited event id(s) are not in this ledger", highlight=False)


@app.command("check")
def check(case_id: CaseArg, actor: As) -> None:
    """Compare the case's rows in the database with the digests in the ledger; exit 1 on any mismatch."""
    from piguard.oversight.cases import flows

    result = _run(actor, lambda s, g, p: flows.check_case(session=s, guard=g, principal=p, case_id=case_id))
    for problem in result.problems:
        console.print(f"[red]{_e(problem)}[/]", highlight=False)
    if result.problems:
        raise typer.Exit(1)
    console.print(
        f"case {_e(result.case_id)}: all {result.entries} history entries, and the subjects, evidence and "
        "dispositions they created, match their ledger events",
        highlight=False,
    )
    if result.legacy:
        console.print(
            f"note: {result.legacy} entries predate content binding (digest version 1): only the entry itself, "
            "not the row it created, is bound by the ledger",
            highlight=False,
        )
