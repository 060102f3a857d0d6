"""Jurisdiction of oversight work: which organisations and districts a case, spot check or request is about.

The policy (``policies/oversight_*.cedar``) compares these resource attributes with the principal:
an organisation's privacy officer acts on work about its own organisation's records; a health
commission's or CDC's (``oversight_body``) on work within its district, or the city at municipal
level. A resource about several organisations must lie wholly within the principal's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.identity.schemas import Principal
from piguard.records.models import DeathReport, Organisation

OVERSIGHT_BODIES = ("health_commission", "cdc")
RELATION = "oversight_body"


def relations(*, session: Session, principal: Principal) -> frozenset[str]:
    """``{"oversight_body"}`` when the principal works for a health commission or a CDC."""
    org = session.get(Organisation, principal.org_id)
    return frozenset({RELATION}) if org is not None and org.org_type in OVERSIGHT_BODIES else frozenset()


def of_orgs(session: Session, org_ids: Iterable[str | None]) -> dict[str, Any]:
    """The resource attributes ``orgs`` and ``districts`` of work about these organisations."""
    wanted = sorted({org_id for org_id in org_ids if org_id})
    districts = (
        set(session.scalars(select(Organisation.district).where(Organisation.id.in_(wanted)))) if wanted else set()
    )
    # Tuples: hashable, so the engine can remember the decision; Cedar receives them as sets.
    return {"orgs": tuple(wanted), "districts": tuple(sorted(districts))}


def report_orgs(session: Session, report_ids: Iterable[str]) -> list[str]:
    """The institutions (certifying hospitals) of these death reports."""
    wanted = sorted(set(report_ids))
    if not wanted:
        return []
    return sorted(set(session.scalars(select(DeathReport.hospital_org_id).where(DeathReport.id.in_(wanted)))))
