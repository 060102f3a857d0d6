"""The one exception tree of piguard.

``PiguardError``
    ``ConfigError``            settings, keys or policies unusable; the service refuses to start
    ``InputError``             bad input; carries ``where`` (file:line, field) and a reason
        ``InterchangeError``   a FORMATS.md file or row is malformed
        ``UnknownPurposeError`` purpose of use is not an ActReason code we accept
        ``UnknownContextError`` display context is not defined
    ``NotFoundError``          the thing does not exist (or is not visible; we never say which)
    ``AuthenticationError``    login, token or terminal binding failed
        ``AccountLockedError`` too many failures; retry after ``retry_after`` seconds
        ``TokenMisuseError``   a valid token presented from another terminal (recorded in the ledger)
    ``AccessDenied``           the policy said no; carries ``reason`` and ``policy_ids``
    ``ConflictError``          a state transition that is not allowed now
    ``LedgerError``            the audit ledger
        ``ProofError``         an inclusion or consistency proof does not verify
        ``TamperError``        stored ledger data disagrees with itself
        ``SignatureError``     a signed note does not verify
    ``DiscoveryError``         PI discovery could not read a source
    ``DetectionError``         detection could not run

Messages never contain record data; they name fields, files and lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PiguardError(Exception):
    """Base of every error piguard raises on purpose."""

    #: What the ledger event records besides the message (the caller never sees it): a refusal
    #: answered like another, so that it is no oracle, still says what it was in the audit trail.
    ledger_note: str | None = None


class ConfigError(PiguardError):
    """Configuration, keys or policies are unusable."""


class InputError(PiguardError):
    """Input was rejected; ``where`` names the file, line or field."""

    def __init__(self, reason: str, *, where: str | None = None) -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


class InterchangeError(InputError):
    """A FORMATS.md file or row is malformed."""


class UnknownPurposeError(InputError):
    """The purpose of use is not a known ActReason code."""


class UnknownContextError(InputError):
    """The display context does not exist."""


class NotFoundError(PiguardError):
    """The object does not exist or is not visible to the caller."""


class AuthenticationError(PiguardError):
    """Authentication failed."""


class AccountLockedError(AuthenticationError):
    """Too many failed logins; locked for ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"account temporarily locked; retry after {retry_after} s")


class TokenMisuseError(AuthenticationError):
    """A live token was presented from a terminal it was not issued to (a copied token)."""

    def __init__(self, reason: str, *, account_id: str, session_id: str) -> None:
        self.account_id = account_id
        self.session_id = session_id
        super().__init__(reason)


class AccessDenied(PiguardError):  # noqa: N818 - a decision, not a malfunction
    """The policy denied the request."""

    def __init__(self, reason: str, *, policy_ids: tuple[str, ...] = ()) -> None:
        self.reason = reason
        self.policy_ids = policy_ids
        super().__init__(reason)


class DisclosureLimitError(PiguardError):
    """Too many record-disclosing requests from one account; retry after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, reason: str, *, retry_after: int) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(reason)


class ConflictError(PiguardError):
    """The requested state change is not allowed in the current state."""


class LedgerError(PiguardError):
    """Base of audit-ledger errors."""


class ProofError(LedgerError):
    """A Merkle proof or its inputs are invalid."""


class TamperError(LedgerError):
    """Stored ledger data is inconsistent: something was changed."""


class SignatureError(LedgerError):
    """A signed note or checkpoint signature does not verify."""


class DiscoveryError(PiguardError):
    """PI discovery could not read or parse a source."""


class DetectionError(PiguardError):
    """Misuse detection could not run."""


# Pydantic prefixes the message of a validator's own ValueError or assert; a person reading the
# error wants the rule itself.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def validation_reason(error: Mapping[str, Any]) -> str:
    """The reason of one pydantic validation error (its ``msg``), without pydantic's own prefix."""
    message = str(error.get("msg", "invalid"))
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message
