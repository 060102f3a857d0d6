"""What the inspection flows ask the policy: decisions with the work's jurisdiction, refusals that say why.

Every decision on a ``Recommendation``, ``Rectification`` or ``SpotCheck`` carries the
organisations and districts the work is about (``jurisdiction``) and the principal's
``oversight_body`` relationship (``scope.relations``); ``visible`` asks about a list's rows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.identity.schemas import Principal
from piguard.oversight import scope
from piguard.oversight.inspections import jurisdiction
from piguard.oversight.inspections.journal import PURPOSE
from piguard.oversight.inspections.rules import INSPECTORS
from piguard.policy.pdp import AccessRequest, Decision, ResourceRef, Subject
from piguard.records.guard import Guard, denied, subject_of

CONTEXT = "oversight"
RESPONSIBLE = frozenset({"responsible"})
TYPES = {"recommendation": "Recommendation", "rectification": "Rectification", "spot_check": "SpotCheck"}
NO_SCOPE: dict[str, Any] = scope.attrs_of([], {})  # asking whether one may do this to such work at all
JURISDICTION = "jurisdiction"  # the policy id a refusal outside the jurisdiction carries
# Why an inspector is refused: names the kind of work, never its content or its organisations.
_OUTSIDE = {
    "recommendation": "the recommendation concerns an organisation outside your jurisdiction",
    "rectification": "the rectification item's owner organisation is outside your jurisdiction",
    "spot_check": "the spot check's organisation is outside your jurisdiction",
}


def attrs_of(session: Session, resource_type: str, resource_id: str) -> dict[str, Any]:
    """The jurisdiction of stored work (unknown work: none; the work then reports it)."""
    if resource_type == "spot_check":
        return jurisdiction.of_check(session, resource_id)
    if resource_type == "rectification":
        return jurisdiction.of_item(session, resource_id)
    return jurisdiction.of_recommendation(session, resource_id)


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


def refusal(decision: Decision, action: str, principal: Principal, resource_type: str) -> AccessDenied:
    """Why the policy refused, in words: the training gate, the jurisdiction, or who may do it at all."""
    if decision.policy_ids:  # a forbid (the training gate) says why itself
        return denied(decision)
    inspector = principal.role in INSPECTORS and principal.kind == "human"
    if inspector and action in ("read_inspection", "manage_inspection"):
        # The inspection policies permit every human inspector within their jurisdiction: outside it
        # is the only reason left.
        return AccessDenied(_OUTSIDE[resource_type], policy_ids=(JURISDICTION,))
    if action == "submit_evidence":
        reason = "only the item's responsible person, at its owner organisation, may submit evidence for it"
    elif action == "manage_inspection":
        reason = "only inspectors (privacy officers and administrators) may do this"
    else:
        reason = "only inspectors and an item's responsible person may see inspection records"
    return AccessDenied(reason, policy_ids=decision.policy_ids)
