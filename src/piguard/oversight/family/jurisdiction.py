"""A relative's request's jurisdiction as the policy sees it: the record's certifying institution and district.

See ``oversight/scope.py``. An unknown request or record has none (the work reports it). Lists
filter by ``scope.jurisdiction_orgs`` in SQL before their limit, and Cedar then confirms the
rows found in one batch (as the reports search does).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from piguard.errors import NotFoundError
from piguard.oversight import scope
from piguard.oversight.family import disclosures
from piguard.oversight.family.models import FamilyRequest


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
