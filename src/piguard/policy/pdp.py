"""The policy decision point: Cedar policies over principal, action, resource and context (pure).

Policies and schema are parsed and validated once (``PolicyEngine.load``); a decision only
serialises the two request entities. Anything that is not an explicit Allow is a denial.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import cedarpy

from piguard.errors import ConfigError

NAMESPACE = "Piguard"
RESOURCE_TYPES = (
    "DeathReport", "Dispatch", "Statistics", "AuditLog", "Handle", "Case",
    "Recommendation", "Rectification", "SpotCheck",
    "TrainingRecord", "TrainingCourse", "PrivacyReport", "FamilyRequest",
)  # fmt: skip
ACTIONS = (
    "read", "search", "read_statistics", "read_audit", "resolve_handle", "breakglass",
    "read_case", "manage_case",
    "read_inspection", "manage_inspection", "submit_evidence",
    "read_training", "manage_training", "attest_training", "read_report",
    "read_family_request", "manage_family_request", "issue_family_copy",
)  # fmt: skip
MEMO_SIZE = 65_536  # remembered decisions per engine (a few MB)
_ANNOTATION = re.compile(r'@(id|reason)\("([^"]*)"\)')


@dataclass(frozen=True, slots=True)
class Subject:
    """The principal as the policy sees it."""

    account_id: str
    role: str
    org_id: str
    district: str
    org_level: str = "district"
    training_ok: bool = True
    kind: str = "human"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resource as the policy sees it: a type, an id and the attributes policies test."""

    type: str
    id: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """One question to the policy: may this subject do this action on this resource, here and now?"""

    subject: Subject
    action: str
    resource: ResourceRef
    purpose: str
    display_context: str
    relationships: frozenset[str] = frozenset()
    breakglass: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, with the policy ids that produced it and reasons a person can read."""

    allowed: bool
    policy_ids: tuple[str, ...]
    context_name: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        """All reasons as one sentence."""
        return "; ".join(self.reasons)


class PolicyEngine:
    """Pre-parsed Cedar policy set and schema, validated at construction."""

    def __init__(self, *, policies: str, schema: str) -> None:
        try:
            self._schema = cedarpy.Schema.from_str(schema)
        except Exception as exc:  # cedarpy raises ValueError/RuntimeError variants
            raise ConfigError(f"invalid Cedar schema: {exc}") from None
        result = cedarpy.validate_policies(policies, self._schema)
        if not result.validation_passed:
            problems = "; ".join(str(error) for error in result.errors)
            raise ConfigError(f"Cedar policies do not validate against the schema: {problems}")
        try:
            self._policies = cedarpy.PolicySet.from_str(policies)
            self._static = json.loads(cedarpy.policies_to_json_str(policies)).get("staticPolicies", {})
        except Exception as exc:
            raise ConfigError(f"invalid Cedar policies: {exc}") from None
        self._reasons = _annotations(policies)
        self._memo: dict[Hashable, Decision] = {}
        self._scoped: dict[tuple[str, str], cedarpy.PolicySet] = {}

    @classmethod
    def load(cls, directory: Path | None = None) -> PolicyEngine:
        """Load ``schema.cedarschema`` and ``policies/*.cedar`` (the packaged ones by default)."""
        if directory is None:
            base = resources.files("piguard.policy")
            schema = base.joinpath("schema.cedarschema").read_text(encoding="utf-8")
            texts = [
                item.read_text(encoding="utf-8")
                for item in sorted(base.joinpath("policies").iterdir(), key=lambda i: i.name)
                if item.name.endswith(".cedar")
            ]
        else:
            schema_path = directory / "schema.cedarschema"
            if not schema_path.exists():
                raise ConfigError(f"{schema_path} is missing")
            schema = schema_path.read_text(encoding="utf-8")
            texts = [p.read_text(encoding="utf-8") for p in sorted((directory / "policies").glob("*.cedar"))]
        if not texts:
            raise ConfigError("no Cedar policies found")
        return cls(policies="\n".join(texts), schema=schema)

    def decide(self, request: AccessRequest) -> Decision:
        """Decide one request; default deny."""
        return self.decide_many([request])[0]

    def decide_many(self, requests: Sequence[AccessRequest]) -> list[Decision]:
        """Decide several requests in one call (used to filter search candidates).

        Decisions are memoised per exact request: the policy set is immutable for the engine's
        lifetime and a Cedar decision is a pure function of principal, action, resource and
        context, so a remembered decision is the decision Cedar would make again.
        """
        keys = [_memo_key(request) for request in requests]
        known = [self._memo.get(key) if key is not None else None for key in keys]
        missing = [index for index, decision in enumerate(known) if decision is None]
        if missing:
            fresh = self._evaluate([requests[index] for index in missing])
            if len(self._memo) + len(fresh) > MEMO_SIZE:
                self._memo.clear()  # a crude bound: the working set refills it
            for index, decision in zip(missing, fresh, strict=True):
                known[index] = decision
                key = keys[index]
                if key is not None:
                    self._memo[key] = decision
        return [decision for decision in known if decision is not None]

    def _evaluate(self, requests: Sequence[AccessRequest]) -> list[Decision]:
        """Evaluate requests with Cedar (no memo)."""
        if not requests:
            return []
        entities: dict[tuple[str, str], dict[str, Any]] = {}
        cedar_requests = []
        for request in requests:
            _check(request)
            user, resource = _entities(request)
            for entity in (user, resource):
                key = (entity["uid"]["type"], entity["uid"]["id"])
                if entities.setdefault(key, entity) != entity:
                    # One id must mean one entity within a batch, or a decision could use another's attributes.
                    raise ValueError(f"conflicting attributes for {key[0]} in one batch")
            cedar_requests.append(_cedar_request(request))
        # The schema already validated the policies at load; request entities come from typed
        # dataclasses, so re-validating them per request would only add latency. The principal's
        # entity is parsed once per distinct subject (cached handle); only resources are parsed
        # per call.
        subjects = {request.subject for request in requests}
        if len(subjects) == 1:
            user_key = (f"{NAMESPACE}::User", requests[0].subject.account_id)
            resources = [entity for key, entity in entities.items() if key != user_key]
            handle = _subject_entities(requests[0].subject).with_added_json_str(json.dumps(resources))
        else:
            handle = cedarpy.Entities.from_json_str(json.dumps(list(entities.values())))
        scopes = {(request.action, request.resource.type) for request in requests}
        policies = self._policies_for(*next(iter(scopes))) if len(scopes) == 1 else self._policies
        if len(cedar_requests) == 1:
            results = [cedarpy.is_authorized(cedar_requests[0], policies, handle)]
        else:
            results = cedarpy.is_authorized_batch(cedar_requests, policies, handle)
        return [self._decision(request, result) for request, result in zip(requests, results, strict=True)]

    def _policies_for(self, action: str, resource_type: str) -> cedarpy.PolicySet:
        """The policies whose scope can match this action and resource type (parsed once per pair).

        A policy whose action or resource scope excludes the request is never satisfied and never
        evaluates its conditions, so leaving it out yields the same decision; Cedar evaluates
        every policy it is given, and most of ours are scoped to one action and type.
        """
        key = (action, resource_type)
        scoped = self._scoped.get(key)
        if scoped is None:
            kept = {
                pid: policy
                for pid, policy in self._static.items()
                if _may_match_action(policy.get("action", {}), action)
                and _may_match_resource(policy.get("resource", {}), resource_type)
            }
            est = {"staticPolicies": kept, "templates": {}, "templateLinks": []}
            scoped = self._scoped[key] = cedarpy.PolicySet.from_json_str(json.dumps(est))
        return scoped

    def _decision(self, request: AccessRequest, result: cedarpy.AuthzResult) -> Decision:
        ids = tuple(
            sorted(result.diagnostics.id_annotations_by_reason.get(pid, pid) for pid in result.diagnostics.reasons)
        )
        if result.diagnostics.errors:
            # An evaluation error never grants access; it is reported without record data.
            return Decision(False, ids, request.display_context, ("policy evaluation error",))
        if result.allowed:
            reasons = tuple(self._reasons.get(pid, pid) for pid in ids)
            return Decision(True, ids, request.display_context, reasons)
        if ids:  # a forbid policy matched
            return Decision(False, ids, request.display_context, tuple(self._reasons.get(pid, pid) for pid in ids))
        if self._refused_for_closing(request):
            return Decision(False, (), request.display_context, (_closed_call(request),))
        return Decision(False, (), request.display_context, (_why_not(request),))

    def _refused_for_closing(self, request: AccessRequest) -> bool:
        """Whether a closed call is refused only because it is closed: the same request, the call open, is allowed.

        Asked of the policies rather than restated here, so the explanation follows them. An id that
        names no call is decided as an open one, so this never tells which ids exist.
        """
        attrs = request.resource.attrs
        if request.resource.type != "Dispatch" or attrs.get("open") is not False:
            return False
        reopened = ResourceRef(request.resource.type, request.resource.id, {**attrs, "open": True, "in_grace": False})
        return self.decide(replace(request, resource=reopened)).allowed


def _may_match_action(scope: dict[str, Any], action: str) -> bool:
    """False only when a policy's action scope certainly excludes ``action`` (unknown forms: True)."""
    uid = {"type": f"{NAMESPACE}::Action", "id": action}
    if scope.get("op") == "==":
        return bool(scope.get("entity") == uid)
    if scope.get("op") == "in" and "entities" in scope:
        return uid in scope["entities"]
    return True  # "All", or "in" an action group


def _may_match_resource(scope: dict[str, Any], resource_type: str) -> bool:
    """False only when a policy's resource scope certainly excludes this entity type."""
    qualified = f"{NAMESPACE}::{resource_type}"
    if scope.get("op") == "is":
        return bool(scope.get("entity_type") == qualified)
    if scope.get("op") == "==":
        return bool(scope.get("entity", {}).get("type") == qualified)
    return True  # "All", "in" (an ancestor may have another type)


def _memo_key(request: AccessRequest) -> Hashable | None:
    """Everything a decision depends on, or None when an attribute value is not hashable."""
    try:
        attrs = tuple(sorted(request.resource.attrs.items()))
        hash(attrs)
    except TypeError:
        return None
    return (
        request.subject,
        request.action,
        request.resource.type,
        request.resource.id,
        attrs,
        request.purpose,
        request.display_context,
        request.relationships,
        request.breakglass,
    )


def _annotations(policies: str) -> dict[str, str]:
    """Map each @id to its @reason, read from the policy source."""
    reasons: dict[str, str] = {}
    current: dict[str, str] = {}
    for kind, value in _ANNOTATION.findall(policies):
        current[kind] = value
        if "id" in current and "reason" in current:
            reasons[current["id"]] = current["reason"]
            current = {}
    return reasons


def _check(request: AccessRequest) -> None:
    if request.action not in ACTIONS:
        raise ValueError(f"unknown action {request.action!r}")
    if request.resource.type not in RESOURCE_TYPES:
        raise ValueError(f"unknown resource type {request.resource.type!r}")


def _entities(request: AccessRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    subject = request.subject
    user = {
        "uid": {"type": f"{NAMESPACE}::User", "id": subject.account_id},
        "attrs": {
            "role": subject.role,
            "org": subject.org_id,
            "org_level": subject.org_level,
            "district": subject.district,
            "training_ok": subject.training_ok,
            "kind": subject.kind,
        },
        "parents": [],
    }
    resource = {
        "uid": {"type": f"{NAMESPACE}::{request.resource.type}", "id": request.resource.id},
        "attrs": dict(request.resource.attrs),
        "parents": [],
    }
    return user, resource


@lru_cache(maxsize=4096)
def _subject_entities(subject: Subject) -> cedarpy.Entities:
    """The parsed entity set of one principal (subjects are frozen, so the cache cannot go stale)."""
    user = {
        "uid": {"type": f"{NAMESPACE}::User", "id": subject.account_id},
        "attrs": {
            "role": subject.role,
            "org": subject.org_id,
            "org_level": subject.org_level,
            "district": subject.district,
            "training_ok": subject.training_ok,
            "kind": subject.kind,
        },
        "parents": [],
    }
    return cedarpy.Entities.from_json_str(json.dumps([user]))


def _cedar_request(request: AccessRequest) -> dict[str, Any]:
    return {
        "principal": {"type": f"{NAMESPACE}::User", "id": request.subject.account_id},
        "action": {"type": f"{NAMESPACE}::Action", "id": request.action},
        "resource": {"type": f"{NAMESPACE}::{request.resource.type}", "id": request.resource.id},
        # As JSON text: cedarpy would otherwise copy the request and serialise a dict context itself.
        "context": json.dumps(
            {
                "purpose": request.purpose,
                "display_context": request.display_context,
                "relationships": sorted(request.relationships),
                "breakglass": request.breakglass,
            }
        ),
    }


def _closed_call(request: AccessRequest) -> str:
    """Why a closed call is refused to someone who could see it open (no record data)."""
    if request.resource.attrs.get("in_grace"):
        return "the call is closed: only its assigned crew keeps the display in the grace period after close"
    return "the call is closed, and past the grace period in which its assigned crew keeps the display"


def _why_not(request: AccessRequest) -> str:
    """A plain reason for a default deny (no record data)."""
    if not request.relationships and not request.breakglass and request.resource.type in ("DeathReport", "Dispatch"):
        return "no task relationship to this record (need-to-know) and no break-glass grant"
    return (
        f"no policy permits role '{request.subject.role}' to {request.action} "
        f"with purpose {request.purpose} in context {request.display_context}"
    )


@cache
def default_engine() -> PolicyEngine:
    """The packaged policies, parsed and validated once per process."""
    return PolicyEngine.load()


def decide(request: AccessRequest) -> Decision:
    """Decide with the packaged policies (ARCHITECTURE interface)."""
    return default_engine().decide(request)
