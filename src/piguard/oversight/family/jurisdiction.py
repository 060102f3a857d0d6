"""A relative's request's jurisdiction as the policy sees it: the record's certifying institution and district.

See ``oversight/scope.py``. An unknown request or record has none (the work reports it).
``within`` is the same rule as a query condition, so a list is filtered in SQL before its limit
and Cedar then confirms the rows found in one batch (as the reports search does).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import Session

from piguard.errors import NotFoundError
from piguard.oversight import scope
from piguard.oversight.family import disclosures
from piguard.oversight.family.models import FamilyRequest
from piguard.policy.pdp import Subject
from piguard.records.models import DeathReport, Organisation


def of_report(session: Session, report_id: str | None) -> dict[str, Any]:
    """The jurisdiction of a request about this death report (an unknown one: none)."""
    return scope.of_orgs(session, scope.report_orgs(session, [report_id] if report_id else []))


def of_new_request(session: Session, *, report_id: str | None, certificate_no: str | None) -> dict[str, Any]:
    """The jurisdiction of a request about to be registered (its record named by id or certificate)."""
    try:
        report = disclosures.find_report(session, report_id=report_id, certificate_no=certificate_no)
    except NotFoundError:
        return scope.of_orgs(session, [])
    return of_report(session, report.id)


def of_request(session: Session, request_id: str | None) -> dict[str, Any]:
    """The jurisdiction of a stored request (an unknown request: none)."""
    row = session.get(FamilyRequest, request_id) if request_id is not None else None
    return of_report(session, row.report_id if row is not None else None)


def within(subject: Subject, relations: frozenset[str]) -> ColumnElement[bool]:
    """The policy's jurisdiction rule (``oversight_family.cedar``) over ``DeathReport`` joined to its ``Organisation``.

    Own institution's records; an oversight body's: its district's, or the whole city at
    municipal level. Cedar still decides every row; this only keeps the others out of the query.
    """
    if scope.RELATION not in relations:
        return DeathReport.hospital_org_id == subject.org_id
    if subject.org_level == "municipal":
        return true()
    return or_(DeathReport.hospital_org_id == subject.org_id, Organisation.district == subject.district)
