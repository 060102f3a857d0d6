"""Jurisdiction of oversight work: which organisations and districts a case, spot check or request is about.

The policy (``policies/oversight_*.cedar``) compares these resource attributes with the principal:
an organisation's privacy officer acts on work about its own organisation's records; a health
commission's or CDC's (``oversight_body``) on work within its district, or the city at municipal
level. A resource about several organisations must lie wholly within the principal's scope.

Lists filter in the query with ``jurisdiction_orgs`` (the same rule as a selection of organisations)
before their limit, and then ask the policy about each row, as the records search does: the
query only spends the limit on rows the principal may see, the policy stays the one that decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from piguard.identity.schemas import Principal
from piguard.records.models import DeathReport, Organisation

OVERSIGHT_BODIES = ("health_commission", "cdc")
RELATION = "oversight_body"
UNKNOWN_DISTRICT = "unknown"  # the district of an organisation that does not exist (no adcode is this)


def relations(*, session: Session, principal: Principal) -> frozenset[str]:
    """``{"oversight_body"}`` when the principal works for a health commission or a CDC."""
    org = session.get(Organisation, principal.org_id)
    return frozenset({RELATION}) if org is not None and org.org_type in OVERSIGHT_BODIES else frozenset()


def jurisdiction_orgs(*, session: Session, principal: Principal) -> Select[str] | None:
    """The ids of the organisations within the principal's jurisdiction, or None for the whole city.

    Mirrors the policies' condition: one's own organisation; for an oversight body also every
    organisation of its district, and every one at municipal level (None: no filter).
    """
    org = session.get(Organisation, principal.org_id)
    if org is None or org.org_type not in OVERSIGHT_BODIES:
        return select(Organisation.id).where(Organisation.id == principal.org_id)
    if org.level == "municipal":
        return None
    return select(Organisation.id).where((Organisation.district == org.district) | (Organisation.id == org.id))


def districts_of(session: Session, org_ids: Iterable[str | None]) -> dict[str, str]:
    """The district of each of these organisations that exists."""
    wanted = sorted({org_id for org_id in org_ids if org_id})
    if not wanted:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.district).where(Organisation.id.in_(wanted)))
    return {org_id: district for org_id, district in rows}


def attrs_of(org_ids: Iterable[str | None], districts: Mapping[str, str]) -> dict[str, Any]:
    """The resource attributes ``orgs`` and ``districts`` of work about these organisations (pure)."""
    wanted = sorted({org_id for org_id in org_ids if org_id})
    found = {districts[org_id] for org_id in wanted if org_id in districts}
    if any(org_id not in districts for org_id in wanted):
        # An organisation that does not exist lies in no district: only the municipal level covers
        # it (without this, its missing district would put the work within every district's scope).
        found.add(UNKNOWN_DISTRICT)
    # Tuples: hashable, so the engine can remember the decision; Cedar receives them as sets.
    return {"orgs": tuple(wanted), "districts": tuple(sorted(found))}


def of_orgs(session: Session, org_ids: Iterable[str | None]) -> dict[str, Any]:
    """The resource attributes ``orgs`` and ``districts`` of work about these organisations."""
    wanted = [org_id for org_id in org_ids if org_id]
    return attrs_of(wanted, districts_of(session, wanted))


def report_orgs(session: Session, report_ids: Iterable[str]) -> list[str]:
    """The institutions (certifying hospitals) of these death reports."""
    wanted = sorted(set(report_ids))
    if not wanted:
        return []
    return sorted(set(session.scalars(select(DeathReport.hospital_org_id).where(DeathReport.id.in_(wanted)))))
