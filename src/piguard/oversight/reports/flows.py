"""The guarded report flow: the policy decides, the report is built, its disclosure is recorded.

Resource ``PrivacyReport`` (``org``: the organisation, or ``city``). Privacy officers and
administrators read their own organisation's report; those of a health commission read every
organisation's and the city's. A report discloses who accessed what and who was sanctioned, so
generating it is an ``export`` event in the ledger (a refusal is a denied one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from piguard.errors import InputError, PiguardError
from piguard.identity.schemas import Principal
from piguard.oversight.common import Outcome
from piguard.oversight.reports import data as report_data
from piguard.oversight.reports import render
from piguard.oversight.training.flows import relations
from piguard.policy.pdp import AccessRequest, ResourceRef
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, denied, record_event, refuse, subject_of

PURPOSE = "HOPERAT"
CONTEXT = "oversight"
CITY = "city"


@dataclass(frozen=True, slots=True)
class Report:
    """A rendered report: its bytes, format and the numbers it was made from."""

    content: bytes
    fmt: str
    data: report_data.MonthlyData

    @property
    def media_type(self) -> str:
        """The HTTP content type."""
        return "application/pdf" if self.fmt == "pdf" else "text/html; charset=utf-8"

    @property
    def filename(self) -> str:
        """A file name for the download."""
        return f"privacy-report-{self.data.org_id or CITY}-{self.data.month}.{self.fmt}"


def _check(org_id: str | None, month: str, fmt: str, at: datetime, session: Session) -> None:
    if fmt not in render.FORMATS:
        raise InputError("must be html or pdf", where="format")
    start, _ = report_data.month_bounds(month)
    if start > at:
        raise InputError("lies in the future", where="month")
    if org_id is not None:
        records.get_organisation(session=session, org_id=org_id)  # NotFoundError for unknown ids


def monthly_report(
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    org_id: str | None,
    month: str,
    fmt: str = "html",
    alerts_file: Path | None = None,
) -> Outcome[Report]:
    """The monthly privacy report of one organisation (or the city, ``org_id`` None), recorded as an export."""
    at = guard.clock()
    scope = org_id or CITY
    # A month or format that is not one is refused, and not copied into the ledger as it was typed.
    label = month if report_data.MONTH.fullmatch(month) else "invalid"
    shape = fmt if fmt in render.FORMATS else "invalid"
    draft = EventDraft(
        action="export",
        resource_type="privacy_report",
        resource_id=f"{scope}:{label}"[:64],
        purpose=PURPOSE,
        query=f"org={scope} month={label} format={shape}",
    )
    try:
        _check(org_id, month, fmt, at, session)
    except PiguardError as exc:
        return Outcome(None, refuse(session, principal, draft, exc, at).error or exc)
    decision = guard.engine.decide(
        AccessRequest(
            subject=subject_of(session=session, principal=principal, at=at),
            action="read_report",
            resource=ResourceRef("PrivacyReport", f"{scope}:{month}", {"org": scope, "city": org_id is None}),
            purpose=PURPOSE,
            display_context=CONTEXT,
            relationships=relations(session=session, principal=principal, org_id=org_id),
        )
    )
    if not decision.allowed:
        error = denied(decision)
        return Outcome(None, refuse(session, principal, draft, error, at, decision).error or error, decision)
    try:
        numbers = report_data.gather(session=session, org_id=org_id, month=month, alerts_file=alerts_file)
    except PiguardError as exc:
        return Outcome(None, refuse(session, principal, draft, exc, at, decision).error or exc, decision)
    content = render.render(numbers, fmt=fmt)
    draft.result_count = numbers.accesses + numbers.denials + numbers.breakglass
    record_event(session, principal, draft, at=at, outcome="allowed", reason=",".join(decision.policy_ids))
    return Outcome(Report(content=content, fmt=fmt, data=numbers), None, decision)
