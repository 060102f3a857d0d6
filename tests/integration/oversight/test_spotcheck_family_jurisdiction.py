"""Spot checks and relatives' requests within the officer's jurisdiction: acting, reading and listing
(a hospital's officer: its own organisation; a health commission's: its district; municipal: the city)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.ledger import service as ledger
from piguard.oversight.common import local_principal
from piguard.oversight.family import flows as family_flows
from piguard.oversight.family.schemas import FamilyRequestIn
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.schemas import FindingIn, SpotCheckIn
from piguard.records import service as records
from piguard.records.guard import Guard
from tests.integration.oversight.test_family_requests import PASSWORD, Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture
from tests.integration.oversight.test_inspections_service import World, _spot_check
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


def _denied(error: object) -> None:
    assert isinstance(error, AccessDenied) and "jurisdiction" in str(error)


def test_spot_checks_are_acted_on_and_listed_within_the_officers_jurisdiction(world: World) -> None:
    other_commission = _person(world.session, world.guard, "po.hcb", "privacy_officer", world.orgs["hc_b"])
    other_hospital = _person(world.session, world.guard, "po.b", "privacy_officer", world.orgs["b"])
    check = _spot_check(world, size=2, include_readers=False).unwrap()  # hospital A, by the district commission
    item = check.items[0].id

    def listed(who: Principal) -> set[str]:
        return {c.id for c in flows.list_spot_checks(session=world.session, guard=world.guard, principal=who).unwrap()}

    for outsider in (other_commission, other_hospital):
        _denied(
            flows.get_spot_check(session=world.session, guard=world.guard, principal=outsider, check_id=check.id).error
        )
        finding = FindingIn(item_id=item, outcome="satisfactory", note="looked at it")
        _denied(
            flows.record_finding(
                session=world.session, guard=world.guard, principal=outsider, check_id=check.id, data=finding
            ).error
        )
        assert check.id not in listed(outsider)
        last = list(ledger.iter_events(session=world.session))[-1]
        assert last.user_id == outsider.account_id and last.action == "search"
    # The refusals are recorded as denied events about the check.
    events = ledger.iter_events(session=world.session, user_id=other_commission.account_id)
    assert [e.outcome for e in events if e.resource_id == check.id] == ["denied", "denied"]
    # A hospital's officer cannot draw a sample of another hospital.
    other = flows.create_spot_check(
        session=world.session,
        guard=world.guard,
        principal=other_hospital,
        data=SpotCheckIn(title="A's records", org_id=world.orgs["a"], size=2),
    )
    _denied(other.error)
    # Inside: the hospital's own officer, the district commission, the municipal one (an admin).
    for who in ("hospital_po", "inspector", "second"):
        principal = world.people[who]
        assert check.id in listed(principal), who
        assert (
            flows.get_spot_check(session=world.session, guard=world.guard, principal=principal, check_id=check.id)
            .unwrap()
            .id
            == check.id
        )


@pytest.fixture
def outsiders(family: Family) -> dict[str, Principal]:
    """Officers of another district's commission and of another hospital (same district), and the certifier's."""
    far = records.create_organisation(
        session=family.session, name="Huangpu Health Commission", org_type="health_commission", district="310101"
    ).id
    certifier_org = family.people["certifier"].org_id
    broker_org = family.people["broker"].org_id
    return {
        "far": _person(family.session, family.guard, "po.far", "privacy_officer", far),
        "riverside": _person(family.session, family.guard, "po.riverside", "privacy_officer", broker_org),
        "own": _person(family.session, family.guard, "po.own", "privacy_officer", certifier_org),
    }


def test_relatives_requests_are_acted_on_and_listed_within_the_officers_jurisdiction(
    family: Family, outsiders: dict[str, Principal]
) -> None:
    made = family.register().unwrap()  # the district commission: its district covers the hospital

    def listed(who: Principal) -> set[str]:
        return {
            r.id
            for r in family_flows.list_requests(session=family.session, guard=family.at(90), principal=who).unwrap()
        }

    for key in ("far", "riverside"):
        who = outsiders[key]
        _denied(
            family_flows.get_request(
                session=family.session, guard=family.at(70), principal=who, request_id=made.id
            ).error
        )
        _denied(
            family_flows.answer(session=family.session, guard=family.at(80), principal=who, request_id=made.id).error
        )
        assert made.id not in listed(who)
        registered = family_flows.register(
            session=family.session,
            guard=family.at(100),
            principal=who,
            data=FamilyRequestIn(
                report_id=family.report, requester_name="王小明", relationship="child", proof="ID card"
            ),
        )
        _denied(registered.error)
        last = list(ledger.iter_events(session=family.session))[-1]
        assert last.outcome == "denied" and last.subject_id == family.subject  # recorded about the deceased
    # The certifying hospital's own officer acts on it.
    assert made.id in listed(outsiders["own"])
    answered = family_flows.answer(
        session=family.session, guard=family.at(120), principal=outsiders["own"], request_id=made.id
    )
    assert answered.error is None
