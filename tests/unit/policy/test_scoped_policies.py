"""Deciding with the policies scoped to the request's action and resource type changes no decision."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from piguard.identity.models import ROLES
from piguard.minimize.contexts import CONTEXTS
from piguard.policy.pdp import ACTIONS, AccessRequest, PolicyEngine, ResourceRef, Subject
from piguard.policy.purposes import PURPOSES

SCOPED = PolicyEngine.load()


class _Unscoped(PolicyEngine):
    """The reference: every request evaluated against the whole policy set."""

    def _policies_for(self, action: str, resource_type: str):  # type: ignore[no-untyped-def]
        return self._policies


UNSCOPED = _Unscoped.load()
ORGS = ("org-h1", "org-h2", "org-cdc", "org-ec")
DISTRICTS = ("310112", "310104")


@st.composite
def requests(draw: st.DrawFn) -> AccessRequest:
    subject = Subject(
        account_id=f"u-{draw(st.integers(0, 3))}",
        role=draw(st.sampled_from(sorted(ROLES))),
        org_id=draw(st.sampled_from(ORGS)),
        district=draw(st.sampled_from(DISTRICTS)),
        org_level=draw(st.sampled_from(("district", "municipal"))),
        training_ok=draw(st.booleans()),
    )
    if draw(st.booleans()):
        attrs: dict[str, object] = {
            "hospital": draw(st.sampled_from(ORGS)),
            "district": draw(st.sampled_from(DISTRICTS)),
            "status": draw(st.sampled_from(("certified", "reported", "coded"))),
        }
        resource = ResourceRef("DeathReport", "r1", attrs)
    else:
        attrs = {
            "org": draw(st.sampled_from(ORGS)),
            "district": draw(st.sampled_from(DISTRICTS)),
            "open": draw(st.booleans()),
            "in_grace": draw(st.booleans()),
        }
        resource = ResourceRef("Dispatch", "d1", attrs)
    relationships = draw(st.frozensets(st.sampled_from(("certifier", "attending", "crew", "coder", "registrar",
                                                        "funeral_home", "investigation"))))  # fmt: skip
    return AccessRequest(
        subject,
        draw(st.sampled_from(ACTIONS)),
        resource,
        draw(st.sampled_from(sorted(PURPOSES))),
        draw(st.sampled_from(CONTEXTS)),
        relationships,
        draw(st.booleans()),
    )


@settings(max_examples=400, deadline=None)
@given(requests())
def test_scoped_policy_sets_decide_as_the_whole_set(request: AccessRequest) -> None:
    assert SCOPED.decide(request) == UNSCOPED.decide(request)


def test_training_gate_applies_to_every_scope() -> None:
    lapsed = Subject("u-1", "physician", "org-h1", "310112", training_ok=False)
    resource = ResourceRef("DeathReport", "r1", {"hospital": "org-h1", "district": "310112", "status": "certified"})
    decision = SCOPED.decide(AccessRequest(lapsed, "read", resource, "TREAT", "hospital_certifier",
                                           frozenset({"certifier"})))  # fmt: skip
    assert not decision.allowed
    assert "training-gate" in decision.policy_ids
