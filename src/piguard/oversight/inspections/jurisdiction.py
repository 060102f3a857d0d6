"""Inspection work's jurisdiction as the policy sees it: the organisations it is about and their districts.

See ``oversight/scope.py``. A spot check is about the organisation it samples; a rectification item
about its owner organisation (the one that rectifies); a recommendation about the organisation it
is addressed to and its items' owners, or, addressed to nobody and without items, its author's
organisation. Unknown work or organisations have none (the work reports them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from piguard.identity.models import Account
from piguard.oversight import scope
from piguard.oversight.inspections.models import Recommendation, RectificationItem, SpotCheck
from piguard.oversight.inspections.schemas import RecommendationOut


def _known(session: Session, org_ids: Iterable[str | None]) -> list[str]:
    """The organisations that exist (a new entry naming another is refused by the work, naming the field)."""
    return sorted(scope.districts_of(session, org_ids))


def recommendation_orgs(org_id: str | None, owners: Iterable[str], author_org: str | None) -> list[str]:
    """The organisations a recommendation is about: its addressee and its items' owners, else its author's (pure)."""
    orgs = sorted({org for org in (org_id, *owners) if org})
    return orgs or ([author_org] if author_org else [])


def of_org(session: Session, org_id: str | None) -> dict[str, Any]:
    """The jurisdiction of work about this organisation (an unknown one: none)."""
    return scope.of_orgs(session, _known(session, [org_id]))


def of_check(session: Session, check_id: str) -> dict[str, Any]:
    """The jurisdiction of a stored spot check (an unknown check: none)."""
    check = session.get(SpotCheck, check_id)
    return of_org(session, check.org_id if check is not None else None)


def of_item(session: Session, item_id: str) -> dict[str, Any]:
    """The jurisdiction of a stored rectification item: its owner organisation (an unknown item: none)."""
    item = session.get(RectificationItem, item_id)
    return scope.of_orgs(session, [item.owner_org_id] if item is not None else [])


def of_recommendation(session: Session, recommendation_id: str, *, more: Sequence[str] = ()) -> dict[str, Any]:
    """The jurisdiction of a stored recommendation, with items of the owners ``more`` added (unknown: none)."""
    row = session.get(Recommendation, recommendation_id)
    if row is None:
        return scope.of_orgs(session, [])
    owners = session.scalars(
        select(RectificationItem.owner_org_id).where(RectificationItem.recommendation_id == row.id)
    )
    author = session.get(Account, row.created_by)
    orgs = recommendation_orgs(row.org_id, [*owners, *_known(session, more)], author.org_id if author else None)
    return scope.of_orgs(session, orgs)


def of_new_recommendation(
    session: Session, *, author_org: str, org_id: str | None, owners: Sequence[str]
) -> dict[str, Any]:
    """The jurisdiction of a recommendation about to be recorded by someone of ``author_org``."""
    known = _known(session, [org_id, *owners])
    addressee = org_id if org_id in known else None
    return scope.of_orgs(session, recommendation_orgs(addressee, known, author_org))


def of_recommendations(session: Session, found: Sequence[RecommendationOut]) -> dict[str, dict[str, Any]]:
    """The jurisdiction of each of these recommendations as listed (with all their items)."""
    creators = {rec.created_by for rec in found}
    rows = session.execute(select(Account.id, Account.org_id).where(Account.id.in_(creators)))
    authors = {account_id: org_id for account_id, org_id in rows}
    orgs = {
        rec.id: recommendation_orgs(rec.org_id, [item.owner_org_id for item in rec.items], authors.get(rec.created_by))
        for rec in found
    }
    districts = scope.districts_of(session, {org for listed in orgs.values() for org in listed})
    return {rec_id: scope.attrs_of(listed, districts) for rec_id, listed in orgs.items()}


# --- lists: the same rules as a condition on the rows (``scope.jurisdiction_orgs``) --------------


def items_within(orgs: Select[str]) -> ColumnElement[bool]:
    """Rectification items whose owner is one of ``orgs``."""
    return RectificationItem.owner_org_id.in_(orgs)


def recommendations_within(orgs: Select[str]) -> ColumnElement[bool]:
    """Recommendations wholly about ``orgs``: addressee and every item's owner, else the author's organisation."""
    mine = RectificationItem.recommendation_id == Recommendation.id
    has_items = exists().where(mine)
    outside = exists().where(mine, RectificationItem.owner_org_id.not_in(orgs))
    author_org = select(Account.org_id).where(Account.id == Recommendation.created_by).scalar_subquery()
    return and_(
        ~outside,
        or_(
            Recommendation.org_id.in_(orgs),
            and_(Recommendation.org_id.is_(None), or_(has_items, author_org.in_(orgs))),
        ),
    )


def checks_within(orgs: Select[str]) -> ColumnElement[bool]:
    """Spot checks of one of ``orgs``."""
    return SpotCheck.org_id.in_(orgs)
