"""``piguard inspections``: recommendations, rectification follow-up and spot checks, as a named account.

Every command runs ``--as USERNAME`` through the same policy, follow-up rules and ledger as the
API: a refusal is recorded, then reported. Exit codes: 0 done, 2 bad input or unknown name,
4 refused (policy, rules, own evidence), 1 otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from piguard.cli.acting import account_id, org_id
from piguard.cli.acting import errors as _errors
from piguard.cli.acting import run_as as _run
from piguard.cli.common import console, fail, id_column, print_whole

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.identity.schemas import Principal
    from piguard.oversight.common import Outcome
    from piguard.oversight.inspections.schemas import ItemDetail, ItemOut, SpotCheckDetail
    from piguard.records.guard import Guard

T = TypeVar("T")
app = typer.Typer(
    help="Inspections: recommendations, rectification items and their evidence, overdue items, spot checks.",
    no_args_is_help=True,
)

As = Annotated[str, typer.Option("--as", help="Username of the account acting (inspector or responsible person).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (at least 10 characters).")]
ItemArg = Annotated[str, typer.Argument(help="Rectification item id.")]
CheckArg = Annotated[str, typer.Argument(help="Spot check id.")]
SHOWN_DETAIL = ("role", "allowed", "denied", "listed", "reads", "breakglass")


def _deadline(value: str) -> datetime:
    """An ISO time with offset, or a date meaning the end of that day (UTC)."""
    from piguard.errors import InputError

    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(23, 59, 59), tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError("give YYYY-MM-DD or an ISO time with offset", where="--deadline") from None
    if parsed.tzinfo is None:
        raise InputError(
            "give the time with an explicit UTC offset, e.g. 2026-12-31T18:00:00+08:00", where="--deadline"
        )
    return parsed


def _items_table(items: Sequence[ItemOut], title: str) -> Table:
    table = Table(title=title)
    for column in ("item", "recommendation", "owner", "responsible", "deadline", "status", "evidence", "escalated to"):
        if column == "item":
            id_column(table, column)
        else:
            table.add_column(column, overflow="fold")
    for item in items:
        style = "bold red" if item.overdue else ("green" if item.status == "verified" else None)
        table.add_row(
            item.id,
            escape(f"{item.reference_no} #{item.seq}"),
            item.owner_org_id,
            item.responsible_id,
            item.deadline.isoformat(timespec="minutes"),
            f"{item.status} ({item.days_overdue} d)" if item.overdue else item.status,
            f"{item.evidence_count} ({item.pending_evidence} pending)",
            ", ".join(item.escalated_to),
            style=style,
        )
    return table


def _show_item(item: ItemDetail) -> None:
    print_whole(_items_table([item], f"Rectification item {item.id}"))
    console.print(f"required evidence: {escape(item.required_evidence)}", highlight=False)
    if item.managed_by != "organisation":
        # Issued from outside the owner organisation: say who extends, corrects and verifies it.
        body = f"the issuing body {item.issuer_org_id}" if item.issuer_org_id else "an oversight body with jurisdiction"
        console.print(f"followed up by {body} (deadlines, corrections, verdicts)", highlight=False)
    table = Table(title="Evidence")
    for column in ("evidence", "submitted by", "at", "sha256 / reference", "verdict", "reason"):
        if column == "evidence":
            id_column(table, column)
        else:
            table.add_column(column, overflow="fold")
    for evidence in item.evidence:
        last = evidence.reviews[-1] if evidence.reviews else None
        table.add_row(
            evidence.id,
            evidence.created_by,
            evidence.created_at.isoformat(timespec="minutes"),
            escape(evidence.sha256 or evidence.reference or ""),
            evidence.decision or "awaiting review",
            escape(last.reason) if last else "",
        )
    print_whole(table)
    for extension in item.extensions:
        console.print(
            f"deadline extended {extension.previous_deadline.isoformat(timespec='minutes')} -> "
            f"{extension.new_deadline.isoformat(timespec='minutes')}: {escape(extension.reason)}",
            highlight=False,
        )


def _show_check(check: SpotCheckDetail) -> None:
    console.print(
        f"spot check {check.id} ({check.status}) round {check.round}, seed {check.seed}, "
        f"{check.sample_size} of {check.population_size} drawn; next inspection {check.next_inspection_on or '-'}",
        highlight=False,
        soft_wrap=True,  # one line, the id whole, whatever the width
    )
    table = Table(title=escape(check.title))
    for column in ("#", "item", "type", "ref", "of record", "detail", "finding", "round"):
        if column in ("item", "ref", "of record"):
            id_column(table, column)  # what 'findings --item' and the records' owners take
        else:
            table.add_column(column, overflow="fold")
    for item in check.items:
        detail = ", ".join(f"{k}={v}" for k, v in item.detail.items() if k in SHOWN_DETAIL)
        style = "bold red" if item.outcome == "unsatisfactory" else None
        table.add_row(
            str(item.position),
            item.id,
            item.item_type,
            item.ref_id,
            item.parent_ref or "",
            detail,
            item.outcome or "",
            str(item.finding_round or ""),
            style=style,
        )
    print_whole(table)


@app.command("recommend")
def recommend(
    username: As,
    reference: Annotated[str | None, typer.Option("--ref", help="Reference number of the recommendation.")] = None,
    authority: Annotated[str | None, typer.Option("--authority", help="Issuing authority.")] = None,
    issued_on: Annotated[str | None, typer.Option("--issued-on", help="YYYY-MM-DD.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="The recommendation's text.")] = None,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="procuratorial_recommendation, internal_audit, health_commission_inspection, external_audit or "
            "other; only an organisation's own internal_audit is recorded and followed up by the organisation itself.",
        ),
    ] = "procuratorial_recommendation",
    org: Annotated[str | None, typer.Option("--org", help="Organisation it is addressed to.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Item: owner organisation id.")] = None,
    responsible: Annotated[str | None, typer.Option("--responsible", help="Item: username or account id.")] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Item: YYYY-MM-DD or ISO time with offset.")
    ] = None,
    evidence: Annotated[str | None, typer.Option("--evidence", help="Item: required evidence.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="Item: what must be rectified.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="JSON of the whole recommendation with items.")] = None,
) -> None:
    """Record a recommendation and create its rectification items (at least one: --owner ..., or --file)."""
    from piguard.errors import InputError
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.schemas import RecommendationIn

    if file is None and owner is None:
        # There is no command to add items later: a recommendation without any would never be followed up.
        raise fail(
            "--owner: a recommendation creates rectification items; name the owner organisation "
            "(with --responsible, --deadline and --evidence), or give --file with its items",
            code=2,
        )

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[Any]:
        if file is not None:
            body = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(body, dict) or not body.get("items"):
                raise InputError("the recommendation in the file has no rectification items", where=f"{file} (items)")
        else:
            body = {
                "source": source,
                "reference_no": reference,
                "issuing_authority": authority,
                "issued_on": issued_on,
                "text": text,
                "org_id": org_id(session, org, "--org"),
                "items": [],
            }
            if owner:
                body["items"].append(
                    {
                        "description": description or text,
                        "owner_org_id": org_id(session, owner, "--owner"),
                        "responsible_id": account_id(session, responsible, "--responsible"),
                        "deadline": _deadline(deadline or "").isoformat(),
                        "required_evidence": evidence,
                    }
                )
        data = RecommendationIn.model_validate(body)
        return flows.create_recommendation(session=session, guard=guard, principal=principal, data=data)

    made = _run(username, flow)
    console.print(
        f"recommendation {made.id} ({made.reference_no}) recorded, managed by {made.managed_by}", highlight=False
    )
    if made.items:
        print_whole(_items_table(made.items, "Rectification items"))


@app.command("items")
def items(
    username: As,
    item_id: Annotated[str | None, typer.Argument(help="Show this item in full.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, awaiting_review, rejected, overdue, verified.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner organisation id.")] = None,
    responsible: Annotated[str | None, typer.Option("--responsible", help="Username or account id.")] = None,
) -> None:
    """List rectification items with their status now (or show one with its evidence)."""
    from piguard.errors import InputError
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.models import ITEM_STATUSES

    if item_id is not None:
        _show_item(_run(username, lambda s, g, p: flows.get_item(session=s, guard=g, principal=p, item_id=item_id)))
        return
    if status is not None and status not in ITEM_STATUSES:
        with _errors():
            raise InputError(f"unknown status; expected one of {', '.join(ITEM_STATUSES)}", where="--status")
    found = _run(
        username,
        lambda s, g, p: flows.list_items(
            session=s,
            guard=g,
            principal=p,
            status=status,
            owner_org_id=org_id(s, owner, "--owner"),
            responsible_id=account_id(s, responsible, "--responsible") if responsible else None,
        ),
    )
    print_whole(_items_table(found, f"Rectification items ({len(found)})"))


@app.command("overdue")
def overdue(
    username: As,
    escalated_to: Annotated[str | None, typer.Option("--escalated-to", help="Health commission org id.")] = None,
) -> None:
    """Items past their deadline (for a health commission's inspector: those escalated to it)."""
    from piguard.oversight.inspections import flows

    found = _run(
        username,
        lambda s, g, p: flows.list_items(
            session=s,
            guard=g,
            principal=p,
            escalated_to=org_id(s, escalated_to, "--escalated-to"),
            overdue_only=True,
        ),
    )
    print_whole(_items_table(found, f"Overdue rectification items ({len(found)})"))


@app.command("submit")
def submit(
    username: As,
    item_id: ItemArg,
    description: Annotated[str, typer.Option("--description", help="What the evidence shows.")],
    document: Annotated[Path | None, typer.Option("--document", help="File to hash (SHA-256 recorded).")] = None,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="The document's SHA-256, if not given as a file.")
    ] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="Where the document is kept.")] = None,
) -> None:
    """Submit evidence for your rectification item."""
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.schemas import EvidenceIn

    with _errors():
        digest = hashlib.sha256(document.read_bytes()).hexdigest() if document is not None else sha256
        data = EvidenceIn(
            description=description, sha256=digest, reference=reference or (document.name if document else None)
        )
    item = _run(
        username, lambda s, g, p: flows.submit_evidence(session=s, guard=g, principal=p, item_id=item_id, data=data)
    )
    console.print(f"evidence {item.evidence[-1].id} submitted; item is {item.status}", highlight=False)


def _review(username: str, item_id: str, evidence_id: str, decision: str, reason: str, corrects: str | None) -> None:
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.schemas import ReviewIn

    with _errors():
        data = ReviewIn(reason=reason, corrects_id=corrects)
    item = _run(
        username,
        lambda s, g, p: flows.review_evidence(
            session=s, guard=g, principal=p, item_id=item_id, evidence_id=evidence_id, decision=decision, data=data
        ),
    )
    console.print(f"evidence {evidence_id} {decision}; item is {item.status}", highlight=False)


Evidence = Annotated[str, typer.Argument(help="Evidence id.")]
Corrects = Annotated[str | None, typer.Option("--corrects", help="Id of the verdict this one corrects.")]


@app.command("verify")
def verify(username: As, item_id: ItemArg, evidence_id: Evidence, reason: Reason, corrects: Corrects = None) -> None:
    """Verify evidence (an inspector other than its submitter and the item's owner)."""
    _review(username, item_id, evidence_id, "verified", reason, corrects)


@app.command("reject")
def reject(username: As, item_id: ItemArg, evidence_id: Evidence, reason: Reason, corrects: Corrects = None) -> None:
    """Reject evidence, saying why."""
    _review(username, item_id, evidence_id, "rejected", reason, corrects)


@app.command("extend")
def extend(
    username: As,
    item_id: ItemArg,
    deadline: Annotated[str, typer.Option("--deadline", help="YYYY-MM-DD or ISO time with offset.")],
    reason: Reason,
) -> None:
    """Extend an item's deadline (a new entry with the reason)."""
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.schemas import ExtensionIn

    with _errors():
        data = ExtensionIn(deadline=_deadline(deadline), reason=reason)
    item = _run(
        username, lambda s, g, p: flows.extend_deadline(session=s, guard=g, principal=p, item_id=item_id, data=data)
    )
    console.print(f"deadline of {item.id} is now {item.deadline.isoformat(timespec='minutes')}", highlight=False)


@app.command("spot-check")
def spot_check(
    username: As,
    org: Annotated[str | None, typer.Option("--org", help="Hospital (records) or organisation (accounts).")] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    kind: Annotated[str, typer.Option("--kind", help="records or accounts.")] = "records",
    period_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD (death date, or activity).")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD, exclusive.")] = None,
    size: Annotated[int, typer.Option("--size", min=1, max=500)] = 20,
    seed: Annotated[
        str | None, typer.Option("--seed", help="Seed to draw with (default: a fresh one, recorded).")
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="accounts: only this role.")] = None,
    readers: Annotated[bool, typer.Option("--readers/--no-readers", help="records: list who read each.")] = True,
    show: Annotated[str | None, typer.Option("--show", help="Show this spot check instead of drawing.")] = None,
    reproduce: Annotated[str | None, typer.Option("--reproduce", help="Re-draw this spot check and compare.")] = None,
) -> None:
    """Draw a seeded, reproducible sample and print the check list."""
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.schemas import SpotCheckIn

    if show is not None:
        _show_check(
            _run(username, lambda s, g, p: flows.get_spot_check(session=s, guard=g, principal=p, check_id=show))
        )
        return
    if reproduce is not None:
        result = _run(
            username, lambda s, g, p: flows.reproduce_spot_check(session=s, guard=g, principal=p, check_id=reproduce)
        )
        verdict = "reproduced" if result.reproduced else "NOT reproduced"
        console.print(
            f"{verdict}: seed {result.seed}, population {result.population_size} "
            f"({'same' if result.population_matches else 'different'} population digest)",
            highlight=False,
        )
        if not result.reproduced:
            raise typer.Exit(1)
        return
    if org is None:
        raise fail("--org is required to draw a sample", code=2)
    with _errors():
        data = SpotCheckIn.model_validate(
            {
                "title": title or f"Spot check of {kind} at {org}",
                "kind": kind,
                "org_id": org,
                "period_from": period_from,
                "period_to": period_to,
                "size": size,
                "seed": seed,
                "role": role,
                "include_readers": readers,
            }
        )

    def flow(session: Session, guard: Guard, principal: Principal) -> Outcome[SpotCheckDetail]:
        org_id(session, data.org_id, "--org")
        return flows.create_spot_check(session=session, guard=guard, principal=principal, data=data)

    check = _run(username, flow)
    _show_check(check)


@app.command("findings")
def findings(
    username: As,
    check_id: CheckArg,
    item: Annotated[str | None, typer.Option("--item", help="Item id (omit to show the list).")] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="satisfactory, unsatisfactory, not_applicable.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What the inspector found.")] = None,
    corrects: Annotated[str | None, typer.Option("--corrects", help="Id of the finding this one corrects.")] = None,
) -> None:
    """Record the finding on one item of a spot check (or show the list with the findings)."""
    from piguard.oversight.inspections import flows
    from piguard.oversight.inspections.schemas import FindingIn

    if item is None:
        _show_check(
            _run(username, lambda s, g, p: flows.get_spot_check(session=s, guard=g, principal=p, check_id=check_id))
        )
        return
    with _errors():
        data = FindingIn.model_validate({"item_id": item, "outcome": outcome, "note": note, "corrects_id": corrects})
    check = _run(
        username, lambda s, g, p: flows.record_finding(session=s, guard=g, principal=p, check_id=check_id, data=data)
    )
    _show_check(check)


@app.command("reinspect")
def reinspect(
    username: As,
    check_id: CheckArg,
    on: Annotated[str, typer.Option("--on", help="Date of the re-inspection, YYYY-MM-DD.")],
    reason: Reason,
) -> None:
    """Schedule a re-inspection after unsatisfactory findings."""
    from piguard.errors import InputError
    from piguard.oversight.inspections import flows

    with _errors():
        try:
            when = date.fromisoformat(on)
        except ValueError:
            raise InputError("give the date as YYYY-MM-DD", where="--on") from None
    check = _run(
        username,
        lambda s, g, p: flows.schedule_reinspection(
            session=s, guard=g, principal=p, check_id=check_id, scheduled_for=when, reason=reason
        ),
    )
    console.print(f"re-inspection (round {check.round}) scheduled for {check.next_inspection_on}", highlight=False)


@app.command("close")
def close(username: As, check_id: CheckArg, reason: Reason) -> None:
    """Close a spot check as satisfactory (every item found satisfactory or not applicable)."""
    from piguard.oversight.inspections import flows

    check = _run(
        username,
        lambda s, g, p: flows.close_spot_check(session=s, guard=g, principal=p, check_id=check_id, reason=reason),
    )
    console.print(f"spot check {check.id} closed as satisfactory", highlight=False)


@app.command("check")
def check_entries(username: As) -> None:
    """Recompute every inspection entry's digest and find it in the ledger; exit 1 if anything changed."""
    from piguard.oversight.inspections import flows

    problems = _run(username, lambda s, g, p: flows.verify_entries(session=s, guard=g, principal=p))
    for problem in problems:
        console.print(f"[red]{escape(problem)}[/]", highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print("every inspection entry matches its digest and its ledger event", highlight=False)
