"""Access events written by the identity domain (login, logout, concurrent sessions, admin changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger

# Attempts naming no existing account are recorded under this fixed id; the attempted username
# is never written (it is often a password typed into the wrong field).
UNKNOWN = "unknown"
# Changes made from the command line on the server itself, where no personal login exists.
LOCAL_OPERATOR = "local-operator"
#: The ledger's ``org_id`` for what concerns the whole installation, not one organisation.
INSTALLATION = "installation"


def record(
    session: Session,
    *,
    at: datetime,
    action: str,
    account: Account | None,
    actor: Principal | None = None,
    outcome: Literal["allowed", "denied"] = "allowed",
    reason: str,
    terminal_id: str | None = None,
    session_id: str | None = None,
    source_ip: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
) -> AccessEvent:
    """Append one identity event to the ledger in the caller's transaction.

    The event is attributed to ``actor`` when given (an administrator acting on ``account``),
    otherwise to ``account`` itself, otherwise to the fixed ``unknown`` user.
    """
    if actor is not None:
        user_id, role, org_id = actor.account_id, actor.role, actor.org_id
        terminal_id = terminal_id or actor.terminal_id
        session_id = session_id or actor.session_id
        source_ip = source_ip or actor.source_ip
    elif account is not None:
        user_id, role, org_id = account.id, account.role, account.org_id
    else:
        user_id = role = org_id = UNKNOWN
    event = AccessEvent(
        event_id=new_id(),
        time=at,
        user_id=user_id,
        role=role,
        org_id=org_id,
        terminal_id=terminal_id,
        session_id=session_id,
        source_ip=source_ip,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        reason=reason,
    )
    ledger.append(session=session, event=event)
    return event


def record_operator_disclosure(
    session: Session,
    *,
    at: datetime,
    action: str,
    resource_type: str,
    selection: str,
    count: int,
    reason: str,
    subject_id: str | None = None,
) -> AccessEvent:
    """Append an export or listing the server's operator ran from the command line (counts, no rows)."""
    event = AccessEvent(
        event_id=new_id(),
        time=at,
        user_id=LOCAL_OPERATOR,
        role="admin",
        org_id=INSTALLATION,
        action=action,
        resource_type=resource_type,
        subject_id=subject_id,
        query=selection,
        result_count=count,
        reason=reason,
    )
    ledger.append(session=session, event=event)
    return event


def record_operator_change(
    session: Session,
    *,
    at: datetime,
    org_id: str,
    action: str,
    reason: str,
    resource_type: str,
    resource_id: str,
) -> AccessEvent:
    """Append a change the server's operator made from the command line (no personal login there)."""
    operator = Principal(account_id=LOCAL_OPERATOR, username=LOCAL_OPERATOR, role="admin", org_id=org_id)
    return record(
        session,
        at=at,
        action=action,
        account=None,
        actor=operator,
        reason=reason,
        resource_type=resource_type,
        resource_id=resource_id,
    )
