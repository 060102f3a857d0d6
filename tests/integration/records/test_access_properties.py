"""Properties of the guarded path over random principals, purposes, contexts and relationships."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from piguard.ledger import service as ledger
from piguard.minimize.contexts import REPORT_CONTEXTS
from piguard.policy.purposes import PURPOSES
from piguard.records import dispatch_flows, flows
from piguard.records import service as records
from tests.integration.records.conftest import CALLER_PHONE, NOW, RELATIVE_PHONE, World, person
from tests.unit.minimize.test_contexts import ALLOWED

ROLES = (
    "physician",
    "nurse",
    "emt",
    "dispatcher",
    "cdc_coder",
    "cdc_epidemiologist",
    "police_registrar",
    "funeral_clerk",
    "privacy_officer",
    "admin",
)
KINDS = ("certifier", "attending", "crew", "coder", "registrar", "funeral", "investigator")
MDT_FIELDS = {
    "dispatch_id",
    "incident_id",
    "status",
    "priority",
    "pickup_address",
    "access_notes",
    "chief_complaint",
    "age_band",
    "sex",
    "hazards",
    "destination",
    "caller_handle",
}

# Combinations that should often be allowed, so the property is exercised on disclosures too.
LEGIT = [
    {"role": "physician", "org": "hosp_a", "purpose": "TREAT", "kinds": {"certifier"}, "target": "report_a"},
    {"role": "nurse", "org": "hosp_a", "purpose": "HOPERAT", "kinds": {"attending"}, "target": "search"},
    {"role": "cdc_coder", "org": "cdc", "purpose": "PUBHLTH", "kinds": {"coder"}, "target": "report_a"},
    {"role": "police_registrar", "org": "police", "purpose": "LEGAL", "kinds": {"registrar"}, "target": "report_b"},
    {"role": "funeral_clerk", "org": "funeral", "purpose": "FAMRQT", "kinds": {"funeral"}, "target": "report_a"},
    {"role": "privacy_officer", "org": "commission", "purpose": "LEGAL", "kinds": {"investigator"}, "target": "search"},
    {"role": "emt", "org": "centre", "purpose": "ETREAT", "kinds": {"crew"}, "target": "dispatch"},
]
legit = st.builds(
    lambda base, trained, context: {**base, "trained": trained, "context": context},
    st.sampled_from(LEGIT),
    st.booleans(),
    st.one_of(st.none(), st.none(), st.sampled_from(REPORT_CONTEXTS)),
)
random_requests = st.fixed_dictionaries(
    {
        "role": st.sampled_from(ROLES),
        "org": st.sampled_from(["hosp_a", "hosp_b", "cdc", "cdc_other", "police", "funeral", "centre", "commission"]),
        "purpose": st.one_of(st.sampled_from(sorted(PURPOSES)), st.just("SELL"), st.none()),
        "context": st.one_of(st.none(), st.sampled_from(REPORT_CONTEXTS), st.just("everything")),
        "kinds": st.sets(st.sampled_from(KINDS), max_size=3),
        "trained": st.booleans(),
        "target": st.sampled_from(["report_a", "report_b", "dispatch", "search"]),
    }
)
requests = st.one_of(legit, random_requests)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(req=requests, n=st.integers(min_value=0, max_value=10**9))
def test_one_event_per_request_and_no_field_outside_context(session: Session, world: World, req: dict, n: int) -> None:  # type: ignore[type-arg]
    who = person(f"acc-{n}", req["role"], world.orgs[req["org"]], trained=req["trained"])
    resource = world.dispatch if req["target"] == "dispatch" else getattr(world, req["target"], world.report_a)
    for kind in req["kinds"]:
        records.add_relationship(
            session=session,
            account_id=who.account_id,
            resource_type="dispatch" if req["target"] == "dispatch" else "death_report",
            resource_id=resource,
            subject_id=None,
            kind=kind,
            valid_from=NOW - timedelta(days=1),
            valid_to=None,
            created_by="test",
        )
    before = ledger.count(session=session)
    if req["target"] == "dispatch":
        outcome = dispatch_flows.display(
            session=session, guard=world.guard, principal=who, dispatch_id=resource, purpose=req["purpose"]
        )
        views = [outcome.value] if outcome.value is not None else []
        allowed_fields = MDT_FIELDS
    elif req["target"] == "search":
        outcome = flows.search_reports(
            session=session,
            guard=world.guard,
            principal=who,
            q=None,
            district=None,
            purpose=req["purpose"],
            context=req["context"],
        )
        views = list(outcome.value or [])
        allowed_fields = set().union(*ALLOWED.values())
    else:
        outcome = flows.read_report(
            session=session,
            guard=world.guard,
            principal=who,
            report_id=resource,
            purpose=req["purpose"],
            context=req["context"],
        )
        views = [outcome.value] if outcome.value is not None else []
        allowed_fields = set().union(*ALLOWED.values())
    hypothesis_event(f"outcome={'allowed' if outcome.allowed else 'denied'}")
    assert ledger.count(session=session) == before + 1, "every request leaves exactly one access event"
    event = list(ledger.iter_events(session=session))[-1]
    assert event.user_id == who.account_id
    assert event.outcome == ("allowed" if outcome.allowed else "denied")
    if not outcome.allowed:
        assert not views and event.fields == ()
    for view in views:
        body = view.model_dump(mode="json")
        context = body["context"]
        fields = set(event.fields)
        assert fields <= (ALLOWED.get(context, set()) | MDT_FIELDS) and fields <= allowed_fields
        text = json.dumps(body, ensure_ascii=False)
        assert RELATIVE_PHONE not in text and CALLER_PHONE not in text
        if not req["trained"]:
            raise AssertionError("lapsed training must never disclose anything")
