"""A recommendation issued from outside the audited organisation stays with the body that issued it
(SQLite and PostgreSQL): the outside audit's scenario — a district commission records a procuratorial
recommendation to hospital A — no longer lets A's officer extend, rewrite or verify it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from piguard.errors import AccessDenied
from piguard.identity.schemas import Principal
from piguard.ledger import service as ledger
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.models import Recommendation
from piguard.oversight.inspections.schemas import CorrectionIn, ExtensionIn, ItemIn, RecommendationIn, ReviewIn
from piguard.records import service as records
from tests.integration.oversight.test_inspections_service import World, _submit
from tests.integration.oversight.test_inspections_service import world as world  # the fixture
from tests.integration.oversight.test_rectification_jurisdiction import _person

REFERENCE = "浦检建〔2026〕7号"


def _kw(world: World, who: str | Principal) -> dict[str, Any]:
    principal = world.people[who] if isinstance(who, str) else who
    return {"session": world.session, "guard": world.guard, "principal": principal}


def _record(world: World, who: str, *, source: str = "procuratorial_recommendation", reference: str = REFERENCE) -> Any:
    assert world.guard.now is not None
    data = RecommendationIn(
        source=source,
        reference_no=reference,
        # An internal audit names the audited organisation (hospital "a") as its authority.
        issuing_authority="a internal audit office" if source == "internal_audit" else "浦东新区人民检察院",
        issued_on=world.guard.now.date(),
        text="Establish a traceable follow-up inspection mechanism for death-information access.",
        org_id=world.orgs["a"],
        items=[
            ItemIn(
                description="Review every cross-department query of death reports monthly",
                owner_org_id=world.orgs["a"],
                responsible_id=world.people["owner"].account_id,
                deadline=world.guard.now + timedelta(days=60),
                required_evidence="The monthly review minutes, signed",
            )
        ],
    )
    return flows.create_recommendation(data=data, **_kw(world, who))


def _issuing_body(error: object, *secrets: str, audited: bool = True) -> None:
    """A refusal because the work is managed by another body, naming none of its content.

    ``audited``: the principal is of the audited organisation (which still names the responsible person).
    """
    assert isinstance(error, AccessDenied), error
    assert error.policy_ids == ("issuing-body",), error.policy_ids
    assert ("assigns the responsible person" in error.reason) is audited, error.reason
    assert error.reason.endswith("you may read it") is not audited, error.reason
    assert not any(secret in error.reason for secret in secrets)


def _extension(world: World, days: int) -> ExtensionIn:
    assert world.guard.now is not None
    return ExtensionIn(deadline=world.guard.now + timedelta(days=days), reason="the hospital asked for more time")


def test_the_audited_hospital_cannot_extend_rewrite_or_verify_a_procuratorial_recommendation(world: World) -> None:
    made = _record(world, "inspector").unwrap()  # the district health commission records it
    item = made.items[0]
    evidence = _submit(world, item.id).unwrap().evidence[0].id  # the responsible person still submits
    secrets = (REFERENCE, made.text, item.description, world.orgs["hc"])
    hospital = _kw(world, "hospital_po")
    before = ledger.count(session=world.session)

    _issuing_body(flows.extend_deadline(item_id=item.id, data=_extension(world, 400), **hospital).error, *secrets)
    nothing = CorrectionIn(field="text", value="Nothing to do", reason="the matter is settled already")
    _issuing_body(flows.correct(target_type="recommendation", target_id=made.id, data=nothing, **hospital).error)
    rewrite = CorrectionIn(field="description", value="Nothing to do", reason="the matter is settled already")
    _issuing_body(flows.correct(target_type="rectification", target_id=item.id, data=rewrite, **hospital).error)
    source = CorrectionIn(field="source", value="internal_audit", reason="it was our own audit after all")
    _issuing_body(flows.correct(target_type="recommendation", target_id=made.id, data=source, **hospital).error)
    verdict = ReviewIn(reason="the minutes look complete to us")
    _issuing_body(
        flows.review_evidence(
            item_id=item.id, evidence_id=evidence, decision="verified", data=verdict, **hospital
        ).error
    )
    # Nor may it add an item of its own (with a deadline of its choosing) to what was issued to it.
    more = ItemIn(
        description="Nothing further is needed",
        owner_org_id=world.orgs["a"],
        responsible_id=world.people["owner"].account_id,
        deadline=_extension(world, 500).deadline,
        required_evidence="None",
    )
    _issuing_body(flows.add_items(recommendation_id=made.id, items=[more], **hospital).error)

    # Every refusal is a denied event, and nothing changed: never overdue, never escalated, still open to review.
    events = list(ledger.iter_events(session=world.session))[before:]
    assert [e.outcome for e in events] == ["denied"] * 6
    later = world.at(timedelta(days=61))
    shown = flows.get_item(session=world.session, guard=later, principal=world.people["inspector"], item_id=item.id)
    detail = shown.unwrap()
    assert not detail.extensions and not detail.corrections and detail.deadline == item.deadline
    assert detail.status == "awaiting_review"  # submitted by the deadline: the commission owes the verdict
    again = flows.get_recommendation(recommendation_id=made.id, **_kw(world, "inspector")).unwrap()
    assert again.text == made.text and len(again.items) == 1 and not again.corrections

    assert (made.managed_by, made.issuer_org_id) == ("issuer", world.orgs["hc"])
    assert (item.managed_by, item.issuer_org_id) == ("issuer", world.orgs["hc"])
    # The hospital's officer still reads it, lists it and names the responsible person for its item.
    assert flows.get_item(item_id=item.id, **hospital).unwrap().managed_by == "issuer"
    assert made.id in {r.id for r in flows.list_recommendations(**hospital).unwrap()}
    assert item.id in {i.id for i in flows.list_items(**hospital).unwrap()}
    assign = CorrectionIn(
        field="responsible_id", value=world.people["colleague"].account_id, reason="the owner moved departments"
    )
    assigned = flows.correct(target_type="rectification", target_id=item.id, data=assign, **hospital).unwrap()
    assert isinstance(assigned, type(detail)) and assigned.responsible_id == world.people["colleague"].account_id

    # The issuing commission manages it: extends, corrects, verifies.
    commission = _kw(world, "inspector")
    flows.extend_deadline(item_id=item.id, data=_extension(world, 90), **commission).unwrap()
    flows.correct(target_type="recommendation", target_id=made.id, data=nothing, **commission).unwrap()
    done = flows.review_evidence(
        item_id=item.id, evidence_id=evidence, decision="verified", data=verdict, **commission
    ).unwrap()
    assert done.status == "verified"


def test_above_the_issuer_manages_beside_or_below_it_only_reads(world: World) -> None:
    cdc = records.create_organisation(
        session=world.session, name="Minhang CDC", org_type="cdc", district="310112", level="district"
    ).id
    district_cdc = _person(world.session, world.guard, "po.cdc", "privacy_officer", cdc)
    by_district = _record(world, "inspector").unwrap()
    item = by_district.items[0].id
    # The district CDC has jurisdiction over hospital A but did not issue it: reads, never changes.
    assert flows.get_item(item_id=item, **_kw(world, district_cdc)).unwrap().id == item
    refused = flows.extend_deadline(item_id=item, data=_extension(world, 90), **_kw(world, district_cdc))
    _issuing_body(refused.error, audited=False)
    # The municipal commission is above the district one: it may.
    flows.extend_deadline(item_id=item, data=_extension(world, 90), **_kw(world, "second")).unwrap()
    # What the municipal commission issued, the district commission only reads.
    by_city = _record(world, "second", reference="沪检建〔2026〕1号").unwrap()
    city_item = by_city.items[0].id
    assert by_city.issuer_org_id == world.orgs["city"]
    assert flows.get_item(item_id=city_item, **_kw(world, "inspector")).unwrap().id == city_item
    refused = flows.extend_deadline(item_id=city_item, data=_extension(world, 90), **_kw(world, "inspector"))
    _issuing_body(refused.error, audited=False)
    flows.extend_deadline(item_id=city_item, data=_extension(world, 90), **_kw(world, "second")).unwrap()


def test_an_outside_recommendation_is_recorded_by_oversight_not_by_the_audited_hospital(world: World) -> None:
    count = world.session.scalar(select(func.count()).select_from(Recommendation))
    refused = _record(world, "hospital_po")
    _issuing_body(refused.error, REFERENCE)
    assert "comes from outside the organisation" in str(refused.error)
    assert world.session.scalar(select(func.count()).select_from(Recommendation)) == count
    last = list(ledger.iter_events(session=world.session))[-1]
    assert (last.user_id, last.outcome, last.resource_type) == (
        world.people["hospital_po"].account_id,
        "denied",
        "recommendation",
    )


@pytest.mark.parametrize("recorder", ["hospital_po", "inspector"])
def test_the_hospitals_own_audit_keeps_todays_rules_until_it_is_called_outside(world: World, recorder: str) -> None:
    own = _record(world, recorder, source="internal_audit", reference="内审〔2026〕2号").unwrap()
    item = own.items[0].id
    hospital = _kw(world, "hospital_po")
    if recorder == "inspector":
        # Recorded by the commission, even as an internal audit, it is the commission's to manage.
        assert own.managed_by == "issuer"
        _issuing_body(flows.extend_deadline(item_id=item, data=_extension(world, 90), **hospital).error)
        return
    assert (own.managed_by, own.issuer_org_id) == ("organisation", None)
    flows.extend_deadline(item_id=item, data=_extension(world, 90), **hospital).unwrap()
    # Corrected to a procuratorial recommendation, it moves to oversight, and no correction brings it back.
    moved = CorrectionIn(field="source", value="procuratorial_recommendation", reason="it came from the procuratorate")
    assert (
        flows.correct(target_type="recommendation", target_id=own.id, data=moved, **hospital).unwrap().managed_by
        == "oversight"
    )
    back = CorrectionIn(field="source", value="internal_audit", reason="calling it ours again")
    _issuing_body(flows.correct(target_type="recommendation", target_id=own.id, data=back, **hospital).error)
    _issuing_body(flows.extend_deadline(item_id=item, data=_extension(world, 120), **hospital).error)
    # An oversight body with jurisdiction now manages it; one without is outside its jurisdiction.
    flows.extend_deadline(item_id=item, data=_extension(world, 120), **_kw(world, "inspector")).unwrap()
    outsider = _person(world.session, world.guard, "po.hcb", "privacy_officer", world.orgs["hc_b"])
    refused = flows.extend_deadline(item_id=item, data=_extension(world, 150), **_kw(world, outsider)).error
    assert isinstance(refused, AccessDenied) and refused.policy_ids == ("jurisdiction",)
