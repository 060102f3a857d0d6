"""A search in a screen or for a purpose the role may not use is refused even when nothing matches."""

from __future__ import annotations

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.records import flows
from tests.integration.records.conftest import World


def test_a_probe_with_no_records_is_a_recorded_refusal(session: Session, world: World) -> None:
    # This coder has no report assigned: the search finds nothing whatever the screen.
    coder = world.people["coder_other"]
    probe = flows.search_reports(
        session=session, guard=world.guard, principal=coder, q=None, district=None,
        purpose="PUBHLTH", context="hospital_certifier",
    )  # fmt: skip
    assert isinstance(probe.error, AccessDenied)
    assert probe.event is not None and probe.event.outcome == "denied" and probe.event.action == "search"
    marketing = flows.search_reports(
        session=session, guard=world.guard, principal=coder, q=None, district=None, purpose="HMARKT"
    )
    assert isinstance(marketing.error, AccessDenied)
    own = flows.search_reports(
        session=session, guard=world.guard, principal=coder, q=None, district=None, purpose="PUBHLTH"
    )
    assert own.error is None and own.value == []
    assert own.event is not None and own.event.outcome == "allowed"
