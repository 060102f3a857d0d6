"""A spot check's jurisdiction as the policy sees it: the organisation it samples and its district.

See ``oversight/scope.py``. An unknown check or organisation has none (the work reports it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from piguard.oversight import scope
from piguard.oversight.inspections.models import SpotCheck
from piguard.records.models import Organisation


def of_org(session: Session, org_id: str | None) -> dict[str, Any]:
    """The jurisdiction of a check of this organisation (an unknown one: none)."""
    known = org_id is not None and session.get(Organisation, org_id) is not None
    return scope.of_orgs(session, [org_id] if known else [])


def of_check(session: Session, check_id: str) -> dict[str, Any]:
    """The jurisdiction of a stored spot check (an unknown check: none)."""
    check = session.get(SpotCheck, check_id)
    return of_org(session, check.org_id if check is not None else None)
