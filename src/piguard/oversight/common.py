"""What the oversight flows share: the flow outcome and the account acting from the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from piguard.errors import AuthenticationError, PiguardError
from piguard.identity import service as identity
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.identity.sessions import principal_for
from piguard.policy.pdp import Decision

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """The result of an oversight flow: the value, or the refusal to raise after the commit."""

    value: T | None
    error: PiguardError | None = None
    decision: Decision | None = None

    def unwrap(self) -> T:
        """The value, or the refusal as an exception (call after the transaction committed)."""
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


def local_principal(*, session: Session, username: str, terminal_id: str = "cli") -> Principal:
    """The named account acting from the server's command line (disabled accounts cannot act)."""
    info = identity.get_account_by_username(session=session, username=username)
    account = session.get(Account, info.id)
    if account is None or account.disabled:
        raise AuthenticationError("account is disabled")
    return principal_for(session, account, session_id=None, terminal_id=terminal_id, source_ip=None)
