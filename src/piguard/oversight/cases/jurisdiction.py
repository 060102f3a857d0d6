"""A case's jurisdiction as the policy sees it: the organisations and districts of what it concerns.

The records the case concerns decide it (their certifying institutions); a case about no record
is about the suspect's organisation, or else the opener's. See ``oversight/scope.py``. ``within``
states the same rule as a condition on the cases table, for lists; ``concerning`` which cases are
an organisation's (for ``?org=`` and its monthly report).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.oversight.cases.models import CaseSubject, OversightCase
from piguard.oversight.cases.schemas import CaseOpen
from piguard.records.models import DeathReport


def _reports(session: Session, identifiers: Sequence[str]) -> list[str]:
    """Report ids of identifiers that are report ids or subject ids (unknown ones: skipped)."""
    if not identifiers:
        return []
    found = session.scalars(
        select(DeathReport.id).where(DeathReport.id.in_(identifiers) | DeathReport.subject_id.in_(identifiers))
    )
    return sorted(set(found))


def _attrs(session: Session, reports: Sequence[str], org_id: str | None, opener_org: str | None) -> dict[str, Any]:
    orgs = scope.report_orgs(session, reports)
    if not orgs:
        orgs = [org_id] if org_id else ([opener_org] if opener_org else [])
    return scope.of_orgs(session, orgs)


def of_case(session: Session, case_id: str, *, more: Sequence[str] = ()) -> dict[str, Any]:
    """The jurisdiction of a stored case (with ``more`` records added); an unknown case: none."""
    case = session.get(OversightCase, case_id)
    if case is None:
        return scope.of_orgs(session, [])
    reports = list(session.scalars(select(CaseSubject.report_id).where(CaseSubject.case_id == case.id)))
    opener = session.get(Account, case.opened_by)
    return _attrs(session, reports + _reports(session, more), case.org_id, opener.org_id if opener else None)


def of_new_case(session: Session, *, principal: Principal, data: CaseOpen) -> dict[str, Any]:
    """The jurisdiction of a case about to be opened."""
    identifiers = list(data.subjects) + (list(data.alert.subject_ids) if data.alert else [])
    # An organisation that does not exist counts as none here: opening the case reports it (422).
    org_id = data.org_id if data.org_id and scope.districts_of(session, [data.org_id]) else None
    suspect = data.suspect_user_id or (data.alert.user_id if data.alert else None)
    if org_id is None and suspect is not None:
        account = session.get(Account, suspect)
        org_id = account.org_id if account is not None else None
    return _attrs(session, _reports(session, identifiers), org_id, principal.org_id)


def within(orgs: Select[str]) -> ColumnElement[bool]:
    """Cases wholly about ``orgs``: every record's institution, else the case's organisation, else the opener's."""
    records = (
        select(CaseSubject.id)
        .join(DeathReport, DeathReport.id == CaseSubject.report_id)
        .where(CaseSubject.case_id == OversightCase.id)
    )
    has_records = exists(records)
    outside = exists(records.where(DeathReport.hospital_org_id.not_in(orgs)))
    opener_org = select(Account.org_id).where(Account.id == OversightCase.opened_by).scalar_subquery()
    return or_(
        and_(has_records, ~outside),
        and_(~has_records, OversightCase.org_id.is_not(None), OversightCase.org_id.in_(orgs)),
        and_(~has_records, OversightCase.org_id.is_(None), opener_org.in_(orgs)),
    )


def concerning(org_id: str) -> ColumnElement[bool]:
    """Cases about an organisation: a record it certified, or the case's organisation or suspect is of it.

    ``oversight_cases.org_id`` is set only from an ``org_id`` or a suspect given at opening, so
    it alone would miss a case about the organisation's own records.
    """
    certified = exists(
        select(CaseSubject.id)
        .join(DeathReport, DeathReport.id == CaseSubject.report_id)
        .where(CaseSubject.case_id == OversightCase.id, DeathReport.hospital_org_id == org_id)
    )
    suspect = exists(select(Account.id).where(Account.id == OversightCase.suspect_user_id, Account.org_id == org_id))
    return or_(OversightCase.org_id == org_id, certified, suspect)
