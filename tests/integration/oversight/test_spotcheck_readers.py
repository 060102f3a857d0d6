"""Spot checks: certificate prints count among a record's readers (also old prints naming no subject),
and nobody records a finding on their own accesses (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from piguard.errors import AccessDenied, TamperError
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.ledger.models import LedgerEntry
from piguard.oversight.inspections import flows
from piguard.oversight.inspections.schemas import FindingIn
from tests.integration.oversight.test_inspections_service import World, _read_events, _spot_check
from tests.integration.oversight.test_inspections_service import world as world  # the fixture


def test_a_print_without_subject_still_counts_as_a_read(world: World) -> None:
    assert world.guard.now is not None
    owner = world.people["owner"]
    for report_id in world.reports:
        # As older ledgers recorded certificate prints: the report as resource, no subject.
        ledger.append(
            session=world.session,
            event=AccessEvent(
                event_id=new_id(),
                time=world.guard.now - timedelta(hours=1),
                user_id=owner.account_id,
                role=owner.role,
                org_id=owner.org_id,
                action="print",
                resource_type="death_report",
                resource_id=report_id,
                outcome="allowed",
            ),
        )
    check = _spot_check(world, size=3).unwrap()
    sampled = {i.ref_id for i in check.items if i.item_type == "death_report"}
    printers = [i for i in check.items if i.item_type == "reader" and i.ref_id == owner.account_id]
    assert {i.parent_ref for i in printers} == sampled
    assert all(i.detail["allowed"] == 1 for i in printers)


def test_no_finding_on_ones_own_reads(world: World) -> None:
    inspector = world.people["inspector"]
    _read_events(world, world.reports, reader=inspector)
    check = _spot_check(world, size=2).unwrap()
    own = next(i for i in check.items if i.item_type == "reader" and i.ref_id == inspector.account_id)
    record = next(i for i in check.items if i.item_type == "death_report")
    before = ledger.count(session=world.session)
    for item in (own, record):
        refused = flows.record_finding(
            session=world.session,
            guard=world.guard,
            principal=inspector,
            check_id=check.id,
            data=FindingIn(item_id=item.id, outcome="satisfactory", note="all explained, nothing to see"),
        )
        assert isinstance(refused.error, AccessDenied)
        assert refused.error.policy_ids == ("conflict-of-interest",)
    denied = list(ledger.iter_events(session=world.session))[before:]
    assert [e.outcome for e in denied] == ["denied", "denied"]
    # Another inspector may.
    done = flows.record_finding(
        session=world.session,
        guard=world.guard,
        principal=world.people["second"],
        check_id=check.id,
        data=FindingIn(item_id=own.id, outcome="satisfactory", note="reads explained by the investigation"),
    )
    assert done.error is None


def test_a_read_whose_subject_column_was_edited_is_not_hidden_from_the_check(world: World) -> None:
    owner = world.people["owner"]
    _read_events(world, world.reports, reader=owner)
    # An insider with database access moves their reads to someone else in the copied column
    # (the Merkle leaf still names the deceased): the check must not silently lose them.
    world.session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.user_id == owner.account_id)
        .values(subject_id="subj-elsewhere")
        .execution_options(synchronize_session=False)
    )
    refused = _spot_check(world, size=3)
    assert isinstance(refused.error, TamperError)
