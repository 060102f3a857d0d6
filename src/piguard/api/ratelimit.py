"""Per-account rate limit on record-disclosing requests: over the allowance, a recorded 429.

A doctor who opens 300 death reports in ten minutes is scraping, whatever the policy says about
each single read. Routes that disclose record content (report reads and searches, dispatch
lists and displays, virtual-number resolutions, code presentations) run their flow through
:func:`limited` inside their one transaction. It counts the request against the account's
allowance (``identity.allowance``: one upsert); within it, the flow runs as before. Beyond it,
nothing is read: the request is recorded as one denied access event whose reason names the rate
limit, and the door answers 429 with ``Retry-After`` once that event is committed. Either way
the request leaves exactly one access event.

A search is charged by the records it returns (:func:`limited_search`): one before the flow
runs, as for any request (an empty or refused search still costs one), then one more for each
further record, into debt if need be; the answer is never cut short, the account's next
requests wait instead. An ambulance crew's own calls are not counted (:func:`crew_own_call`).
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import TypeVar

from sqlalchemy.orm import Session

from piguard.errors import DisclosureLimitError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.policy.purposes import PURPOSES
from piguard.records import service as records
from piguard.records.guard import EventDraft, Guard, Guarded, refuse

T = TypeVar("T")
S = TypeVar("S", bound=Sized)
CREW_ROLE = "emt"
REASON_PREFIX = "rate limit"


def declared_purpose(value: str | None) -> str | None:
    """The declared purpose as the flow would record it: a known ActReason code, else None."""
    code = value.strip().upper() if value else None
    return code if code in PURPOSES else None


def crew_own_call(*, session: Session, guard: Guard, principal: Principal, dispatch_id: str | None) -> bool:
    """Whether an ambulance crew member asks for their own calls: the list (None) or a call assigned to them."""
    if principal.role != CREW_ROLE or principal.kind != "human":
        return False
    if dispatch_id is None:
        return True  # a crew's list holds only the calls assigned to it (while open, plus grace)
    held = records.relationships_for(
        session=session,
        account_id=principal.account_id,
        resource_type="dispatch",
        resource_id=dispatch_id,
        at=guard.clock(),
    )
    return bool(held)


def limited_search(
    *, session: Session, guard: Guard, principal: Principal, draft: EventDraft, flow: Callable[[], Guarded[S]]
) -> Guarded[S]:
    """Like :func:`limited`, then charge each returned record beyond the first (the buckets may go into debt)."""
    outcome = limited(session=session, guard=guard, principal=principal, draft=draft, flow=flow)
    if outcome.allowed and outcome.value is not None and len(outcome.value) > 1:
        identity.charge_disclosure_allowance(
            session=session,
            settings=guard.settings,
            principal=principal,
            now=guard.clock(),
            requests=len(outcome.value) - 1,
        )
    return outcome


def limited(
    *, session: Session, guard: Guard, principal: Principal, draft: EventDraft, flow: Callable[[], Guarded[T]]
) -> Guarded[T]:
    """Run ``flow`` if the account's allowance has room; otherwise record the refusal as ``draft`` instead."""
    at = guard.clock()
    wait = identity.take_disclosure_allowance(session=session, settings=guard.settings, principal=principal, now=at)
    if wait is None:
        return flow()
    allowance = identity.describe_disclosure_allowance(settings=guard.settings, kind=principal.kind)
    reason = f"{REASON_PREFIX}: more record requests than this account's allowance ({allowance}); retry after {wait} s"
    return refuse(session, principal, draft, DisclosureLimitError(reason, retry_after=wait), at)
