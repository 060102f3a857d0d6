"""``piguard family``: close relatives' requests (PIPL Art. 49): account of accesses, copy, correction, deletion.

Every command runs as ``--as USERNAME`` through the same policy, request rules and ledger as the
API: a privacy officer, or for ``referrals``, ``review``, ``correct`` and ``decline`` the physician
who certified the record. Exit codes: 0 done, 2 bad input or unknown name, 4 refused, 1
otherwise. Written documents hold personal data and are created with mode 0600. Stored and typed
text (names, reasons, paths) is printed escaped or without markup, never as Rich markup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from piguard.cli.acting import errors as _errors
from piguard.cli.acting import run_as as _run
from piguard.cli.common import console, fail, id_column, print_whole
from piguard.localtime import beijing_date

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.identity.schemas import Principal
    from piguard.oversight.common import Outcome
    from piguard.oversight.family.schemas import CorrectionReview, FamilyDocument, FamilyRequestOut, ItemOut
    from piguard.records.guard import Guard

app = typer.Typer(
    help="Close relatives' requests (PIPL Art. 49): register, answer with the account of accesses, a copy "
    "of the deceased's data or a letter on a correction or deletion request, refuse; the certifier decides "
    "corrections.",
    no_args_is_help=True,
)
As = Annotated[str, typer.Option("--as", help="Username of the privacy officer acting.")]
RequestArg = Annotated[str, typer.Argument(help="Request id.")]
ItemArg = Annotated[int, typer.Argument(help="The item's number (1, 2, ...), as 'review' lists it.", min=1)]
Format = Annotated[str, typer.Option("--format", help="html (for the family) or json (canonical, as kept).")]
Lang = Annotated[str, typer.Option("--lang", help="Language of the HTML page: zh (default) or en.")]


def _write(path: Path, content: bytes) -> None:
    """Write personal data readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(path, 0o600)  # an existing file keeps its old mode otherwise


def _check_output(fmt: str, lang: str) -> None:
    """Refuse an unknown format or language before anything is done (an answer is final)."""
    from piguard.oversight.family import render
    from piguard.oversight.family.wording import LANGUAGES

    if fmt not in render.FORMATS:
        raise fail(f"--format: unknown format; one of {', '.join(render.FORMATS)}", code=2)
    if lang not in LANGUAGES:
        raise fail(f"--lang: unknown language; one of {', '.join(LANGUAGES)}", code=2)


def _save(document: FamilyDocument, out: Path, fmt: str, lang: str) -> None:
    from piguard.oversight.family import render

    with _errors():
        _write(out, render.render(document, fmt, lang))


def _item_line(entry: ItemOut) -> str:
    """One item of a correction or deletion request, with its outcome and reason (printed without markup)."""
    wanted = f" = {entry.value}" if entry.value is not None else ""
    why = f": {entry.decision_reason}" if entry.decision_reason else ""
    return f"item {entry.position}: {entry.field}{wanted} [{entry.outcome}]{why}"


def _table(items: list[FamilyRequestOut]) -> Table:
    table = Table(title=f"{len(items)} request(s)")
    for column in ("id", "kind", "state", "requester", "relationship", "report", "received", "due", "overdue"):
        if column in ("id", "report"):
            id_column(table, column)
        else:
            table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            escape(item.id),
            escape(item.kind),
            escape(item.state),
            escape(item.requester_name),
            escape(item.relationship),
            escape(item.report_id),
            beijing_date(item.received_at).isoformat(),
            beijing_date(item.due_at).isoformat(),
            "yes" if item.overdue else "",
        )
    return table


@app.command("request")
def request(
    actor: As,
    name: Annotated[str, typer.Option("--name", help="The requesting relative's name.")],
    relationship: Annotated[
        str, typer.Option("--relationship", help="spouse, parent, child, sibling, grandparent or grandchild.")
    ],
    proof: Annotated[str, typer.Option("--proof", help="What you checked, e.g. 'ID card; household register'.")],
    report: Annotated[str | None, typer.Option("--report", help="Death report id of the deceased.")] = None,
    certificate: Annotated[
        str | None, typer.Option("--certificate", help="Or the number on the family's death certificate.")
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="disclosures (the account of who accessed the record), copy (of the deceased's data), "
            "correction (with --correct) or deletion (with --erase).",
        ),
    ] = "disclosures",
    correct: Annotated[
        list[str] | None,
        typer.Option("--correct", help="FIELD=VALUE the relative says is right (repeat for several fields)."),
    ] = None,
    why: Annotated[
        str | None, typer.Option("--why", help="The relative's reason, for every --correct (at least 10 characters).")
    ] = None,
    erase: Annotated[
        list[str] | None, typer.Option("--erase", help="report or relative_contacts (repeat for both).")
    ] = None,
) -> None:
    """Register a request after checking the relative's identity and relationship in person."""
    from piguard.oversight.family import flows
    from piguard.oversight.family.schemas import FamilyRequestIn

    if (report is None) == (certificate is None):
        raise fail("name the deceased's record with --certificate (the death certificate's number) or --report", code=2)
    corrections = _corrections(correct or [], why) if correct else None

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[FamilyRequestOut]:
        data = FamilyRequestIn.model_validate(
            {
                "report_id": report,
                "certificate_no": certificate,
                "requester_name": name,
                "relationship": relationship,
                "proof": proof,
                "kind": kind,
                "corrections": corrections,
                "erase": erase or None,
            }
        )
        return flows.register(session=session, guard=guard, principal=principal, data=data)

    made = _run(actor, flow)
    what = {
        "copy": " (copy of the deceased's data)",
        "correction": f" (correction of {len(made.items)} field(s), referred to the certifier)",
        "deletion": " (deletion)",
    }.get(made.kind, "")
    due = beijing_date(made.due_at)
    console.print(f"registered request [bold]{escape(made.id)}[/]{escape(what)}; answer due {due}", highlight=False)


def _corrections(pairs: list[str], why: str | None) -> list[dict[str, str | None]]:
    """``--correct FIELD=VALUE`` options as the request's corrections (an empty VALUE: the field should be blank)."""
    if not why:
        raise fail("--why: give the relative's reason for the correction (at least 10 characters)", code=2)
    items: list[dict[str, str | None]] = []
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise fail("--correct: write FIELD=VALUE, e.g. --correct name=王晓明", code=2)
        items.append({"field": field.strip(), "value": value.strip() or None, "reason": why})
    return items


@app.command("list")
def list_(
    actor: As,
    state: Annotated[str | None, typer.Option("--state", help="received, answered or refused.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only unanswered requests past their due date.")] = False,
) -> None:
    """List requests within your jurisdiction, oldest due first."""
    from piguard.oversight.family import flows
    from piguard.oversight.family.models import STATES

    if state is not None and state not in STATES:
        raise fail(f"--state: unknown state; one of {', '.join(STATES)}", code=2)
    items = _run(
        actor, lambda s, g, p: flows.list_requests(session=s, guard=g, principal=p, state=state, overdue=overdue)
    )
    print_whole(_table(items))


@app.command("show")
def show(request_id: RequestArg, actor: As) -> None:
    """One request and where it stands."""
    from piguard.oversight.family import flows

    item = _run(actor, lambda s, g, p: flows.get_request(session=s, guard=g, principal=p, request_id=request_id))
    print_whole(_table([item]))
    for entry in item.items:
        console.print(_item_line(entry), markup=False, highlight=False)
    if item.refusal_reason:
        console.print(f"refused: {item.refusal_reason}", markup=False, highlight=False)
    if item.answer_sha256:
        console.print(f"answer sha256 {item.answer_sha256}", highlight=False)


@app.command("answer")
def answer(
    request_id: RequestArg,
    actor: As,
    out: Annotated[Path, typer.Option("--out", help="Where to write the account or the copy.")],
    fmt: Format = "html",
    lang: Lang = "zh",
) -> None:
    """Answer by the request's kind (account of accesses, copy, or correction or deletion letter); kept as issued."""
    from piguard.oversight.family import flows
    from piguard.oversight.family.schemas import CorrectionLetter, DeletionLetter, FamilyCopy

    _check_output(fmt, lang)
    if not out.parent.is_dir():  # checked first: an answer is final once issued
        raise fail(f"{out.parent}: no such folder", code=2)
    document = _run(actor, lambda s, g, p: flows.answer(session=s, guard=g, principal=p, request_id=request_id))
    _save(document, out, fmt, lang)
    if isinstance(document, FamilyCopy):
        console.print(f"answered: copy of the deceased's data issued; written to {out}", markup=False, highlight=False)
        return
    if isinstance(document, CorrectionLetter | DeletionLetter):
        done = ", ".join(f"item {i.position} {i.outcome}" for i in document.items)
        console.print(f"answered: {done}; letter written to {out}", markup=False, highlight=False)
        return
    console.print(
        f"answered: {document.accesses} access(es), {document.denied} refused attempt(s), "
        f"{len(document.by_organisation)} organisation(s); written to {out}",
        markup=False,
        highlight=False,
    )


@app.command("refuse")
def refuse(
    request_id: RequestArg,
    actor: As,
    reason: Annotated[str, typer.Option("--reason", help="The ground for refusal (at least 20 characters).")],
) -> None:
    """Refuse a request with its ground (e.g. the deceased arranged otherwise during their lifetime)."""
    from piguard.oversight.family import flows

    item = _run(
        actor,
        lambda s, g, p: flows.refuse_request(session=s, guard=g, principal=p, request_id=request_id, reason=reason),
    )
    console.print(f"request {item.id} refused", markup=False, highlight=False)


def _write_again(kind: str, request_id: str, actor: str, out: Path, fmt: str, lang: str) -> None:
    """Write an issued ``account``, ``copy`` or ``letter`` again, exactly as issued."""
    from piguard.oversight.family import flows

    _check_output(fmt, lang)
    issued: FamilyDocument = _run(
        actor, lambda s, g, p: flows.reissue(kind, session=s, guard=g, principal=p, request_id=request_id)
    )
    _save(issued, out, fmt, lang)
    console.print(f"written to {out}", markup=False, highlight=False)


@app.command("account")
def account(
    request_id: RequestArg,
    actor: As,
    out: Annotated[Path, typer.Option("--out", help="Where to write the account.")],
    fmt: Format = "html",
    lang: Lang = "zh",
) -> None:
    """Write an answered request's account again, exactly as issued (in either language)."""
    _write_again("account", request_id, actor, out, fmt, lang)


@app.command("copy")
def copy(
    request_id: RequestArg,
    actor: As,
    out: Annotated[Path, typer.Option("--out", help="Where to write the copy.")],
    fmt: Format = "html",
    lang: Lang = "zh",
) -> None:
    """Write an answered copy request's copy again, exactly as issued (in either language)."""
    _write_again("copy", request_id, actor, out, fmt, lang)


@app.command("letter")
def letter(
    request_id: RequestArg,
    actor: As,
    out: Annotated[Path, typer.Option("--out", help="Where to write the letter.")],
    fmt: Format = "html",
    lang: Lang = "zh",
) -> None:
    """Write an answered correction or deletion request's letter again, exactly as issued."""
    _write_again("letter", request_id, actor, out, fmt, lang)


def _review_lines(review: CorrectionReview) -> list[str]:
    head = f"request {review.request_id} about report {review.report_id} ({review.relationship})"
    head += f", due {beijing_date(review.due_at)}"
    return [head, *(_item_line(entry) for entry in review.items)]


@app.command("referrals")
def referrals(actor: As) -> None:
    """The correction requests awaiting your decision as the certifier, oldest due first."""
    from piguard.oversight.family import correction_flows

    found = _run(actor, lambda s, g, p: correction_flows.referrals(session=s, guard=g, principal=p))
    console.print(f"{len(found)} correction request(s) awaiting your decision", highlight=False)
    for review in found:
        for line in _review_lines(review):
            console.print(line, markup=False, highlight=False)


@app.command("review")
def review(request_id: RequestArg, actor: As) -> None:
    """A correction request's items as the certifier sees them (field, value asked for, the relative's reason)."""
    from piguard.oversight.family import correction_flows

    found = _run(actor, lambda s, g, p: correction_flows.review(session=s, guard=g, principal=p, request_id=request_id))
    for line in _review_lines(found):
        console.print(line, markup=False, highlight=False)
    for entry in found.items:
        if entry.grounds:
            console.print(f"item {entry.position} reason given: {entry.grounds}", markup=False, highlight=False)


def _decide(request_id: str, position: int, actor: str, correct: bool, reason: str) -> None:
    from piguard.oversight.family import correction_flows

    done = _run(
        actor,
        lambda s, g, p: correction_flows.decide(
            session=s, guard=g, principal=p, request_id=request_id, position=position, correct=correct, reason=reason
        ),
    )
    console.print(_item_line(done), markup=False, highlight=False)


DecisionReason = Annotated[str, typer.Option("--reason", help="Why (a declined item's reason is told to the family).")]


@app.command("correct")
def correct_item(request_id: RequestArg, position: ItemArg, actor: As, reason: DecisionReason) -> None:
    """As the certifier: correct the item's field (only that field) as asked, through the records correction service."""
    _decide(request_id, position, actor, True, reason)


@app.command("decline")
def decline_item(request_id: RequestArg, position: ItemArg, actor: As, reason: DecisionReason) -> None:
    """As the certifier: decline the item, with the reason (at least 20 characters) the family is told."""
    _decide(request_id, position, actor, False, reason)


@app.command("evidence")
def evidence(
    request_id: RequestArg,
    actor: As,
    out: Annotated[Path, typer.Option("--out", help="Empty or new folder for the bundle.")],
) -> None:
    """Export the account's lines (or another request's own events) as an evidence bundle with inclusion proofs."""
    from piguard.oversight.family import flows

    summary = _run(
        actor, lambda s, g, p: flows.export_evidence(session=s, guard=g, principal=p, request_id=request_id, out=out)
    )
    console.print(
        f"{summary.entries} event(s) with proofs against tree size {summary.tree_size} in {out}", markup=False
    )
