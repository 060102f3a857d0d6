"""Per-account rate limit on record-disclosing requests: over the allowance, a recorded 429.

A doctor who opens 300 death reports in ten minutes is scraping, whatever the policy says about
each single read. Routes that disclose record content (report reads and searches, dispatch
lists and displays, virtual-number resolutions, code presentations) run their flow through
:func:`limited` inside their one transaction. It counts the request against the account's
allowance (``identity.allowance``: one upsert); within it, the flow runs as before. Beyond it,
nothing is read: the request is recorded as one denied access event whose reason names the rate
limit, and the door answers 429 with ``Retry-After`` once that event is committed. Either way
the request leaves exactly one access event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from piguard.errors import DisclosureLimitError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.policy.purposes import PURPOSES
from piguard.records.guard import EventDraft, Guard, Guarded, refuse

T = TypeVar("T")
REASON_PREFIX = "rate limit"


def declared_purpose(value: str | None) -> str | None:
    """The declared purpose as the flow would record it: a known ActReason code, else None."""
    code = value.strip().upper() if value else None
    return code if code in PURPOSES else None


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
