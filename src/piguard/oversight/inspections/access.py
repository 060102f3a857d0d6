"""What the inspection flows ask the policy: decisions with the work's jurisdiction, refusals that say why.

Every decision on a ``Recommendation``, ``Rectification`` or ``SpotCheck`` carries the
organisations and districts the work is about (``jurisdiction``) and the principal's
``oversight_body`` relationship (``scope.relations``); one on a recommendation or item also who
manages its follow-up (``issuer``: ``managed_by``, ``issuer``, ``issuer_level``), whether the
request only names an item's responsible person (``assigning``) and whether it adds items
(``adding_items``). ``visible`` asks about a list's
rows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.oversight.inspections import issuer, jurisdiction
from piguard.oversight.inspections.journal import PURPOSE
from piguard.oversight.inspections.rules import INSPECTORS
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef, Subject
from piguard.records.guard import Guard, denied, subject_of

CONTEXT = "oversight"
RESPONSIBLE = frozenset({"responsible"})
TYPES = {"recommendation": "Recommendation", "rectification": "Rectification", "spot_check": "SpotCheck"}
JURISDICTION = "jurisdiction"  # the policy id a refusal outside the jurisdiction carries
ISSUING_BODY = "issuing-body"  # the policy id a refusal for work managed by its issuing body carries
FOLLOW_UP = ("recommendation", "rectification")  # the work whose follow-up has a manager (``issuer``)
# Why an inspector is refused: names the kind of work, never its content or its organisations.
_OUTSIDE = {
    "recommendation": "the recommendation concerns an organisation outside your jurisdiction",
    "rectification": "the rectification item's owner organisation is outside your jurisdiction",
    "spot_check": "the spot check's organisation is outside your jurisdiction",
}


# Why an inspector who may read the work is refused a change to it: names the kind of manager,
# never the work's content or organisations, and what the principal may still do.
_MANAGED = {
    "issuer": (
        "the recommendation was issued by an oversight body: only that body's officers (or, over a "
        "district body, the municipal level's) may correct it, add items, extend deadlines or decide evidence"
    ),
    "oversight": (
        "the recommendation comes from outside the organisation (its source is not internal_audit): "
        "only an oversight body (health commission or CDC) with jurisdiction may record or correct it, "
        "add items, extend deadlines or decide evidence"
    ),
}
# Why an oversight body is refused items on an organisation's own audit: they would be the organisation's to follow up.
_OWN_AUDIT = (
    "the recommendation is the organisation's own audit: only its officers add items to it, and it follows "
    "them up; to require rectification yourself, record your own recommendation (your body then manages it)"
)
_AUDITED = "your organisation still reads it, assigns the responsible person and submits the evidence"
_BESIDE = "you may read it"


def no_scope(resource_type: str) -> dict[str, Any]:
    """The attributes of "such work" in general (no organisations): for asking whether one may read it at all."""
    attrs = scope.attrs_of([], {})
    return attrs | issuer.ORGANISATION.attrs() if resource_type in FOLLOW_UP else attrs


def with_issuer(
    attrs: dict[str, Any], manager: issuer.Issuer, *, assigning: bool = False, adding_items: bool = False
) -> dict[str, Any]:
    """A recommendation's or item's jurisdiction with who manages its follow-up (and what the change is)."""
    return attrs | manager.attrs(assigning=assigning, adding_items=adding_items)


def attrs_of(session: Session, resource_type: str, resource_id: str, *, assigning: bool = False) -> dict[str, Any]:
    """The jurisdiction (and manager) of stored work (unknown work: none; the work then reports it)."""
    if resource_type == "spot_check":
        return jurisdiction.of_check(session, resource_id)
    if resource_type == "rectification":
        found = jurisdiction.of_item(session, resource_id)
        return with_issuer(found, issuer.of_item(session, resource_id), assigning=assigning)
    found = jurisdiction.of_recommendation(session, resource_id)
    return with_issuer(found, issuer.of_recommendation(session, resource_id))


def _request(
    subject: Subject,
    relations: frozenset[str],
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    attrs: dict[str, Any],
) -> AccessRequest:
    return AccessRequest(
        subject=subject,
        action=action,
        resource=ResourceRef(TYPES[resource_type], resource_id, attrs),
        purpose=PURPOSE,
        display_context=CONTEXT,
        relationships=relations,
    )


def decide(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    relationships: frozenset[str],
    at: datetime,
    attrs: dict[str, Any] | None = None,
) -> Decision:
    """The policy's decision; the work carries its jurisdiction (``attrs``, else the stored work's)."""
    if attrs is None:
        attrs = attrs_of(session, resource_type, resource_id)
    relations = relationships | scope.relations(session=session, principal=principal)
    subject = subject_of(session=session, principal=principal, at=at)
    request = _request(
        subject, relations, action=action, resource_type=resource_type, resource_id=resource_id, attrs=attrs
    )
    return guard.engine.decide(request)


def visible(
    session: Session,
    guard: Guard,
    principal: Principal,
    *,
    resource_type: str,
    entries: Sequence[tuple[str, dict[str, Any]]],
    relationships: frozenset[str],
    at: datetime,
) -> set[str]:
    """The ids among ``entries`` (id, jurisdiction) the principal may read, in one call to the policy."""
    if not entries:
        return set()
    relations = relationships | scope.relations(session=session, principal=principal)
    subject = subject_of(session=session, principal=principal, at=at)
    requests = [
        _request(
            subject, relations, action="read_inspection", resource_type=resource_type, resource_id=rid, attrs=attrs
        )
        for rid, attrs in entries
    ]
    decisions = guard.engine.decide_many(requests)
    return {rid for (rid, _), decision in zip(entries, decisions, strict=True) if decision.allowed}


def _own_audit_items(attrs: dict[str, Any]) -> bool:
    """Whether the change adds items to an organisation's own audit (refused to anyone beside its officers)."""
    return attrs.get("managed_by") == "organisation" and bool(attrs.get("adding_items"))


def refusal(
    decision: Decision,
    action: str,
    principal: Principal,
    resource_type: str,
    *,
    attrs: dict[str, Any] | None = None,
    readable: bool = False,
) -> AccessDenied:
    """Why the policy refused, in words: the training gate, the issuing body, the jurisdiction, or who may at all.

    ``readable``: the principal may read this very work (so a refused change to work managed by its
    issuing body or by oversight is refused for that, not for the jurisdiction).
    """
    if decision.policy_ids:  # a forbid (the training gate) says why itself
        return denied(decision)
    inspector = principal.role in INSPECTORS and principal.kind == "human"
    managed_by = (attrs or {}).get("managed_by", "organisation")
    if inspector and action == "manage_inspection" and readable and _own_audit_items(attrs or {}):
        return AccessDenied(_OWN_AUDIT, policy_ids=(ISSUING_BODY,))
    if inspector and action == "manage_inspection" and readable and managed_by in _MANAGED:
        # Within the jurisdiction (it may read the work), yet not allowed to change it: the work is
        # managed by the body that issued it, or by oversight.
        audited = principal.org_id in (attrs or {}).get("orgs", ())
        still = _AUDITED if audited else _BESIDE
        return AccessDenied(f"{_MANAGED[managed_by]}; {still}", policy_ids=(ISSUING_BODY,))
    if inspector and action in ("read_inspection", "manage_inspection"):
        # The inspection policies permit every human inspector within their jurisdiction (the
        # manager of issued work aside, above): outside it is the only reason left.
        return AccessDenied(_OUTSIDE[resource_type], policy_ids=(JURISDICTION,))
    if action == "submit_evidence":
        reason = "only the item's responsible person, at its owner organisation, may submit evidence for it"
    elif action == "manage_inspection":
        reason = "only inspectors (privacy officers and administrators) may do this"
    else:
        reason = "only inspectors and an item's responsible person may see inspection records"
    return AccessDenied(reason, policy_ids=decision.policy_ids)


def explain(
    session: Session,
    guard: Guard,
    principal: Principal,
    decision: Decision,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    relationships: frozenset[str],
    at: datetime,
    attrs: dict[str, Any],
) -> AccessDenied:
    """The refusal for ``decision`` on this work; a refused change asks the policy whether the work is readable.

    Reading is decided on the same attributes: an inspector who may read a recommendation but not
    change it is refused because of who manages it, not because of the jurisdiction.
    """
    readable = False
    managed = attrs.get("managed_by") in _MANAGED or _own_audit_items(attrs)
    if action == "manage_inspection" and not decision.policy_ids and managed:
        readable = decide(
            session,
            guard,
            principal,
            action="read_inspection",
            resource_type=resource_type,
            resource_id=resource_id,
            relationships=relationships,
            at=at,
            attrs=attrs,
        ).allowed
    return refusal(decision, action, principal, resource_type, attrs=attrs, readable=readable)
