"""A call to an expired or revoked virtual number is refused (404, no number) but tied to its holder in the ledger.

Brokers dial a leaked list days later, after the handle has expired: that call is the leak signal,
so its denied ``resolve_handle`` event must name the record, the deceased and the person the
handle was issued to, as an allowed resolution does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, NotFoundError
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.records import dispatch_flows, flows, support_flows
from tests.integration.records.conftest import CALLER_PHONE, NOW, RELATIVE_PHONE, World


def last_event(session: Session) -> AccessEvent:
    return list(ledger.iter_events(session=session))[-1]


def certifier_handle(session: Session, world: World) -> str:
    view = flows.read_report(
        session=session, guard=world.guard, principal=world.people["certifier"], report_id=world.report_a,
        purpose="TREAT",
    ).unwrap()  # fmt: skip
    return str(view.model_dump()["relatives"][0]["phone_handle"])


def test_an_expired_report_handle_is_a_404_whose_event_names_record_subject_and_holder(
    session: Session, world: World
) -> None:
    handle = certifier_handle(session, world)
    live = support_flows.resolve_handle(
        session=session, guard=world.guard, principal=world.people["bridge"], handle=handle
    )
    allowed = live.event
    later = world.at(NOW + timedelta(hours=73))  # report handles live 72 hours
    outcome = support_flows.resolve_handle(
        session=session, guard=later, principal=world.people["bridge"], handle=handle
    )
    assert isinstance(outcome.error, NotFoundError) and outcome.value is None
    assert RELATIVE_PHONE not in str(outcome.error)
    event = last_event(session)
    assert event == outcome.event
    assert (event.action, event.outcome, event.purpose) == ("resolve_handle", "denied", "TREAT")
    # The same binding an allowed resolution records, and the same words naming the holder.
    assert (event.resource_type, event.resource_id, event.subject_id) == (
        allowed.resource_type,
        allowed.resource_id,
        allowed.subject_id,
    )
    assert (event.resource_type, event.resource_id, event.subject_id) == ("death_report", world.report_a, "subj-a")
    assert "handle issued to acc-cert" in allowed.reason and "handle issued to acc-cert" in event.reason
    assert event.reason == "bridge-resolve-handle: handle expired (handle issued to acc-cert)"
    assert event.fields == ()  # nothing was disclosed
    with pytest.raises(NotFoundError, match="handle expired"):
        outcome.unwrap()


def test_a_revoked_caller_handle_names_the_call_and_the_crew_member(session: Session, world: World) -> None:
    view = dispatch_flows.display(
        session=session, guard=world.guard, principal=world.people["emt"], dispatch_id=world.dispatch, purpose="ETREAT"
    ).unwrap()
    handle = view.model_dump()["caller_handle"]
    dispatch_flows.close_call(session=session, guard=world.guard, dispatch_id=world.dispatch)  # the number goes dark
    soon = world.at(NOW + timedelta(minutes=1))
    outcome = support_flows.resolve_handle(session=session, guard=soon, principal=world.people["bridge"], handle=handle)
    assert isinstance(outcome.error, NotFoundError) and CALLER_PHONE not in str(outcome.error)
    event = last_event(session)
    assert (event.outcome, event.resource_type, event.resource_id) == ("denied", "dispatch", world.dispatch)
    assert event.reason.endswith("(handle issued to acc-emt)")


def test_an_unknown_handle_names_nothing(session: Session, world: World) -> None:
    outcome = support_flows.resolve_handle(
        session=session, guard=world.guard, principal=world.people["bridge"], handle="950000000000"
    )
    assert isinstance(outcome.error, NotFoundError)
    event = last_event(session)
    assert (event.action, event.outcome, event.resource_type) == ("resolve_handle", "denied", "contact")
    assert (event.resource_id, event.subject_id) == (None, None)
    assert event.reason == "unknown handle"


def test_only_the_bridge_learns_whose_an_expired_handle_was(session: Session, world: World) -> None:
    """A caller who may not resolve is refused before any lookup: its event names no holder or record."""
    handle = certifier_handle(session, world)
    later = world.at(NOW + timedelta(hours=73))
    unscoped = world.people["bridge"].model_copy(update={"scopes": ()})
    for principal in (world.people["certifier"], unscoped):
        outcome = support_flows.resolve_handle(session=session, guard=later, principal=principal, handle=handle)
        assert isinstance(outcome.error, AccessDenied)
        event = last_event(session)
        assert (event.resource_type, event.resource_id, event.subject_id) == ("contact", None, None)
        assert "issued to" not in event.reason
