"""The outside audit's loopholes around issued recommendations, closed (SQLite and PostgreSQL): an internal
audit cannot pre-empt a procuratorate's reference number, an oversight body is not steered into adding
items to the hospital's own audit, nobody hands an outside recommendation back to the hospital, and the
ledger names the refusing policy, never the permitting one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.ledger import service as ledger
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.schemas import CorrectionIn, ExtensionIn, ItemIn, RecommendationIn
from piguard.records import service as records
from tests.integration.oversight.test_inspections_service import World
from tests.integration.oversight.test_inspections_service import world as world  # the fixture
from tests.integration.oversight.test_rectification_jurisdiction import _person

REFERENCE = "闵检建〔2026〕7号"
PROCURATORATE = "闵行区人民检察院"


def _kw(world: World, who: str | Any) -> dict[str, Any]:
    principal = world.people[who] if isinstance(who, str) else who
    return {"session": world.session, "guard": world.guard, "principal": principal}


def _item(world: World, days: int = 60) -> ItemIn:
    assert world.guard.now is not None
    return ItemIn(
        description="Review every cross-department query of death reports monthly",
        owner_org_id=world.orgs["a"],
        responsible_id=world.people["owner"].account_id,
        deadline=world.guard.now + timedelta(days=days),
        required_evidence="The monthly review minutes, signed",
    )


def _record(world: World, who: str, *, source: str, authority: str = PROCURATORATE, reference: str = REFERENCE) -> Any:
    assert world.guard.now is not None
    data = RecommendationIn(
        source=source,
        reference_no=reference,
        issuing_authority=authority,
        issued_on=world.guard.now.date(),
        text="Establish a traceable follow-up inspection mechanism for death-information access.",
        org_id=world.orgs["a"],
        items=[_item(world)],
    )
    return flows.create_recommendation(data=data, **_kw(world, who))


def _extension(world: World, days: int) -> ExtensionIn:
    assert world.guard.now is not None
    return ExtensionIn(deadline=world.guard.now + timedelta(days=days), reason="the hospital asked for more time")


def _last_reason(world: World) -> str:
    last = list(ledger.iter_events(session=world.session))[-1]
    assert last.outcome == "denied" and last.reason is not None
    return last.reason


def test_the_hospital_cannot_pre_empt_the_procuratorates_reference(world: World) -> None:
    # Recorded as its own audit under the procuratorate's name and number: refused, naming the field.
    refused = _record(world, "hospital_po", source="internal_audit").error
    assert isinstance(refused, InputError) and refused.where == "issuing_authority", refused
    assert _last_reason(world).startswith("inspection-rules: issuing_authority: an internal_audit is")
    # The commission records the real one; it manages it, and the hospital cannot touch its deadline.
    real = _record(world, "inspector", source="procuratorial_recommendation").unwrap()
    assert (real.managed_by, real.issuer_org_id) == ("issuer", world.orgs["hc"])
    denied = flows.extend_deadline(item_id=real.items[0].id, data=_extension(world, 1400), **_kw(world, "hospital_po"))
    assert isinstance(denied.error, AccessDenied) and denied.error.policy_ids == ("issuing-body",)
    # The hospital's own audit under its own name, even with the same number, is its own business.
    own = _record(world, "hospital_po", source="internal_audit", authority="a internal audit office").unwrap()
    assert own.managed_by == "organisation"
    # Nor can it rename its own audit's authority to the procuratorate afterwards.
    rename = CorrectionIn(field="issuing_authority", value=PROCURATORATE, reason="the procuratorate asked for it")
    renamed = flows.correct(target_type="recommendation", target_id=own.id, data=rename, **_kw(world, "hospital_po"))
    assert isinstance(renamed.error, InputError) and renamed.error.where == "issuing_authority"


def test_the_409_never_steers_an_oversight_body_into_the_hospitals_own_audit(world: World) -> None:
    authority = "a internal audit office"
    own = _record(world, "hospital_po", source="internal_audit", authority=authority).unwrap()
    # The commission records the same internal audit: refused, but not told to add items to the hospital's.
    again = _record(world, "inspector", source="internal_audit", authority=authority).error
    assert isinstance(again, ConflictError), again
    assert str(again).startswith("reference_no:") and "add items" not in str(again)
    assert "followed up by the audited organisation" in str(again)
    # Adding items to the hospital's own audit anyway is refused to the commission (they would be the hospital's).
    added = flows.add_items(recommendation_id=own.id, items=[_item(world, 90)], **_kw(world, "inspector"))
    assert isinstance(added.error, AccessDenied) and added.error.policy_ids == ("issuing-body",), added.error
    assert "organisation's own audit" in added.error.reason and "record your own recommendation" in added.error.reason
    assert _last_reason(world).startswith("issuing-body: the recommendation is the organisation's own audit")
    city = flows.add_items(recommendation_id=own.id, items=[_item(world, 90)], **_kw(world, "second"))
    assert isinstance(city.error, AccessDenied) and city.error.policy_ids == ("issuing-body",)
    # Its own officers still add items; the commission still corrects and extends what the hospital recorded.
    more = flows.add_items(recommendation_id=own.id, items=[_item(world, 90)], **_kw(world, "hospital_po")).unwrap()
    assert len(more.items) == 2 and more.managed_by == "organisation"
    flows.extend_deadline(item_id=own.items[0].id, data=_extension(world, 120), **_kw(world, "inspector")).unwrap()
    # Two commissions' records of the same outside recommendation: the 409 advises adding items there.
    _record(world, "inspector", source="procuratorial_recommendation").unwrap()
    twice = _record(world, "inspector", source="procuratorial_recommendation").error
    assert isinstance(twice, ConflictError) and str(twice).endswith("add items to it instead"), twice


def test_nobody_hands_an_outside_recommendation_back_to_the_hospital(world: World) -> None:
    cdc = records.create_organisation(
        session=world.session, name="Minhang CDC", org_type="cdc", district="310112", level="district"
    ).id
    district_cdc = _person(world.session, world.guard, "po.cdc2", "privacy_officer", cdc)
    own = _record(
        world, "hospital_po", source="internal_audit", authority="a internal audit office", reference="内审〔2026〕3号"
    ).unwrap()
    hospital = _kw(world, "hospital_po")
    moved = CorrectionIn(field="source", value="procuratorial_recommendation", reason="it came from the procuratorate")
    out = flows.correct(target_type="recommendation", target_id=own.id, data=moved, **hospital).unwrap()
    assert out.managed_by == "oversight"
    back = CorrectionIn(field="source", value="internal_audit", reason="calling it the hospital's own again")
    for body in (district_cdc, world.people["inspector"], world.people["second"]):
        refused = flows.correct(target_type="recommendation", target_id=own.id, data=back, **_kw(world, body)).error
        assert isinstance(refused, ConflictError) and "never corrected back to internal_audit" in str(refused)
        assert _last_reason(world).startswith("inspection-rules: source: a recommendation from outside")
    # Still managed by oversight: the hospital cannot extend, the district CDC (an oversight body) can.
    item = own.items[0].id
    refused_extension = flows.extend_deadline(item_id=item, data=_extension(world, 1400), **hospital).error
    assert isinstance(refused_extension, AccessDenied) and refused_extension.policy_ids == ("issuing-body",)
    flows.extend_deadline(item_id=item, data=_extension(world, 90), **_kw(world, district_cdc)).unwrap()
    shown = flows.get_recommendation(recommendation_id=own.id, **hospital).unwrap()
    assert shown.managed_by == "oversight" and shown.source == "procuratorial_recommendation"


@pytest.mark.parametrize("case", ["issuing-body", "jurisdiction", "rules"])
def test_a_denied_event_names_the_refusing_policy_never_the_permitting_one(world: World, case: str) -> None:
    real = _record(world, "inspector", source="procuratorial_recommendation").unwrap()
    item = real.items[0].id
    if case == "issuing-body":
        error = flows.extend_deadline(item_id=item, data=_extension(world, 400), **_kw(world, "hospital_po")).error
        prefix = "issuing-body: the recommendation was issued by an oversight body"
    elif case == "jurisdiction":
        outsider = _person(world.session, world.guard, "po.hcb2", "privacy_officer", world.orgs["hc_b"])
        error = flows.extend_deadline(item_id=item, data=_extension(world, 400), **_kw(world, outsider)).error
        prefix = "jurisdiction: the rectification item's owner organisation is outside your jurisdiction"
    else:  # permitted by inspection-manage-issued, refused by the rules: an "extension" to an earlier date
        error = flows.extend_deadline(item_id=item, data=_extension(world, 10), **_kw(world, "inspector")).error
        prefix = "inspection-rules: deadline: an extension moves the deadline later"
    assert error is not None
    reason = _last_reason(world)
    assert reason.startswith(prefix), reason
    assert "inspection-manage" not in reason
