"""Spot checks: draw a reproducible sample, list it, record findings, re-inspect until closed.

The population is fixed by the recorded criteria and ``as_of`` (the server time of the draw):
records of an organisation created before ``as_of`` whose death falls in the period, or the
organisation's accounts that existed and were active at ``as_of``. Readers of a sampled record
come from the ledger (its stored access events up to ``as_of``). Same seed and same data give the
same list (``reproduce`` re-draws and compares). Canary records are not sampled: they are decoys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from piguard.db.locking import get_for_update
from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.localtime import beijing_date
from piguard.oversight.inspections import jurisdiction, rules, sampling
from piguard.oversight.inspections.journal import write
from piguard.oversight.inspections.models import SpotCheck, SpotCheckEvent, SpotCheckFinding, SpotCheckItem
from piguard.oversight.inspections.schemas import (
    FindingIn,
    FindingOut,
    Reproduction,
    SpotCheckDetail,
    SpotCheckEventOut,
    SpotCheckIn,
    SpotCheckItemOut,
    SpotCheckOut,
)
from piguard.records.models import DeathReport, Organisation

READ_ACTIONS = ("read", "print", "export", "resolve_handle")
READ_MARGIN = timedelta(days=1)  # clock skew between the recording systems and the death time


def _start(day: date | None) -> datetime | None:
    # Periods are whole days in UTC, so a re-draw anywhere gives the same population.
    return datetime.combine(day, time.min, tzinfo=UTC) if day is not None else None


def _criteria(data: SpotCheckIn, *, as_of: datetime) -> dict[str, Any]:
    return {
        "kind": data.kind,
        "org_id": data.org_id,
        "period_from": data.period_from.isoformat() if data.period_from else None,
        "period_to": data.period_to.isoformat() if data.period_to else None,
        "role": data.role,
        "size": data.size,
        "include_readers": data.include_readers if data.kind == "records" else False,
        "as_of": as_of.astimezone(UTC).isoformat(),
    }


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def population(*, session: Session, criteria: dict[str, Any]) -> list[str]:
    """The ids the sample is drawn from, as defined by the recorded criteria (sorted)."""
    as_of = datetime.fromisoformat(criteria["as_of"])
    start, end = _start(_day(criteria.get("period_from"))), _start(_day(criteria.get("period_to")))
    if criteria["kind"] == "records":
        query = select(DeathReport.id).where(
            DeathReport.hospital_org_id == criteria["org_id"],
            DeathReport.is_canary.is_(False),
            DeathReport.created_at < as_of,
        )
        if start is not None:
            query = query.where(DeathReport.death_time >= start)
        if end is not None:
            query = query.where(DeathReport.death_time < end)
    else:
        query = select(Account.id).where(
            Account.org_id == criteria["org_id"],
            Account.kind == "human",
            Account.created_at < as_of,
            or_(Account.disabled_at.is_(None), Account.disabled_at > as_of),
        )
        if criteria.get("role"):
            query = query.where(Account.role == criteria["role"])
    return sorted(str(value) for value in session.scalars(query))


def _events_about(session: Session, subjects: set[str], *, since: datetime, until: datetime) -> Iterator[AccessEvent]:
    """Ledger events in [since, until) about these subjects, or about no single subject (searches), in order.

    Read through the ledger's checked reader: every entry's leaf hash and copied columns are
    verified and a selection also returns entries whose columns were edited away, so editing an
    entry's subject or time column can neither hide a read from the check nor add one.
    """
    for entry in ledger.iter_entries(session=session, time_from=since, time_to=until):
        event = entry.event
        if event.subject_id is None or event.subject_id in subjects:
            yield event


def _report_read(event: AccessEvent, report_of: dict[str, str]) -> str | None:
    """The sampled report a read-like event is about: by its subject, or by the report itself.

    Older ledgers recorded certificate prints with the report as resource and no subject; they
    count too.
    """
    if event.action not in READ_ACTIONS:
        return None
    if event.subject_id in report_of:
        return report_of[event.subject_id]
    if event.subject_id is None and event.resource_type == "death_report" and event.resource_id in report_of.values():
        return event.resource_id
    return None


def _readers(
    session: Session, report_ids: Sequence[str], *, as_of: datetime
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per sampled record, everyone the ledger shows reading it, trying to, or getting it in search results.

    One pass over the ledger's events from the earliest death among the records to ``as_of``: the
    time index bounds it, and nobody reads a death report before the death.
    """
    rows = session.execute(
        select(DeathReport.id, DeathReport.subject_id, DeathReport.death_time).where(DeathReport.id.in_(report_ids))
    ).all()
    if not rows:
        return {}
    report_of = {str(subject): str(report) for report, subject, _ in rows}
    since = min(death for _, _, death in rows) - READ_MARGIN
    seen: dict[str, dict[str, dict[str, Any]]] = {report: {} for report in report_of.values()}

    def note(report: str, event: AccessEvent, counter: str) -> None:
        entry = seen[report].setdefault(
            event.user_id,
            {"role": event.role, "org_id": event.org_id, "allowed": 0, "denied": 0, "listed": 0, "first": None},
        )
        entry[counter] += 1
        stamp = event.time.astimezone(UTC).isoformat()
        entry["first"] = entry["first"] or stamp
        entry["last"] = stamp

    for event in _events_about(session, set(report_of), since=since, until=as_of):
        report = _report_read(event, report_of)
        if report is not None:
            note(report, event, "allowed" if event.outcome == "allowed" else "denied")
        elif event.action == "search" and event.outcome == "allowed":
            for subject in event.result_subject_ids:
                if subject in report_of:
                    note(report_of[subject], event, "listed")
    return {report: sorted(users.items()) for report, users in seen.items()}


def _account_activity(session: Session, account_id: str, criteria: dict[str, Any]) -> dict[str, Any]:
    """What the sampled account did in the period (from the ledger): reads, denials, break-glass."""
    as_of = datetime.fromisoformat(criteria["as_of"])
    start, end = _start(_day(criteria.get("period_from"))), _start(_day(criteria.get("period_to")))
    counts = {"reads": 0, "denied": 0, "breakglass": 0, "subjects": 0}
    subjects: set[str] = set()
    for event in ledger.iter_events(
        session=session, user_id=account_id, time_from=start, time_to=min(end, as_of) if end else as_of
    ):
        if event.outcome == "denied":
            counts["denied"] += 1
        elif event.action == "breakglass":
            counts["breakglass"] += 1
        elif event.action in READ_ACTIONS:
            counts["reads"] += 1
            if event.subject_id:
                subjects.add(event.subject_id)
    counts["subjects"] = len(subjects)
    return counts


def _lines(
    session: Session, criteria: dict[str, Any], sample: Sequence[str]
) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """The check list: each sampled record followed by its readers, or each sampled account."""
    as_of = datetime.fromisoformat(criteria["as_of"])
    lines: list[tuple[str, str, str | None, dict[str, Any]]] = []
    readers = _readers(session, sample, as_of=as_of) if criteria.get("include_readers") else {}
    for ref in sample:
        if criteria["kind"] == "records":
            lines.append(("death_report", ref, None, {}))
            lines.extend(("reader", user, ref, detail) for user, detail in readers.get(ref, []))
        else:
            lines.append(("account", ref, None, _account_activity(session, ref, criteria)))
    return lines


def create(*, session: Session, principal: Principal, at: datetime, data: SpotCheckIn) -> SpotCheck:
    """Draw the sample (seeded, the seed recorded) and fix the check list."""
    today = beijing_date(at)  # dates are typed in Beijing time
    period = (data.period_from, data.period_to) if data.period_from and data.period_to else None
    rules.check_sample(size=data.size, kind=data.kind, period=period, today=today)
    if data.period_from is not None and data.period_from > today:
        raise InputError("the period has not begun yet", where="period_from")
    first = data.first_inspection_on or today
    rules.check_inspection_date(first, today=today, where="first_inspection_on")
    org = session.get(Organisation, data.org_id)
    if org is None:
        raise InputError("no such organisation", where="org_id")
    if data.kind == "records" and org.org_type != "hospital":
        raise InputError("records are sampled from a hospital's death reports", where="org_id")
    criteria = _criteria(data, as_of=at)
    candidates = population(session=session, criteria=criteria)
    if not candidates:
        raise InputError("nothing to sample: the population is empty for these criteria", where="org_id")
    seed = data.seed or sampling.new_seed()
    sample = sampling.draw(candidates, seed=seed, size=data.size)
    check = SpotCheck(
        title=data.title,
        kind=data.kind,
        criteria=criteria,
        seed=seed,
        population_size=len(candidates),
        population_digest=sampling.population_digest(candidates),
        sample_size=len(sample),
        org_id=data.org_id,
        first_inspection_on=first,
    )
    write(session, check, principal=principal, at=at, action="create", resource_type="spot_check", what="drawn")
    for position, (kind, ref, parent, detail) in enumerate(_lines(session, criteria, sample), start=1):
        session.add(
            SpotCheckItem(
                check_id=check.id, position=position, item_type=kind, ref_id=ref, parent_ref=parent, detail=detail
            )
        )
    session.flush()
    return check


def reproduce(*, session: Session, check_id: str) -> Reproduction:
    """Re-draw the sample from the recorded criteria and seed and compare it with the recorded list."""
    check = _check(session, check_id)
    candidates = population(session=session, criteria=check.criteria)
    redrawn = sampling.draw(candidates, seed=check.seed, size=int(check.criteria["size"]))
    items = _items(session, check.id)
    recorded = [item.ref_id for item in items if item.item_type in ("death_report", "account")]
    digest = sampling.population_digest(candidates)
    lines = _lines(session, check.criteria, redrawn)
    stored = [(item.item_type, item.ref_id, item.parent_ref, item.detail) for item in items]
    return Reproduction(
        check_id=check.id,
        seed=check.seed,
        reproduced=sampling.same_sample(recorded, redrawn),
        population_size=len(candidates),
        population_digest=digest,
        population_matches=digest == check.population_digest,
        list_matches=lines == stored,
        sample=redrawn,
    )


def _check(session: Session, check_id: str, *, lock: bool = False) -> SpotCheck:
    # Changes lock the check row: two inspectors cannot record the same round's finding at once.
    row = get_for_update(session, SpotCheck, check_id) if lock else session.get(SpotCheck, check_id)
    if row is None:
        raise NotFoundError("spot check not found")
    return row


def _items(session: Session, check_id: str) -> list[SpotCheckItem]:
    # Always what the database holds now (not the session's copies): reproduction compares with it.
    query = select(SpotCheckItem).where(SpotCheckItem.check_id == check_id).order_by(SpotCheckItem.position)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _findings(session: Session, check_id: str) -> list[SpotCheckFinding]:
    return list(
        session.scalars(
            select(SpotCheckFinding)
            .where(SpotCheckFinding.check_id == check_id)
            .order_by(SpotCheckFinding.created_at, SpotCheckFinding.id)
        )
    )


def _events(session: Session, check_id: str) -> list[SpotCheckEvent]:
    return list(
        session.scalars(select(SpotCheckEvent).where(SpotCheckEvent.check_id == check_id).order_by(SpotCheckEvent.seq))
    )


class _State:
    """A check's computed state: round, closure, each item's standing finding."""

    def __init__(
        self,
        check: SpotCheck,
        items: list[SpotCheckItem],
        findings: list[SpotCheckFinding],
        events: list[SpotCheckEvent],
    ) -> None:
        self.items = items
        self.findings = findings
        self.events = events
        self.closed = any(e.kind == "closed" for e in events)
        self.round = 1 + sum(1 for e in events if e.kind == "reinspection_scheduled")
        corrected = {f.corrects_id for f in findings if f.corrects_id}
        self.standing = [f for f in findings if f.id not in corrected]
        latest: dict[str, SpotCheckFinding] = {}
        for finding in self.standing:  # oldest first: later rounds and later entries win
            known = latest.get(finding.item_id)
            if known is None or finding.round >= known.round:
                latest[finding.item_id] = finding
        self.latest = latest
        reinspections = [e for e in events if e.kind == "reinspection_scheduled"]
        self.next_on: date | None = None
        if not self.closed:
            self.next_on = reinspections[-1].scheduled_for if reinspections else check.first_inspection_on
        self.this_round = [f for f in self.standing if f.round == self.round]

    @property
    def status(self) -> str:
        if self.closed:
            return "closed"
        if self.this_round:
            return "in_progress"
        return "reinspection_scheduled" if self.round > 1 else "scheduled"

    def unsatisfactory(self) -> int:
        return sum(1 for f in self.latest.values() if f.outcome == "unsatisfactory")


def _state(session: Session, check: SpotCheck) -> _State:
    return _State(check, _items(session, check.id), _findings(session, check.id), _events(session, check.id))


def record_finding(
    *, session: Session, principal: Principal, at: datetime, check_id: str, data: FindingIn
) -> SpotCheckFinding:
    """Record the finding on one item in the current round (or correct an earlier finding)."""
    check = _check(session, check_id, lock=True)
    state = _state(session, check)
    rules.check_finding(outcome=data.outcome, closed=state.closed)
    item = next((i for i in state.items if i.id == data.item_id), None)
    if item is None:
        raise InputError("no such item in this spot check", where="item_id")
    readers = {i.ref_id for i in state.items if i.item_type == "reader" and i.parent_ref == item.ref_id}
    rules.check_finding_not_own(
        actor_id=principal.account_id, item_type=item.item_type, ref_id=item.ref_id, readers=readers
    )
    round_ = state.round
    if data.corrects_id is not None:
        corrected = next((f for f in state.standing if f.id == data.corrects_id), None)
        if corrected is None or corrected.item_id != item.id:
            raise InputError("corrects_id must name a standing finding on this item", where="corrects_id")
        round_ = corrected.round
    elif any(f.item_id == item.id for f in state.this_round):
        raise ConflictError("this item already has a finding in this round; record a correction (corrects_id)")
    row = SpotCheckFinding(
        check_id=check.id,
        item_id=item.id,
        round=round_,
        outcome=data.outcome,
        note=data.note,
        corrects_id=data.corrects_id,
    )
    what = "finding_recorded" if data.corrects_id is None else "finding_corrected"
    return write(
        session,
        row,
        principal=principal,
        at=at,
        action="update",
        resource_type="spot_check",
        resource_id=check.id,
        what=what,
    )


def _event(
    session: Session, principal: Principal, at: datetime, check: SpotCheck, state: _State, **values: Any
) -> SpotCheckEvent:
    row = SpotCheckEvent(check_id=check.id, seq=len(state.events) + 1, **values)
    return write(
        session,
        row,
        principal=principal,
        at=at,
        action="update",
        resource_type="spot_check",
        resource_id=check.id,
        what=str(values["kind"]),
    )


def schedule_reinspection(
    *, session: Session, principal: Principal, at: datetime, check_id: str, scheduled_for: date, reason: str
) -> SpotCheckEvent:
    """Schedule the next inspection round after unsatisfactory findings."""
    text = rules.require_reason(reason)
    check = _check(session, check_id, lock=True)
    state = _state(session, check)
    rules.check_reinspection(
        closed=state.closed, findings_this_round=len(state.this_round), unsatisfactory=state.unsatisfactory()
    )
    rules.check_inspection_date(scheduled_for, today=beijing_date(at), where="scheduled_for")
    return _event(
        session,
        principal,
        at,
        check,
        state,
        kind="reinspection_scheduled",
        round=state.round + 1,
        scheduled_for=scheduled_for,
        reason=text,
    )


def close(*, session: Session, principal: Principal, at: datetime, check_id: str, reason: str) -> SpotCheckEvent:
    """Close the check as satisfactory: every item has a finding and none is unsatisfactory."""
    text = rules.require_reason(reason)
    check = _check(session, check_id, lock=True)
    state = _state(session, check)
    rules.check_close(
        closed=state.closed,
        items=len(state.items),
        without_finding=sum(1 for i in state.items if i.id not in state.latest),
        unsatisfactory=state.unsatisfactory(),
    )
    return _event(
        session, principal, at, check, state, kind="closed", round=state.round, scheduled_for=None, reason=text
    )


def _out(check: SpotCheck, state: _State) -> dict[str, Any]:
    return {
        "id": check.id,
        "title": check.title,
        "kind": check.kind,
        "org_id": check.org_id,
        "seed": check.seed,
        "criteria": check.criteria,
        "population_size": check.population_size,
        "population_digest": check.population_digest,
        "sample_size": check.sample_size,
        "status": state.status,
        "round": state.round,
        "next_inspection_on": state.next_on,
        "created_by": check.created_by,
        "created_at": check.created_at,
    }


def list_checks(
    *,
    session: Session,
    org_id: str | None = None,
    status: str | None = None,
    limit: int = 200,
    within: Select[str] | None = None,
) -> list[SpotCheckOut]:
    """Up to ``limit`` spot checks, newest first, of these organisations (``within``) and in this status.

    The jurisdiction is a condition of the query; the status is computed from each check's
    entries, so the checks are read a page at a time until ``limit`` of them have it.
    """
    query = select(SpotCheck).order_by(SpotCheck.created_at.desc(), SpotCheck.id.desc())
    if org_id is not None:
        query = query.where(SpotCheck.org_id == org_id)
    if within is not None:
        query = query.where(jurisdiction.checks_within(within))
    out: list[SpotCheckOut] = []
    offset = 0
    while len(out) < limit:
        page = list(session.scalars(query.offset(offset).limit(limit)))
        for check in page:
            listed = SpotCheckOut.model_validate(_out(check, _state(session, check)))
            if status is None or listed.status == status:
                out.append(listed)
        if len(page) < limit:
            break
        offset += limit
    return out[:limit]


def detail(*, session: Session, check_id: str) -> SpotCheckDetail:
    """A check with its list (each item's standing finding), all findings and its history."""
    check = _check(session, check_id)
    state = _state(session, check)
    return SpotCheckDetail(
        **_out(check, state),
        items=[
            SpotCheckItemOut(
                id=i.id,
                position=i.position,
                item_type=i.item_type,
                ref_id=i.ref_id,
                parent_ref=i.parent_ref,
                detail=i.detail,
                outcome=state.latest[i.id].outcome if i.id in state.latest else None,
                finding_round=state.latest[i.id].round if i.id in state.latest else None,
            )
            for i in state.items
        ],
        findings=[
            FindingOut(
                id=f.id,
                item_id=f.item_id,
                round=f.round,
                outcome=f.outcome,
                note=f.note,
                corrects_id=f.corrects_id,
                created_by=f.created_by,
                created_at=f.created_at,
            )
            for f in state.findings
        ],
        events=[
            SpotCheckEventOut(
                seq=e.seq,
                kind=e.kind,
                round=e.round,
                scheduled_for=e.scheduled_for,
                reason=e.reason,
                created_by=e.created_by,
                created_at=e.created_at,
            )
            for e in state.events
        ],
    )
