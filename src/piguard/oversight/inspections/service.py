"""Recommendations and rectification follow-up: create, submit, verify, extend, correct (and list, via ``views``).

Keyword-only functions that never commit (the door owns the transaction). Each change inserts
one entry and appends one ledger event in the same transaction (``journal.write``); nothing is
updated or deleted. Status is computed from the entries at the time asked (``rules.item_status``);
policy checks happen in ``flows``, the follow-up rules here and in ``rules``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.localtime import beijing_date
from piguard.oversight.inspections import issuer, rules
from piguard.oversight.inspections.journal import write
from piguard.oversight.inspections.models import (
    InspectionCorrection,
    Recommendation,
    RectificationDeadline,
    RectificationEvidence,
    RectificationItem,
    RectificationReview,
)
from piguard.oversight.inspections.schemas import (
    CorrectionIn,
    EvidenceIn,
    ExtensionIn,
    ItemIn,
    RecommendationIn,
    ReviewIn,
)
from piguard.oversight.inspections.views import (
    current_deadlines,
    effective_fields,
    escalation_targets,
    evidence_states,
    get_item,
    get_recommendation,
    item_detail,
    list_items,
    list_recommendations,
    recommendation_detail,
    rectification_summary,
    reviews_by_evidence,
    text_value,
)
from piguard.records.models import Organisation, org_name_key

# The read side lives in ``views``; its functions are part of this service's interface too
# (the monthly report calls ``list_items``).
__all__ = [
    "CORRECTABLE",
    "add_items",
    "correct",
    "create_recommendation",
    "escalation_targets",
    "extend_deadline",
    "get_item",
    "get_recommendation",
    "item_detail",
    "list_items",
    "list_recommendations",
    "recommendation_detail",
    "rectification_summary",
    "responsible_for",
    "review_evidence",
    "submit_evidence",
    "verify_entries",
]
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "recommendation": ("source", "reference_no", "issuing_authority", "issued_on", "text"),
    "rectification": ("description", "required_evidence", "responsible_id"),
}


def responsible_for(*, session: Session, account_id: str, item_id: str | None = None) -> set[str]:
    """Ids of the items (and their recommendations) the account is currently responsible for."""
    query = select(RectificationItem.id, RectificationItem.recommendation_id, RectificationItem.responsible_id)
    if item_id is not None:
        query = query.where(RectificationItem.id == item_id)
    rows = session.execute(query).all()
    current = effective_fields(session, "rectification", [r[0] for r in rows])
    found: set[str] = set()
    for item, recommendation, responsible in rows:
        if current.get(item, {}).get("responsible_id", responsible) == account_id:
            found.update((item, recommendation))
    return found


def _org(session: Session, org_id: str, *, where: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise InputError("no such organisation", where=where)
    return org


def _responsible(session: Session, account_id: str, *, owner_org_id: str, where: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise InputError("no such account", where=where)
    if account.disabled or account.kind != "human":
        raise InputError("the responsible person must be an active personal account", where=where)
    if account.org_id != owner_org_id:
        raise InputError("the responsible person must belong to the owner organisation", where=where)
    return account


# Who follows up a recommendation that already has a reference number, for a 409 that does not
# suggest adding items to work the requester does not manage.
_FOLLOWED_BY = {
    "organisation": "the audited organisation (its own audit)",
    "issuer": "the oversight body that recorded it",
    "oversight": "oversight (it came from outside the organisation)",
}


def _check_reference_free(
    session: Session,
    reference_no: str,
    authority: str,
    *,
    source: str,
    manager: issuer.Issuer,
    other_than: str | None = None,
) -> None:
    """One recommendation per reference number of an issuing authority and kind of source (as corrected).

    An organisation's own audit and a recommendation from outside it never share a number space, so
    an internal audit can neither pre-empt an outside reference nor be pre-empted. The 409 suggests
    adding items only to a recommendation managed as the new one would be.
    """
    columns = (Recommendation.id, Recommendation.reference_no, Recommendation.issuing_authority)
    rows = session.execute(select(*columns).where(Recommendation.id != (other_than or ""))).all()
    current = effective_fields(session, "recommendation", [row[0] for row in rows])
    kinds = issuer.sources_of(session, [row[0] for row in rows])
    outside = issuer.is_outside(source)
    for row_id, stored_ref, stored_authority in rows:
        fields = current.get(row_id, {})
        same = (fields.get("reference_no", stored_ref), fields.get("issuing_authority", stored_authority))
        if same != (reference_no, authority) or issuer.is_outside(kinds[row_id]) != outside:
            continue
        existing = issuer.of_recommendation(session, row_id)
        if existing == manager:
            advice = "add items to it instead"
        else:
            advice = (
                f"it is followed up by {_FOLLOWED_BY[existing.managed_by]}, not as this one would be: "
                "check the reference number and issuing authority"
            )
        raise ConflictError(
            f"reference_no: recommendation {row_id} of this issuing authority already has this reference number; "
            + advice
        )


def _check_own_authority(session: Session, authority: str, org_ids: Iterable[str | None]) -> None:
    """An internal audit is the audited organisation's own: its issuing authority names that organisation.

    ``org_ids``: the recorder's organisation, the addressee and the items' owners. So an internal
    audit cannot claim another authority's (a procuratorate's) reference number.
    """
    wanted = {org_id for org_id in org_ids if org_id}
    names: Iterable[str] = (
        session.scalars(select(Organisation.name_key).where(Organisation.id.in_(wanted))) if wanted else ()
    )
    if not any(name and name in org_name_key(authority) for name in names):
        raise InputError(
            "an internal_audit is the organisation's own audit: its issuing authority names the audited "
            "organisation (e.g. '<organisation name> internal audit office'); record another authority's "
            "recommendation with its own source",
            where="issuing_authority",
        )


def _recorder_org(session: Session, account_id: str) -> str | None:
    account = session.get(Account, account_id)
    return account.org_id if account is not None else None


# --- changes ------------------------------------------------------------------------------------


def create_recommendation(
    *, session: Session, principal: Principal, at: datetime, data: RecommendationIn
) -> Recommendation:
    """Record a recommendation and create its rectification items."""
    rules.check_source(data.source)
    rules.check_issued_on(data.issued_on, today=beijing_date(at))
    if data.org_id is not None:
        _org(session, data.org_id, where="org_id")
    row = Recommendation(
        source=data.source,
        reference_no=data.reference_no,
        issuing_authority=data.issuing_authority,
        issued_on=data.issued_on,
        text=data.text,
        org_id=data.org_id,
    )
    write(
        session,
        row,
        principal=principal,
        at=at,
        action="create",
        resource_type="recommendation",
        what="created",
    )
    add_items(session=session, principal=principal, at=at, recommendation_id=row.id, items=data.items)
    # After the items' own checks, so bad input is reported first (the flow's savepoint undoes the rows).
    if not issuer.is_outside(data.source):
        owners = [item.owner_org_id for item in data.items]
        _check_own_authority(session, data.issuing_authority, [principal.org_id, data.org_id, *owners])
    manager = issuer.for_new(session, author_org=principal.org_id, source=data.source)
    _check_reference_free(
        session, data.reference_no, data.issuing_authority, source=data.source, manager=manager, other_than=row.id
    )
    return row


def add_items(
    *, session: Session, principal: Principal, at: datetime, recommendation_id: str, items: Sequence[ItemIn]
) -> list[RectificationItem]:
    """Create rectification items under a recommendation (deadlines in the future, owners real)."""
    get_recommendation(session=session, recommendation_id=recommendation_id)
    for position, item in enumerate(items):
        where = f"items[{position}]"
        rules.check_new_deadline(item.deadline, now=at, where=f"{where}.deadline")
        _org(session, item.owner_org_id, where=f"{where}.owner_org_id")
        _responsible(session, item.responsible_id, owner_org_id=item.owner_org_id, where=f"{where}.responsible_id")
    last = session.scalar(
        select(RectificationItem.seq)
        .where(RectificationItem.recommendation_id == recommendation_id)
        .order_by(RectificationItem.seq.desc())
        .limit(1)
    )
    created: list[RectificationItem] = []
    for offset, item in enumerate(items, start=1):
        row = RectificationItem(
            recommendation_id=recommendation_id,
            seq=(last or 0) + offset,
            description=item.description,
            owner_org_id=item.owner_org_id,
            responsible_id=item.responsible_id,
            deadline=item.deadline,
            required_evidence=item.required_evidence,
        )
        created.append(
            write(
                session,
                row,
                principal=principal,
                at=at,
                action="create",
                resource_type="rectification",
                what="created",
            )
        )
    return created


def submit_evidence(
    *, session: Session, principal: Principal, at: datetime, item_id: str, data: EvidenceIn
) -> RectificationEvidence:
    """Record evidence for an item (the flow has checked that the submitter is responsible for it)."""
    item = get_item(session=session, item_id=item_id, lock=True)
    state = evidence_states(session, [item.id])[item.id]
    rules.check_evidence(sha256=data.sha256, reference=data.reference, verified=rules.verified_at(state) is not None)
    row = RectificationEvidence(
        item_id=item.id, description=data.description, sha256=data.sha256, reference=data.reference or None
    )
    return write(
        session,
        row,
        principal=principal,
        at=at,
        action="update",
        resource_type="rectification",
        resource_id=item.id,
        what="evidence_submitted",
    )


def review_evidence(
    *,
    session: Session,
    principal: Principal,
    at: datetime,
    item_id: str,
    evidence_id: str,
    decision: str,
    data: ReviewIn,
) -> RectificationReview:
    """Verify or reject evidence, with a reason; the submitter and the item's owner cannot decide it."""
    reason = rules.require_reason(data.reason)
    item = get_item(session=session, item_id=item_id, lock=True)
    evidence = session.get(RectificationEvidence, evidence_id)
    if evidence is None or evidence.item_id != item.id:
        raise NotFoundError("evidence not found for this item")
    reviews = reviews_by_evidence(session, [evidence.id]).get(evidence.id, [])
    current = reviews[-1] if reviews else None
    if data.corrects_id is not None and (current is None or current.id != data.corrects_id):
        raise InputError("corrects_id must name this evidence's current verdict", where="corrects_id")
    state = evidence_states(session, [item.id])[item.id]
    responsible = effective_fields(session, "rectification", [item.id]).get(item.id, {})
    rules.check_review(
        decision=decision,
        reviewer_id=principal.account_id,
        submitter_id=evidence.created_by,
        responsible_id=responsible.get("responsible_id", item.responsible_id),
        current=current.decision if current is not None else None,
        correcting=data.corrects_id is not None,
        item_verified_by_other=rules.verified_at(state) is not None,
    )
    row = RectificationReview(
        evidence_id=evidence.id, item_id=item.id, decision=decision, reason=reason, corrects_id=data.corrects_id
    )
    what = f"evidence_{decision}" if data.corrects_id is None else f"verdict_corrected_{decision}"
    return write(
        session,
        row,
        principal=principal,
        at=at,
        action="update",
        resource_type="rectification",
        resource_id=item.id,
        what=what,
    )


def extend_deadline(
    *, session: Session, principal: Principal, at: datetime, item_id: str, data: ExtensionIn
) -> RectificationDeadline:
    """Move an open item's deadline later, as a new entry with the reason."""
    reason = rules.require_reason(data.reason)
    item = get_item(session=session, item_id=item_id, lock=True)
    current = current_deadlines(session, [item]).get(item.id, item.deadline)
    state = evidence_states(session, [item.id])[item.id]
    rules.check_extension(data.deadline, current=current, now=at, verified=rules.verified_at(state) is not None)
    row = RectificationDeadline(item_id=item.id, previous_deadline=current, new_deadline=data.deadline, reason=reason)
    return write(
        session,
        row,
        principal=principal,
        at=at,
        action="update",
        resource_type="rectification",
        resource_id=item.id,
        what="deadline_extended",
    )


def correct(
    *, session: Session, principal: Principal, at: datetime, target_type: str, target_id: str, data: CorrectionIn
) -> InspectionCorrection:
    """Correct one field of a recommendation or item: a new entry with the old and new value."""
    reason = rules.require_reason(data.reason)
    if data.field not in CORRECTABLE[target_type]:
        raise InputError(f"correctable fields: {', '.join(CORRECTABLE[target_type])}", where="field")
    target: Recommendation | RectificationItem
    if target_type == "recommendation":
        target = get_recommendation(session=session, recommendation_id=target_id)
    else:
        target = get_item(session=session, item_id=target_id)
    value = data.value
    if data.field == "source":
        rules.check_source(value)
        if not issuer.is_outside(value):
            # Handing an outside recommendation back to the audited organisation is how it escaped its issuer.
            raise ConflictError(
                "source: a recommendation from outside the organisation is never corrected back to "
                "internal_audit: that would hand its follow-up to the audited organisation; if it was "
                "recorded in error, correct its text and let its manager close its items"
            )
    elif data.field == "issued_on":
        try:
            rules.check_issued_on(date.fromisoformat(value), today=beijing_date(at))
        except ValueError:
            raise InputError("issued_on is a date, YYYY-MM-DD", where="value") from None
    elif data.field == "responsible_id" and isinstance(target, RectificationItem):
        _responsible(session, value, owner_org_id=target.owner_org_id, where="value")
    fields = effective_fields(session, target_type, [target.id]).get(target.id, {})
    old = fields.get(data.field, text_value(getattr(target, data.field)))
    if old == value:
        raise InputError("the value is unchanged", where="value")
    if isinstance(target, Recommendation) and data.field in ("source", "reference_no", "issuing_authority"):
        _check_recommendation_keys(session, target, fields, data.field, value)
    row = InspectionCorrection(
        target_type=target_type, target_id=target.id, field=data.field, old_value=old, new_value=value, reason=reason
    )
    return write(
        session,
        row,
        principal=principal,
        at=at,
        action="update",
        resource_type=target_type,
        resource_id=target.id,
        what=f"corrected_{data.field}",
    )


def _check_recommendation_keys(
    session: Session, target: Recommendation, fields: dict[str, str], field: str, value: str
) -> None:
    """A corrected source, reference number or authority keeps the reference unique and an internal audit's own."""
    keys = ("source", "reference_no", "issuing_authority")
    now = {key: fields.get(key, text_value(getattr(target, key))) for key in keys}
    now[field] = value
    source = issuer.sources_of(session, [target.id])[target.id] if field != "source" else value
    if field == "issuing_authority" and not issuer.is_outside(source):
        owners = session.scalars(
            select(RectificationItem.owner_org_id).where(RectificationItem.recommendation_id == target.id)
        )
        _check_own_authority(session, value, [_recorder_org(session, target.created_by), target.org_id, *owners])
    recorder = session.get(Organisation, _recorder_org(session, target.created_by) or "")
    _check_reference_free(
        session,
        now["reference_no"],
        now["issuing_authority"],
        source=source,
        manager=issuer.classify(source=source, recorder=recorder),
        other_than=target.id,
    )


def verify_entries(*, session: Session) -> list[str]:
    """Check every inspection entry against its digest and its ledger event; the problems found."""
    from piguard.oversight.inspections.journal import verify
    from piguard.oversight.inspections.models import APPEND_ONLY, SpotCheckItem

    # Spot-check list lines are covered by the check's reproduction (``spotchecks.reproduce``).
    return verify(session=session, models=[model for model in APPEND_ONLY if model is not SpotCheckItem])
