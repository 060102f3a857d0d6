"""The rules of a relative's request, as pure functions: who may ask, what for, deadlines, refusals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from piguard.errors import ConflictError, InputError
from piguard.oversight.family.models import KINDS, RELATIONSHIPS

# GB/T 35273-2020 §8.7: answer a data subject's request within 30 days.
ANSWER_DAYS = 30
MIN_REFUSAL_CHARS = 20
PURPOSE = "FAMRQT"
# The issued document of each kind of request, as the family and the doors call it.
DOCUMENTS = {"disclosures": "account of accesses", "copy": "copy of the deceased's data"}


# Six or more digits in a row (single spaces between them allowed): a document's number, never a description.
# Dates (2025-03-01) do not match.
_NUMBER = re.compile(r"\d(?: ?\d){5,}")
PROOF_RULE = "describe the documents checked (e.g. 'ID card; household register'), never their numbers"


def has_number(text: str) -> bool:
    """Whether ``text`` holds something like a document's number (six or more digits in a row)."""
    return _NUMBER.search(text) is not None


def check_proof(proof: str) -> str:
    """What the officer checked, without any document's number (the text is never echoed back)."""
    if has_number(proof):
        raise InputError(PROOF_RULE, where="proof")
    return proof


def due_date(received_at: datetime) -> datetime:
    """When the answer is due."""
    return received_at + timedelta(days=ANSWER_DAYS)


def check_relationship(relationship: str) -> str:
    """A close relative in the sense of Civil Code Article 1045, or an error naming the choices."""
    if relationship not in RELATIONSHIPS:
        raise InputError(
            f"not a close relative under PIPL Art. 49 / Civil Code Art. 1045; one of {', '.join(RELATIONSHIPS)}",
            where="relationship",
        )
    return relationship


def check_kind(kind: str) -> str:
    """What is asked for: the account of accesses (``disclosures``) or a ``copy`` of the deceased's data."""
    if kind not in KINDS:
        raise InputError(f"unknown kind of request; one of {', '.join(KINDS)}", where="kind")
    return kind


def check_document(kind: str, wanted: str) -> None:
    """A request's answer is fetched as the document of its kind (an account is no copy, and back)."""
    if kind != wanted:
        raise ConflictError(
            f"the request asked for the {DOCUMENTS.get(kind, kind)}; it has no {DOCUMENTS.get(wanted, wanted)}"
        )


def require_refusal_reason(reason: str | None) -> str:
    """A refusal states its ground (e.g. the deceased's own arrangement, relationship not shown)."""
    text = (reason or "").strip()
    if len(text) < MIN_REFUSAL_CHARS:
        raise InputError(f"state the ground for refusal in at least {MIN_REFUSAL_CHARS} characters", where="reason")
    return text


def check_open(state: str) -> None:
    """Only a received request is answered or refused; an answer is final and re-issued as it was."""
    if state != "received":
        raise ConflictError(f"the request is already {state}; its answer is final")


def check_not_involved(actor_id: str, accessors: set[str]) -> None:
    """An officer whose own accesses are in the account does not answer it (conflict of interest)."""
    if actor_id in accessors:
        raise ConflictError("you accessed this record yourself; another privacy officer must answer this request")


def check_four_eyes(kind: str, registered_by: str, actor_id: str) -> None:
    """A copy discloses the whole record: the officer who registered the request does not also issue it."""
    if kind == "copy" and registered_by == actor_id:
        raise ConflictError("you registered this copy request; another privacy officer must answer it (four eyes)")


def is_overdue(state: str, due_at: datetime, now: datetime) -> bool:
    """Whether a request is still unanswered after its due date."""
    return state == "received" and now > due_at
