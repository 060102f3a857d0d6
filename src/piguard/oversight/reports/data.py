"""The numbers of a monthly privacy report, read from the ledger and the oversight tables.

Months are Beijing calendar months, like the death statistics'. Everything is computed as of the
end of the month (exclusive), from entries dated before it, so
a report of a past month comes out the same however often and whenever it is generated.
Accesses are allowed ``read``/``search``/``export``/``print``/``resolve_handle`` events;
denials are denied events of any action; break-glass uses are allowed ``breakglass`` events.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.identity import service as identity
from piguard.interchange.alerts import read_alert_report
from piguard.ledger import service as ledger
from piguard.localtime import BEIJING
from piguard.oversight.cases import jurisdiction
from piguard.oversight.cases.models import CaseEvent, Disposition, DispositionDecision, OversightCase
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.inspections import service as inspections
from piguard.oversight.training import service as training
from piguard.records import service as records
from piguard.records.models import DeathReport

ACCESS_ACTIONS = frozenset({"read", "search", "export", "print", "resolve_handle"})
# ASCII digits only: ``\d`` would take fullwidth or other scripts' digits and pass them on verbatim.
MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
#: Years a report may be of: none before 2000 (no ledger), and the month after 9998-12 is representable.
YEARS = range(2000, 9999)
ITEM_STATUSES = ("open", "awaiting_review", "rejected", "overdue", "verified")
TOP = 10


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one (Beijing time), from ``YYYY-MM``."""
    match = MONTH.fullmatch(month)
    if match is None:
        raise InputError("must be YYYY-MM (ASCII digits), e.g. 2025-03", where="month")
    year, number = int(match.group(1)), int(match.group(2))
    if year not in YEARS:
        raise InputError(f"the year must lie between {YEARS[0]} and {YEARS[-1]}", where="month")
    start = datetime(year, number, 1, tzinfo=BEIJING)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=BEIJING)
    return start, end


@dataclass(frozen=True)
class OverdueItem:
    """A rectification item past its deadline at the end of the month."""

    reference_no: str
    seq: int
    description: str
    owner_org: str
    deadline: datetime
    days_overdue: int


@dataclass(frozen=True)
class MonthlyData:
    """Everything a monthly report shows (sorted, so rendering is deterministic)."""

    month: str
    start: datetime
    end: datetime
    org_id: str | None  # None: the whole city
    title: str
    accesses: int = 0
    denials: int = 0
    breakglass: int = 0
    daily: list[tuple[int, int, int]] = field(default_factory=list)  # day, accesses, denials
    by_role: list[tuple[str, int, int]] = field(default_factory=list)  # role, accesses, denials
    denial_reasons: list[tuple[str, int]] = field(default_factory=list)
    breakglass_users: list[tuple[str, int]] = field(default_factory=list)
    alerts_source: str = "cases"  # "file" (an alerts file was given) or "cases" (cases opened from alerts)
    alerts: int = 0
    alerts_by_severity: list[tuple[str, int]] = field(default_factory=list)
    cases_opened: int = 0
    cases_closed: int = 0
    cases_by_state: list[tuple[str, int]] = field(default_factory=list)  # at the end of the month
    dispositions: list[tuple[str, int]] = field(default_factory=list)  # approved in the month, by kind
    rectification: list[tuple[str, int]] = field(default_factory=list)  # status at the end of the month
    overdue: list[OverdueItem] = field(default_factory=list)
    staff: int = 0
    trained: int = 0
    training_by_org: list[tuple[str, int, int]] = field(default_factory=list)  # org name, trained, staff
    # Close relatives' requests (PIPL Art. 49) about the organisation's records.
    family_received: int = 0
    family_answered: int = 0
    family_refused: int = 0
    family_overdue: int = 0  # unanswered past the 30 days at the end of the month

    @property
    def training_share(self) -> float:
        """Share of staff with valid mandatory training at the end of the month (1.0 with no staff)."""
        return self.trained / self.staff if self.staff else 1.0

    @property
    def training_coverage(self) -> str:
        """Training coverage as printed: ``"97.5% (39/40)"``, or ``"no staff"`` when there is nobody to train."""
        return coverage_text(self.trained, self.staff)


def coverage_text(trained: int, staff: int) -> str:
    """``"97.5% (39/40)"``, or ``"no staff"`` (a share of nobody is not 100%)."""
    return f"{100 * trained / staff:.1f}% ({trained}/{staff})" if staff else "no staff"


def _events(session: Session, org_id: str | None, start: datetime, end: datetime) -> dict[str, object]:
    days = (end - start).days
    daily_access, daily_denied = [0] * days, [0] * days
    roles: dict[str, list[int]] = {}
    reasons: Counter[str] = Counter()
    glass: Counter[str] = Counter()
    accesses = denials = breakglass = 0
    for event in ledger.iter_events(session=session, time_from=start, time_to=end):
        if org_id is not None and event.org_id != org_id:
            continue
        day = (event.time - start).days
        counts = roles.setdefault(event.role, [0, 0])
        if event.outcome == "denied":
            denials += 1
            daily_denied[day] += 1
            counts[1] += 1
            # Policy ids lead the reason ("training-gate: ..."); the first clause is enough to group by.
            reasons[(event.reason or "no reason recorded").split(";")[0][:120]] += 1
        elif event.action == "breakglass":
            breakglass += 1
            glass[event.user_id] += 1
        elif event.action in ACCESS_ACTIONS:
            accesses += 1
            daily_access[day] += 1
            counts[0] += 1
    return {
        "accesses": accesses,
        "denials": denials,
        "breakglass": breakglass,
        "daily": [(day + 1, daily_access[day], daily_denied[day]) for day in range(days)],
        "by_role": sorted((role, c[0], c[1]) for role, c in roles.items() if c[0] or c[1]),
        "denial_reasons": sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        "breakglass_users": sorted(glass.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
    }


def _alerts(
    session: Session, org_id: str | None, start: datetime, end: datetime, alerts_file: Path | None
) -> tuple[str, int, list[tuple[str, int]]]:
    if alerts_file is not None:
        report = read_alert_report(alerts_file)
        members = None if org_id is None else {a.id for a in identity.list_accounts(session=session, org_id=org_id)}
        chosen = [
            alert
            for alert in report.alerts
            if start <= alert.first_event_time < end and (members is None or alert.user_id in members)
        ]
        severity = Counter(alert.severity for alert in chosen)
        return "file", len(chosen), sorted(severity.items())
    query = select(OversightCase.id).where(
        OversightCase.source == "alert", OversightCase.opened_at >= start, OversightCase.opened_at < end
    )
    if org_id is not None:
        query = query.where(jurisdiction.concerning(org_id))
    return "cases", len(session.scalars(query).all()), []


def _cases(session: Session, org_id: str | None, start: datetime, end: datetime) -> dict[str, object]:
    query = select(OversightCase.id, OversightCase.opened_at).where(OversightCase.opened_at < end)
    if org_id is not None:
        # The organisation's cases: about its records, its staff, or naming it (not only ``org_id``).
        query = query.where(jurisdiction.concerning(org_id))
    cases = {case_id: opened for case_id, opened in session.execute(query)}
    opened = sum(1 for at in cases.values() if at >= start)
    # The state at the end of the month is the last state change recorded before it.
    state: dict[str, str] = dict.fromkeys(cases, "open")
    closed = 0
    if cases:
        rows = session.execute(
            select(CaseEvent.case_id, CaseEvent.to_state, CaseEvent.at)
            .where(CaseEvent.case_id.in_(list(cases)), CaseEvent.to_state.is_not(None), CaseEvent.at < end)
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        )
        for case_id, to_state, at in rows:
            state[case_id] = str(to_state)
            if to_state == "closed" and at >= start:
                closed += 1
    kinds: Counter[str] = Counter()
    decided = (
        select(Disposition.kind)
        .join(DispositionDecision, DispositionDecision.disposition_id == Disposition.id)
        .join(OversightCase, OversightCase.id == Disposition.case_id)
        .where(
            DispositionDecision.decision == "approved",
            DispositionDecision.decided_at >= start,
            DispositionDecision.decided_at < end,
        )
    )
    if org_id is not None:
        decided = decided.where(jurisdiction.concerning(org_id))
    kinds.update(session.scalars(decided))
    return {
        "cases_opened": opened,
        "cases_closed": closed,
        "cases_by_state": sorted(Counter(state.values()).items()),
        "dispositions": sorted(kinds.items()),
    }


def _family(session: Session, org_id: str | None, start: datetime, end: datetime) -> dict[str, int]:
    """Requests received, answered and refused in the month, and those overdue at its end."""
    query = select(
        FamilyRequest.received_at, FamilyRequest.due_at, FamilyRequest.state, FamilyRequest.decided_at
    ).where(FamilyRequest.received_at < end)
    if org_id is not None:
        query = query.join(DeathReport, DeathReport.id == FamilyRequest.report_id).where(
            DeathReport.hospital_org_id == org_id
        )
    received = answered = refused = overdue = 0
    for received_at, due_at, state, decided_at in session.execute(query):
        received += received_at >= start
        # As of the end of the month: a request decided later was still open then.
        decided = decided_at is not None and decided_at < end
        if decided_at is not None and start <= decided_at < end:
            answered += state == "answered"
            refused += state == "refused"
        overdue += not decided and due_at < end
    return {
        "family_received": received,
        "family_answered": answered,
        "family_refused": refused,
        "family_overdue": overdue,
    }


def _rectification(
    session: Session, org_id: str | None, end: datetime, names: dict[str, str]
) -> tuple[list[tuple[str, int]], list[OverdueItem]]:
    items = [
        item for item in inspections.list_items(session=session, at=end, owner_org_id=org_id) if item.created_at < end
    ]
    counts = Counter(item.status for item in items)
    overdue = sorted(
        (
            OverdueItem(
                reference_no=item.reference_no,
                seq=item.seq,
                description=item.description[:200],
                owner_org=names.get(item.owner_org_id, item.owner_org_id),
                deadline=item.deadline,
                days_overdue=item.days_overdue,
            )
            for item in items
            if item.overdue
        ),
        key=lambda o: (-o.days_overdue, o.reference_no, o.seq),
    )
    return [(status, counts.get(status, 0)) for status in ITEM_STATUSES], overdue


def gather(*, session: Session, org_id: str | None, month: str, alerts_file: Path | None = None) -> MonthlyData:
    """The report's numbers for one organisation (or the city when ``org_id`` is None) and month."""
    start, end = month_bounds(month)
    names = {org.id: org.name for org in records.list_organisations(session=session)}
    title = "City" if org_id is None else records.get_organisation(session=session, org_id=org_id).name
    events = _events(session, org_id, start, end)
    source, alerts, severity = _alerts(session, org_id, start, end, alerts_file)
    cases = _cases(session, org_id, start, end)
    family = _family(session, org_id, start, end)
    rectification, overdue = _rectification(session, org_id, end, names)
    cover = training.coverage(session=session, at=end, org_ids=None if org_id is None else [org_id])
    return MonthlyData(
        month=month,
        start=start,
        end=end,
        org_id=org_id,
        title=title,
        alerts_source=source,
        alerts=alerts,
        alerts_by_severity=severity,
        rectification=rectification,
        overdue=overdue,
        staff=cover.staff,
        trained=cover.trained,
        training_by_org=sorted((names.get(org, org), trained, staff) for org, (trained, staff) in cover.by_org.items()),
        **events,  # type: ignore[arg-type]
        **cases,  # type: ignore[arg-type]
        family_received=family["family_received"],
        family_answered=family["family_answered"],
        family_refused=family["family_refused"],
        family_overdue=family["family_overdue"],
    )
