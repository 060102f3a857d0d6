"""The spot-check list keeps to the officer's jurisdiction and the status asked for *before* its
200-row limit (SQLite and PostgreSQL): checks outside them no longer use up the limit."""

from __future__ import annotations

from datetime import timedelta

from piguard.ids import new_id
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.models import SpotCheck, SpotCheckEvent
from tests.integration.oversight.test_inspections_service import World, _spot_check
from tests.integration.oversight.test_inspections_service import world as world  # the fixture

LIMIT = 200


def _newer_checks(world: World, org: str, count: int) -> None:
    """``count`` checks of ``org`` drawn after everything else (rows as the service stores them)."""
    assert world.guard.now is not None
    for n in range(count):
        world.session.add(
            SpotCheck(
                title=f"bulk check {n}",
                kind="accounts",
                criteria={"kind": "accounts", "org_id": world.orgs[org]},
                seed=f"seed-{n}",
                population_size=1,
                population_digest="0" * 64,
                sample_size=1,
                org_id=world.orgs[org],
                first_inspection_on=world.guard.now.date(),
                created_by=world.people["second"].account_id,
                created_at=world.guard.now + timedelta(minutes=1 + n),
                ledger_event_id=new_id(),
                digest="0" * 64,
            )
        )
    world.session.flush()


def test_checks_outside_the_jurisdiction_do_not_use_up_the_limit(world: World) -> None:
    own = _spot_check(world, size=2, include_readers=False).unwrap()  # hospital A's
    _newer_checks(world, "b", LIMIT)  # hospital B's, all newer
    listed = flows.list_spot_checks(session=world.session, guard=world.guard, principal=world.people["hospital_po"])
    assert [check.id for check in listed.unwrap()] == [own.id]
    # The municipal commission sees the city: the limit's worth, newest first.
    city = flows.list_spot_checks(session=world.session, guard=world.guard, principal=world.people["second"]).unwrap()
    assert len(city) == LIMIT and own.id not in {check.id for check in city}


def test_checks_in_another_status_do_not_use_up_the_limit(world: World) -> None:
    older = _spot_check(world, size=1, include_readers=False).unwrap()
    assert world.guard.now is not None
    world.session.add(
        SpotCheckEvent(
            check_id=older.id,
            seq=1,
            kind="closed",
            round=1,
            reason="every sampled record was properly handled",
            created_by=world.people["second"].account_id,
            created_at=world.guard.now,
            ledger_event_id=new_id(),
            digest="0" * 64,
        )
    )
    _newer_checks(world, "a", LIMIT)  # scheduled, all newer
    closed = flows.list_spot_checks(
        session=world.session, guard=world.guard, principal=world.people["inspector"], status="closed"
    ).unwrap()
    assert [check.id for check in closed] == [older.id]
    scheduled = flows.list_spot_checks(
        session=world.session, guard=world.guard, principal=world.people["inspector"], status="scheduled"
    ).unwrap()
    assert len(scheduled) == LIMIT and all(check.status == "scheduled" for check in scheduled)
