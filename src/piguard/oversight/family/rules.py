"""The rules of a relative's request, as pure functions: who may ask, deadlines, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

from piguard.errors import ConflictError, InputError
from piguard.oversight.family.models import RELATIONSHIPS

# GB/T 35273-2020 §8.7: answer a data subject's request within 30 days.
ANSWER_DAYS = 30
MIN_REFUSAL_CHARS = 20
PURPOSE = "FAMRQT"


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


def is_overdue(state: str, due_at: datetime, now: datetime) -> bool:
    """Whether a request is still unanswered after its due date."""
    return state == "received" and now > due_at
