"""Reading recommendations and rectification items: effective values, computed status, escalation.

Pure reads (no entries, no ledger events): the flows record the read. An item's effective
values apply its corrections; its deadline is the latest extension's; its status is computed by
``rules.item_status`` at the time asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from piguard.db.locking import get_for_update
from piguard.errors import InputError, NotFoundError
from piguard.oversight.inspections import issuer, jurisdiction, rules
from piguard.oversight.inspections.models import (
    ITEM_STATUSES,
    InspectionCorrection,
    Recommendation,
    RectificationDeadline,
    RectificationEvidence,
    RectificationItem,
    RectificationReview,
)
from piguard.oversight.inspections.schemas import (
    CorrectionOut,
    DeadlineOut,
    EvidenceOut,
    ItemDetail,
    ItemOut,
    RecommendationOut,
    ReviewOut,
)
from piguard.records.models import Organisation

# --- lookups ------------------------------------------------------------------------------------


def get_recommendation(*, session: Session, recommendation_id: str) -> Recommendation:
    """A recommendation by id."""
    row = session.get(Recommendation, recommendation_id)
    if row is None:
        raise NotFoundError("recommendation not found")
    return row


def get_item(*, session: Session, item_id: str, lock: bool = False) -> RectificationItem:
    """A rectification item by id (``lock``: serialise changes to it until the transaction ends)."""
    row = get_for_update(session, RectificationItem, item_id) if lock else session.get(RectificationItem, item_id)
    if row is None:
        raise NotFoundError("rectification item not found")
    return row


# --- reading ------------------------------------------------------------------------------------


def text_value(value: object) -> str:
    """A field value as a correction stores it (dates as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, date) else str(value)


def corrections_of(session: Session, target_type: str, ids: Sequence[str]) -> dict[str, list[InspectionCorrection]]:
    """Per target, its corrections oldest first."""
    found: dict[str, list[InspectionCorrection]] = defaultdict(list)
    if not ids:
        return found
    rows = session.scalars(
        select(InspectionCorrection)
        .where(InspectionCorrection.target_type == target_type, InspectionCorrection.target_id.in_(ids))
        .order_by(InspectionCorrection.created_at, InspectionCorrection.id)
    )
    for row in rows:
        found[row.target_id].append(row)
    return found


def effective_fields(session: Session, target_type: str, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """Per target, the latest corrected value of each corrected field."""
    return {
        target: {row.field: row.new_value or "" for row in rows}
        for target, rows in corrections_of(session, target_type, ids).items()
    }


def current_deadlines(session: Session, items: Sequence[RectificationItem]) -> dict[str, datetime]:
    """Per item, the deadline in force: the latest extension's, else the original."""
    found = {item.id: item.deadline for item in items}
    if not items:
        return found
    rows = session.scalars(
        select(RectificationDeadline)
        .where(RectificationDeadline.item_id.in_(list(found)))
        .order_by(RectificationDeadline.created_at, RectificationDeadline.id)
    )
    for row in rows:
        found[row.item_id] = row.new_deadline
    return found


def reviews_by_evidence(session: Session, evidence_ids: Sequence[str]) -> dict[str, list[RectificationReview]]:
    """Per evidence, its verdicts oldest first (the last one stands)."""
    found: dict[str, list[RectificationReview]] = defaultdict(list)
    if not evidence_ids:
        return found
    rows = session.scalars(
        select(RectificationReview)
        .where(RectificationReview.evidence_id.in_(evidence_ids))
        .order_by(RectificationReview.created_at, RectificationReview.id)
    )
    for row in rows:
        found[row.evidence_id].append(row)
    return found


def evidence_by_item(session: Session, item_ids: Sequence[str]) -> dict[str, list[RectificationEvidence]]:
    """Per item, its evidence oldest first."""
    found: dict[str, list[RectificationEvidence]] = defaultdict(list)
    if not item_ids:
        return found
    rows = session.scalars(
        select(RectificationEvidence)
        .where(RectificationEvidence.item_id.in_(item_ids))
        .order_by(RectificationEvidence.created_at, RectificationEvidence.id)
    )
    for row in rows:
        found[row.item_id].append(row)
    return found


def evidence_states(session: Session, item_ids: Sequence[str]) -> dict[str, list[rules.EvidenceState]]:
    """Per item, what its status needs of each evidence: when it came and its standing verdict."""
    evidence = evidence_by_item(session, item_ids)
    reviews = reviews_by_evidence(session, [e.id for rows in evidence.values() for e in rows])
    states: dict[str, list[rules.EvidenceState]] = {item: [] for item in item_ids}
    for item, rows in evidence.items():
        for row in rows:
            verdicts = reviews.get(row.id, [])
            last = verdicts[-1] if verdicts else None
            states[item].append(
                rules.EvidenceState(
                    submitted_at=row.created_at,
                    decision=last.decision if last is not None else None,
                    decided_at=last.created_at if last is not None else None,
                )
            )
    return states


def escalation_targets(*, session: Session, org_ids: Iterable[str]) -> dict[str, list[str]]:
    """Per owner organisation, the health commissions overdue items escalate to (its district's, the city's)."""
    wanted = set(org_ids)
    if not wanted:
        return {}
    commissions = session.execute(
        select(Organisation.id, Organisation.district, Organisation.level)
        .where(Organisation.org_type == "health_commission")
        .order_by(Organisation.id)
    ).all()
    owners = session.execute(select(Organisation.id, Organisation.district).where(Organisation.id.in_(wanted))).all()
    return {
        owner: [hc for hc, district, level in commissions if level == "municipal" or district == owner_district]
        for owner, owner_district in owners
    }


def _item_out(
    item: RectificationItem,
    *,
    reference_no: str,
    fields: dict[str, str],
    deadline: datetime,
    states: list[rules.EvidenceState],
    escalated: list[str],
    manager: issuer.Issuer,
    at: datetime,
) -> dict[str, object]:
    status = rules.item_status(deadline=deadline, now=at, evidence=states)
    overdue = status == "overdue"
    return {
        "id": item.id,
        "recommendation_id": item.recommendation_id,
        "reference_no": reference_no,
        "seq": item.seq,
        "description": fields.get("description", item.description),
        "owner_org_id": item.owner_org_id,
        "responsible_id": fields.get("responsible_id", item.responsible_id),
        "required_evidence": fields.get("required_evidence", item.required_evidence),
        "original_deadline": item.deadline,
        "deadline": deadline,
        "status": status,
        "overdue": overdue,
        "days_overdue": rules.days_overdue(deadline=deadline, now=at) if overdue else 0,
        "verified_at": rules.verified_at(states),
        "evidence_count": len(states),
        "pending_evidence": sum(1 for s in states if s.decision is None),
        "escalated_to": escalated if overdue else [],
        "managed_by": manager.managed_by,
        "issuer_org_id": manager.org_id or None,
        "created_at": item.created_at,
        "as_of": at,
    }


def list_items(
    *,
    session: Session,
    at: datetime,
    status: str | None = None,
    owner_org_id: str | None = None,
    responsible_id: str | None = None,
    recommendation_id: str | None = None,
    escalated_to: str | None = None,
    item_ids: Sequence[str] | None = None,
    recommendation_ids: Sequence[str] | None = None,
    within: Select[str] | None = None,
) -> list[ItemOut]:
    """Items with their status at ``at``, oldest deadline first; filters combine.

    ``within``: only items owned by these organisations (a jurisdiction, ``scope.jurisdiction_orgs``).
    """
    if status is not None and status not in ITEM_STATUSES:
        raise InputError(f"status must be one of {', '.join(ITEM_STATUSES)}", where="status")
    query = select(RectificationItem).order_by(RectificationItem.created_at, RectificationItem.seq)
    if owner_org_id is not None:
        query = query.where(RectificationItem.owner_org_id == owner_org_id)
    if recommendation_id is not None:
        query = query.where(RectificationItem.recommendation_id == recommendation_id)
    if recommendation_ids is not None:
        query = query.where(RectificationItem.recommendation_id.in_(list(recommendation_ids)))
    if within is not None:
        query = query.where(jurisdiction.items_within(within))
    if item_ids is not None:
        query = query.where(RectificationItem.id.in_(list(item_ids)))
    items = list(session.scalars(query))
    ids = [item.id for item in items]
    fields = effective_fields(session, "rectification", ids)
    if responsible_id is not None:
        items = [i for i in items if fields.get(i.id, {}).get("responsible_id", i.responsible_id) == responsible_id]
        ids = [item.id for item in items]
    deadlines = current_deadlines(session, items)
    states = evidence_states(session, ids)
    references = _references(session, {item.recommendation_id for item in items})
    managers = issuer.of_recommendations(session, {item.recommendation_id for item in items})
    escalation = escalation_targets(session=session, org_ids={item.owner_org_id for item in items})
    out = [
        ItemOut.model_validate(
            _item_out(
                item,
                reference_no=references.get(item.recommendation_id, ""),
                fields=fields.get(item.id, {}),
                deadline=deadlines[item.id],
                states=states[item.id],
                escalated=escalation.get(item.owner_org_id, []),
                manager=managers.get(item.recommendation_id, issuer.ORGANISATION),
                at=at,
            )
        )
        for item in items
    ]
    if status is not None:
        out = [item for item in out if item.status == status]
    if escalated_to is not None:
        out = [item for item in out if escalated_to in item.escalated_to]
    return sorted(out, key=lambda item: (item.deadline, item.id))


def _references(session: Session, recommendation_ids: set[str]) -> dict[str, str]:
    if not recommendation_ids:
        return {}
    rows = session.execute(
        select(Recommendation.id, Recommendation.reference_no).where(Recommendation.id.in_(recommendation_ids))
    ).all()
    fields = effective_fields(session, "recommendation", [r[0] for r in rows])
    return {rid: fields.get(rid, {}).get("reference_no", ref) for rid, ref in rows}


def _correction_out(row: InspectionCorrection) -> CorrectionOut:
    return CorrectionOut(
        id=row.id,
        field=row.field,
        old_value=row.old_value,
        new_value=row.new_value,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def item_detail(*, session: Session, item_id: str, at: datetime) -> ItemDetail:
    """One item with its evidence and verdicts, extensions and corrections."""
    item = get_item(session=session, item_id=item_id)
    listed = list_items(session=session, at=at, item_ids=[item.id])[0]
    evidence = evidence_by_item(session, [item.id]).get(item.id, [])
    reviews = reviews_by_evidence(session, [e.id for e in evidence])
    extensions = session.scalars(
        select(RectificationDeadline)
        .where(RectificationDeadline.item_id == item.id)
        .order_by(RectificationDeadline.created_at, RectificationDeadline.id)
    )
    return ItemDetail(
        **listed.model_dump(),
        evidence=[
            EvidenceOut(
                id=e.id,
                description=e.description,
                sha256=e.sha256,
                reference=e.reference,
                created_by=e.created_by,
                created_at=e.created_at,
                decision=reviews[e.id][-1].decision if reviews.get(e.id) else None,
                reviews=[
                    ReviewOut(
                        id=r.id,
                        decision=r.decision,
                        reason=r.reason,
                        corrects_id=r.corrects_id,
                        created_by=r.created_by,
                        created_at=r.created_at,
                    )
                    for r in reviews.get(e.id, [])
                ],
            )
            for e in evidence
        ],
        extensions=[
            DeadlineOut(
                id=x.id,
                previous_deadline=x.previous_deadline,
                new_deadline=x.new_deadline,
                reason=x.reason,
                created_by=x.created_by,
                created_at=x.created_at,
            )
            for x in extensions
        ],
        corrections=[_correction_out(c) for c in corrections_of(session, "rectification", [item.id]).get(item.id, [])],
    )


def recommendation_detail(*, session: Session, recommendation_id: str, at: datetime) -> RecommendationOut:
    """A recommendation with its corrected fields and its items' status."""
    return list_recommendations(session=session, at=at, recommendation_ids=[recommendation_id], strict=True)[0]


def list_recommendations(
    *,
    session: Session,
    at: datetime,
    org_id: str | None = None,
    recommendation_ids: Sequence[str] | None = None,
    strict: bool = False,
    limit: int = 200,
    within: Select[str] | None = None,
) -> list[RecommendationOut]:
    """Recommendations, newest first, each with its items.

    ``within``: only recommendations wholly about these organisations (filtered before the limit).
    """
    query = select(Recommendation).order_by(Recommendation.created_at.desc(), Recommendation.id.desc()).limit(limit)
    if org_id is not None:
        owned = select(RectificationItem.recommendation_id).where(RectificationItem.owner_org_id == org_id)
        query = query.where(or_(Recommendation.org_id == org_id, Recommendation.id.in_(owned)))
    if recommendation_ids is not None:
        query = query.where(Recommendation.id.in_(list(recommendation_ids)))
    if within is not None:
        query = query.where(jurisdiction.recommendations_within(within))
    rows = list(session.scalars(query))
    if strict and not rows:
        raise NotFoundError("recommendation not found")
    ids = [row.id for row in rows]
    corrections = corrections_of(session, "recommendation", ids)
    managers = issuer.of_recommendations(session, ids)
    items: dict[str, list[ItemOut]] = defaultdict(list)
    for item in list_items(session=session, at=at, recommendation_ids=ids) if rows else []:
        items[item.recommendation_id].append(item)
    out: list[RecommendationOut] = []
    for row in rows:
        fields = {c.field: c.new_value or "" for c in corrections.get(row.id, [])}
        manager = managers.get(row.id, issuer.ORGANISATION)
        out.append(
            RecommendationOut(
                id=row.id,
                source=fields.get("source", row.source),
                reference_no=fields.get("reference_no", row.reference_no),
                issuing_authority=fields.get("issuing_authority", row.issuing_authority),
                issued_on=date.fromisoformat(fields["issued_on"]) if "issued_on" in fields else row.issued_on,
                text=fields.get("text", row.text),
                org_id=row.org_id,
                managed_by=manager.managed_by,
                issuer_org_id=manager.org_id or None,
                created_by=row.created_by,
                created_at=row.created_at,
                items=sorted(items.get(row.id, []), key=lambda i: i.seq),
                corrections=[_correction_out(c) for c in corrections.get(row.id, [])],
            )
        )
    return out


def rectification_summary(*, session: Session, at: datetime, org_id: str | None = None) -> dict[str, int]:
    """Counts of items per status at ``at`` (for the monthly report), optionally for one owner."""
    counts = dict.fromkeys(ITEM_STATUSES, 0)
    for item in list_items(session=session, at=at, owner_org_id=org_id):
        counts[item.status] += 1
    return counts
