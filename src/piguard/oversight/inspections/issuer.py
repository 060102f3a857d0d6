"""Who follows a recommendation up: the audited organisation itself, the body that issued it, or oversight.

A recommendation recorded by an oversight body (a health commission or CDC: ``scope.OVERSIGHT_BODIES``)
is managed by that body (``issuer``): only its officers, or a municipal oversight body's over a
district body's, extend its items' deadlines, correct it, add items or decide evidence. One
recorded by the organisation itself from a source outside it (anything but ``internal_audit``,
e.g. a procuratorate's recommendation) has no issuing body in the system: an oversight body with
jurisdiction manages it (``oversight``). Only the organisation's own audit, recorded by itself,
is managed by the organisation (``organisation``: the jurisdiction rules alone).

Derived from stored columns, never from the request: the recorder is the account that created
the recommendation (accounts never change organisation) and the source is its latest corrected
value, except that a recommendation whose source was ever outside stays outside (``settled_source``):
the source is never corrected back to ``internal_audit`` (``service.correct``), and one handed back
before that rule is classified by the outside source it had. An oversight body's correction of the
source does not make it the issuer: it corrected the record, it did not issue it. The policy
receives the result as resource attributes (``attrs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.identity.models import Account
from piguard.oversight.inspections.models import InspectionCorrection, Recommendation, RectificationItem
from piguard.oversight.scope import OVERSIGHT_BODIES
from piguard.records.models import Organisation

INTERNAL_SOURCES = ("internal_audit",)  # the organisation's own findings; every other source is outside it
MANAGED_BY = ("organisation", "issuer", "oversight")


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who manages a recommendation's follow-up; ``org_id``/``level``: the issuing body's, else empty."""

    managed_by: str
    org_id: str = ""
    level: str = ""

    def attrs(self, *, assigning: bool = False, adding_items: bool = False) -> dict[str, str | bool]:
        """The resource attributes the policy tests.

        ``assigning``: the request only names a responsible person; ``adding_items``: it adds items.
        """
        return {
            "managed_by": self.managed_by,
            "issuer": self.org_id,
            "issuer_level": self.level,
            "assigning": assigning,
            "adding_items": adding_items,
        }


ORGANISATION = Issuer("organisation")  # also unknown work: its flow reports it as not found
OVERSIGHT = Issuer("oversight")


def is_outside(source: str) -> bool:
    """Whether a source is outside the audited organisation (anything but its own audit)."""
    return source not in INTERNAL_SOURCES


def settled_source(history: Sequence[str]) -> str:
    """The source to classify by, from the recorded one and its corrections in order (pure).

    The latest outside one if any was ever outside (once outside, never handed back), else the latest.
    """
    outside = [source for source in history if is_outside(source)]
    return outside[-1] if outside else history[-1]


def classify(*, source: str, recorder: Organisation | None) -> Issuer:
    """The manager of a recommendation with this (current) source recorded at ``recorder`` (pure)."""
    if recorder is not None and recorder.org_type in OVERSIGHT_BODIES:
        return Issuer("issuer", recorder.id, recorder.level)
    if is_outside(source):
        return OVERSIGHT
    return ORGANISATION


def for_new(session: Session, *, author_org: str, source: str) -> Issuer:
    """The manager of a recommendation about to be recorded by someone of ``author_org``."""
    return classify(source=source, recorder=session.get(Organisation, author_org))


def _corrections(session: Session, ids: list[str]) -> dict[str, list[str]]:
    """Per recommendation, the sources its corrections set, in order."""
    rows = session.execute(
        select(InspectionCorrection.target_id, InspectionCorrection.new_value)
        .where(
            InspectionCorrection.target_type == "recommendation",
            InspectionCorrection.field == "source",
            InspectionCorrection.target_id.in_(ids),
        )
        .order_by(InspectionCorrection.created_at, InspectionCorrection.id)
    )
    found: dict[str, list[str]] = {}
    for target, value in rows:
        found.setdefault(target, []).append(value or "")
    return found


def sources_of(session: Session, recommendation_ids: Iterable[str]) -> dict[str, str]:
    """The source each of these stored recommendations is classified by (``settled_source``)."""
    ids = sorted(set(recommendation_ids))
    if not ids:
        return {}
    rows = session.execute(select(Recommendation.id, Recommendation.source).where(Recommendation.id.in_(ids)))
    corrected = _corrections(session, ids)
    return {rec_id: settled_source([source, *corrected.get(rec_id, [])]) for rec_id, source in rows}


def of_recommendations(session: Session, recommendation_ids: Iterable[str]) -> dict[str, Issuer]:
    """The manager of each of these stored recommendations (unknown ones are left out)."""
    ids = sorted(set(recommendation_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Recommendation.id, Recommendation.source, Account.org_id)
        .outerjoin(Account, Account.id == Recommendation.created_by)
        .where(Recommendation.id.in_(ids))
    ).all()
    corrected = _corrections(session, ids)
    wanted = {org_id for _, _, org_id in rows if org_id}
    orgs = {org.id: org for org in session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}
    return {
        rec_id: classify(
            source=settled_source([source, *corrected.get(rec_id, [])]),
            recorder=orgs.get(org_id) if org_id else None,
        )
        for rec_id, source, org_id in rows
    }


def of_recommendation(session: Session, recommendation_id: str) -> Issuer:
    """The manager of a stored recommendation (unknown: ``ORGANISATION``, and the work reports it)."""
    return of_recommendations(session, [recommendation_id]).get(recommendation_id, ORGANISATION)


def of_item(session: Session, item_id: str) -> Issuer:
    """The manager of a stored item: its recommendation's (unknown: ``ORGANISATION``)."""
    recommendation_id = session.scalar(
        select(RectificationItem.recommendation_id).where(RectificationItem.id == item_id)
    )
    return of_recommendation(session, recommendation_id) if recommendation_id else ORGANISATION
