"""Recommendations and rectification items within the officer's jurisdiction (SQLite and PostgreSQL):
a hospital's officer acts on its own organisation's items, a health commission's on its district's,
the municipal one on the city's; refusals say so without naming the work's content."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.ids import new_id
from piguard.ledger import service as ledger
from piguard.oversight.common import local_principal
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.models import Recommendation
from piguard.oversight.inspections.schemas import CorrectionIn, ExtensionIn, ItemIn, RecommendationIn, ReviewIn
from piguard.records import service as records
from piguard.records.guard import Guard
from tests.integration.oversight.test_inspections_service import PASSWORD, World, _recommend, _submit
from tests.integration.oversight.test_inspections_service import world as world  # the fixture


def _person(session: Session, guard: Guard, username: str, role: str, org_id: str) -> Principal:
    """A trained account of this role at this organisation, acting from the command line."""
    assert guard.now is not None
    made = identity.create_account(
        session=session,
        secret=guard.secret,
        username=username,
        display_name=username,
        role=role,
        org_id=org_id,
        password=PASSWORD,
        demo=True,
    )
    identity.record_training(
        session=session,
        account_id=made.account.id,
        course_code="privacy-basics",
        score=95,
        completed_at=guard.now - timedelta(days=3),
    )
    session.flush()
    return local_principal(session=session, username=username)


def _outside(error: object, *secrets: str) -> None:
    """A refusal for the jurisdiction that names none of the work's content or organisations."""
    assert isinstance(error, AccessDenied), error
    assert error.policy_ids == ("jurisdiction",) and "outside your jurisdiction" in error.reason
    assert not any(secret in error.reason for secret in secrets)


def _outsiders(world: World) -> dict[str, Principal]:
    return {
        "po.b": _person(world.session, world.guard, "po.b", "privacy_officer", world.orgs["b"]),
        "po.hcb": _person(world.session, world.guard, "po.hcb", "privacy_officer", world.orgs["hc_b"]),
    }


def _item_in(world: World, org: str, who: str) -> ItemIn:
    assert world.guard.now is not None
    return ItemIn(
        description="Close the shared login of the records office",
        owner_org_id=world.orgs[org],
        responsible_id=world.people[who].account_id,
        deadline=world.guard.now + timedelta(days=30),
        required_evidence="The account list after the change",
    )


def _recommendation(world: World, who: Principal, *, org_id: str | None, items: list[ItemIn]) -> Any:
    assert world.guard.now is not None
    number = 100 + (world.session.scalar(select(func.count()).select_from(Recommendation)) or 0)
    data = RecommendationIn(
        source="internal_audit",
        reference_no=f"内审〔2025〕{number}号",
        issuing_authority=f"{records.get_organisation(session=world.session, org_id=who.org_id).name} internal audit",
        issued_on=world.guard.now.date(),
        text="Shared logins in the records office.",
        org_id=org_id,
        items=items,
    )
    return flows.create_recommendation(session=world.session, guard=world.guard, principal=who, data=data)


def test_items_and_recommendations_are_read_and_managed_only_within_the_jurisdiction(world: World) -> None:
    made = _recommend(world).unwrap()  # by the district commission; its item owned by hospital A
    item = made.items[0].id
    evidence = _submit(world, item).unwrap().evidence[0].id
    secrets = (made.reference_no, world.orgs["a"], "cross-hospital")
    assert world.guard.now is not None
    for who, outsider in _outsiders(world).items():
        kw: dict[str, Any] = {"session": world.session, "guard": world.guard, "principal": outsider}
        _outside(flows.get_item(item_id=item, **kw).error, *secrets)
        _outside(flows.get_recommendation(recommendation_id=made.id, **kw).error, *secrets)
        _outside(
            flows.review_evidence(
                item_id=item,
                evidence_id=evidence,
                decision="verified",
                data=ReviewIn(reason="looks right to me from afar"),
                **kw,
            ).error,
            *secrets,
        )
        extension = ExtensionIn(deadline=world.guard.now + timedelta(days=90), reason="they asked us nicely")
        _outside(flows.extend_deadline(item_id=item, data=extension, **kw).error, *secrets)
        fix = CorrectionIn(field="description", value="Something else entirely", reason="rewording it for them")
        _outside(flows.correct(target_type="rectification", target_id=item, data=fix, **kw).error, *secrets)
        fix = CorrectionIn(field="text", value="Something else entirely", reason="rewording it for them")
        _outside(flows.correct(target_type="recommendation", target_id=made.id, data=fix, **kw).error, *secrets)
        # Adding an item of one's own organisation does not make another's recommendation one's own.
        more = [_item_in(world, "b", "outsider")]
        _outside(flows.add_items(recommendation_id=made.id, items=more, **kw).error, *secrets)
        assert item not in {i.id for i in flows.list_items(**kw).unwrap()}, who
        assert item not in {i.id for i in flows.list_items(overdue_only=True, **kw).unwrap()}, who
        assert made.id not in {r.id for r in flows.list_recommendations(**kw).unwrap()}, who
        events = list(ledger.iter_events(session=world.session, user_id=outsider.account_id))
        assert [e.outcome for e in events if e.resource_id in (item, made.id)] == ["denied"] * 7, who
    # Nothing was changed by the refusals.
    detail = flows.get_item(
        session=world.session, guard=world.guard, principal=world.people["inspector"], item_id=item
    ).unwrap()
    assert not detail.extensions and not detail.corrections and detail.status == "awaiting_review"
    # Within: the hospital's own officer, the district commission's, the municipal one (an admin).
    for who in ("hospital_po", "inspector", "second"):
        kw = {"session": world.session, "guard": world.guard, "principal": world.people[who]}
        assert flows.get_item(item_id=item, **kw).unwrap().id == item
        assert flows.get_recommendation(recommendation_id=made.id, **kw).unwrap().id == made.id
        assert item in {i.id for i in flows.list_items(**kw).unwrap()}, who
        assert made.id in {r.id for r in flows.list_recommendations(**kw).unwrap()}, who


def test_a_recommendation_is_recorded_only_within_the_authors_jurisdiction(world: World) -> None:
    outsiders = _outsiders(world)
    hospital_b = outsiders["po.b"]
    count = world.session.scalar(select(func.count()).select_from(Recommendation))
    # Hospital B's officer can neither address hospital A nor give hospital A items.
    _outside(_recommendation(world, hospital_b, org_id=None, items=[_item_in(world, "a", "owner")]).error)
    _outside(_recommendation(world, hospital_b, org_id=world.orgs["a"], items=[_item_in(world, "b", "outsider")]).error)
    assert world.session.scalar(select(func.count()).select_from(Recommendation)) == count
    # Its own internal audit, with its own items, it records.
    own = _recommendation(world, hospital_b, org_id=world.orgs["b"], items=[_item_in(world, "b", "outsider")])
    assert own.unwrap().org_id == world.orgs["b"]
    # Addressed to nobody and without items, a recommendation stays with its author's organisation:
    # the municipal commission's is the city level's, the district commission's its district's.
    city = _recommendation(world, world.people["second"], org_id=None, items=[]).unwrap()
    district = _recommendation(world, world.people["inspector"], org_id=None, items=[]).unwrap()

    def sees(who: Principal, rec_id: str) -> bool:
        found = flows.get_recommendation(
            session=world.session, guard=world.guard, principal=who, recommendation_id=rec_id
        )
        return found.error is None

    assert sees(world.people["second"], city.id) and not sees(world.people["inspector"], city.id)
    assert not sees(world.people["hospital_po"], city.id)
    assert sees(world.people["inspector"], district.id) and sees(world.people["second"], district.id)
    assert not sees(world.people["hospital_po"], district.id) and not sees(outsiders["po.hcb"], district.id)
    # Once it has items, it is about their owners: hospital A's officer then follows it up too.
    flows.add_items(
        session=world.session,
        guard=world.guard,
        principal=world.people["second"],
        recommendation_id=city.id,
        items=[_item_in(world, "a", "owner")],
    ).unwrap()
    assert sees(world.people["hospital_po"], city.id) and not sees(hospital_b, city.id)


def test_the_recommendation_list_is_filtered_before_its_limit(world: World) -> None:
    hospital_b = _outsiders(world)["po.b"]
    mine = _recommendation(world, hospital_b, org_id=world.orgs["b"], items=[_item_in(world, "b", "outsider")])
    assert world.guard.now is not None
    # 200 newer recommendations addressed to hospital A (rows as the service would store them).
    for n in range(200):
        world.session.add(
            Recommendation(
                source="internal_audit",
                reference_no=f"bulk-{n}",
                issuing_authority="Internal audit",
                issued_on=world.guard.now.date(),
                text="Another hospital's matter.",
                org_id=world.orgs["a"],
                created_by=world.people["inspector"].account_id,
                created_at=world.guard.now + timedelta(minutes=1 + n),
                ledger_event_id=new_id(),
                digest="0" * 64,
            )
        )
    world.session.flush()
    listed = flows.list_recommendations(session=world.session, guard=world.guard, principal=hospital_b).unwrap()
    assert [r.id for r in listed] == [mine.unwrap().id]
    assert (
        len(
            flows.list_recommendations(
                session=world.session, guard=world.guard, principal=world.people["hospital_po"]
            ).unwrap()
        )
        == 200
    )


@pytest.mark.parametrize("who", ["po.b", "po.hcb"])
def test_evidence_is_reviewed_within_the_jurisdiction_and_the_owner_still_submits(world: World, who: str) -> None:
    outsider = _outsiders(world)[who]
    item = _recommend(world).unwrap().items[0].id
    evidence = _submit(world, item).unwrap().evidence[0].id
    refused = flows.review_evidence(
        session=world.session,
        guard=world.guard,
        principal=outsider,
        item_id=item,
        evidence_id=evidence,
        decision="rejected",
        data=ReviewIn(reason="not convinced by this evidence"),
    )
    _outside(refused.error)
    last = list(ledger.iter_events(session=world.session))[-1]
    assert (last.user_id, last.outcome, last.resource_id) == (outsider.account_id, "denied", item)
    # The hospital's own responsible person submits; the district commission verifies.
    done = flows.review_evidence(
        session=world.session,
        guard=world.guard,
        principal=world.people["inspector"],
        item_id=item,
        evidence_id=evidence,
        decision="verified",
        data=ReviewIn(reason="matches the production configuration"),
    ).unwrap()
    assert done.status == "verified"
