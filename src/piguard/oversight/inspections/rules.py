"""The rules of rectification follow-up and spot checks, as pure functions.

Every refusal names the field or the step and what to do instead; none touches the database.
Times are the server's: a caller never supplies "now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.oversight.inspections.models import FINDING_OUTCOMES, RECOMMENDATION_SOURCES, REVIEW_DECISIONS

MIN_REASON_CHARS = 10
INSPECTORS = ("privacy_officer", "admin")
OWN_EVIDENCE = "own-evidence"  # the id a refusal of self-verification carries
MAX_SAMPLE = 500


def require_reason(reason: str | None, *, where: str = "reason") -> str:
    """A stated reason of at least ``MIN_REASON_CHARS`` characters, stripped."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise InputError(f"state a reason of at least {MIN_REASON_CHARS} characters", where=where)
    return text


def check_aware(value: datetime, *, where: str) -> None:
    """Deadlines carry an explicit UTC offset: a bare local time is ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError("give the time with an explicit UTC offset, e.g. 2026-12-31T18:00:00+08:00", where=where)


def check_source(source: str) -> None:
    """A recommendation comes from a known kind of source."""
    if source not in RECOMMENDATION_SOURCES:
        raise InputError(f"unknown source; one of {', '.join(RECOMMENDATION_SOURCES)}", where="source")


def check_issued_on(issued_on: date, *, today: date) -> None:
    """A recommendation cannot be dated in the future."""
    if issued_on > today:
        raise InputError("the issue date is in the future", where="issued_on")


def check_new_deadline(deadline: datetime, *, now: datetime, where: str = "deadline") -> None:
    """No backdating: a deadline set now lies in the future (server time)."""
    check_aware(deadline, where=where)
    if deadline <= now:
        raise InputError(
            f"the deadline is not in the future (server time {now.isoformat(timespec='seconds')}); "
            "deadlines cannot be backdated",
            where=where,
        )


def check_extension(new_deadline: datetime, *, current: datetime, now: datetime, verified: bool) -> None:
    """An extension moves an open item's deadline later, never earlier and never into the past."""
    if verified:
        raise ConflictError("the item is verified and closed: its deadline can no longer change")
    check_new_deadline(new_deadline, now=now, where="deadline")
    if new_deadline <= current:
        raise InputError(
            f"an extension moves the deadline later than the current one ({current.isoformat(timespec='seconds')})",
            where="deadline",
        )


def check_evidence(*, sha256: str | None, reference: str | None, verified: bool) -> None:
    """Evidence names the document (its SHA-256 or a reference); a verified item takes no more."""
    if verified:
        raise ConflictError("the item is already verified and closed; no further evidence is needed")
    if sha256 is None and not (reference or "").strip():
        raise InputError("give the document's sha256 or a reference to it", where="sha256")


def check_review(
    *,
    decision: str,
    reviewer_id: str,
    submitter_id: str,
    responsible_id: str,
    current: str | None,
    correcting: bool,
    item_verified_by_other: bool,
) -> None:
    """An inspector other than the submitter (and the item's owner) decides evidence, once unless correcting."""
    if decision not in REVIEW_DECISIONS:
        raise InputError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}", where="decision")
    if reviewer_id == submitter_id:
        raise AccessDenied(
            "you submitted this evidence and cannot verify or reject it yourself; another inspector must decide",
            policy_ids=(OWN_EVIDENCE,),
        )
    if reviewer_id == responsible_id:
        raise AccessDenied(
            "you are responsible for this rectification item and cannot decide its evidence; "
            "another inspector must decide",
            policy_ids=(OWN_EVIDENCE,),
        )
    if current is not None and not correcting:
        raise ConflictError(f"this evidence was already {current}; to change the verdict, record a correction")
    if correcting and current is None:
        raise ConflictError("this evidence has no verdict yet: there is nothing to correct")
    if item_verified_by_other and decision == "verified" and not correcting:
        raise ConflictError("the item is already verified by other evidence")


@dataclass(frozen=True, slots=True)
class EvidenceState:
    """What status needs of one piece of evidence: when it came and its current verdict."""

    submitted_at: datetime
    decision: str | None  # None: awaiting review
    decided_at: datetime | None = None


def item_status(*, deadline: datetime, now: datetime, evidence: Sequence[EvidenceState]) -> str:
    """open | awaiting_review | rejected | overdue | verified, at ``now``.

    Verified evidence closes the item. Past the deadline the item is overdue unless evidence
    submitted by the deadline still awaits the inspector's verdict (the owner did their part;
    a rejection after the deadline makes it overdue).
    """
    if any(e.decision == "verified" for e in evidence):
        return "verified"
    pending = [e for e in evidence if e.decision is None]
    if now > deadline:
        if any(e.submitted_at <= deadline for e in pending):
            return "awaiting_review"
        return "overdue"
    if pending:
        return "awaiting_review"
    if evidence:
        return "rejected"
    return "open"


def verified_at(evidence: Sequence[EvidenceState]) -> datetime | None:
    """When the item was verified (the earliest standing verification), or None."""
    times = [e.decided_at for e in evidence if e.decision == "verified" and e.decided_at is not None]
    return min(times) if times else None


def days_overdue(*, deadline: datetime, now: datetime) -> int:
    """Whole days past the deadline (0 before it)."""
    return max(0, (now - deadline).days)


# --- spot checks -------------------------------------------------------------------------------


def check_sample(*, size: int, kind: str, period: tuple[date, date] | None, today: date) -> None:
    """A sample has a sensible size and a period that has begun and is not inverted."""
    if not 1 <= size <= MAX_SAMPLE:
        raise InputError(f"sample size must be between 1 and {MAX_SAMPLE}", where="size")
    if kind not in ("records", "accounts"):
        raise InputError("kind must be records or accounts", where="kind")
    if period is not None:
        start, end = period
        if end <= start:
            raise InputError("the period ends before it starts", where="period_to")
        if start > today:
            raise InputError("the period has not begun yet", where="period_from")


def check_inspection_date(when: date, *, today: date, where: str) -> None:
    """Inspections are scheduled for today or later (no backdating)."""
    if when < today:
        raise InputError("an inspection cannot be scheduled in the past", where=where)


def check_finding(*, outcome: str, closed: bool) -> None:
    """Findings are recorded on open checks, with a known outcome."""
    if closed:
        raise ConflictError("the spot check is closed; its findings are final")
    if outcome not in FINDING_OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(FINDING_OUTCOMES)}", where="outcome")


def check_reinspection(*, closed: bool, findings_this_round: int, unsatisfactory: int) -> None:
    """A re-inspection follows an inspection that found something unsatisfactory."""
    if closed:
        raise ConflictError("the spot check is closed as satisfactory; no re-inspection is needed")
    if findings_this_round == 0:
        raise ConflictError("record this round's findings before scheduling a re-inspection")
    if unsatisfactory == 0:
        raise ConflictError("no item is unsatisfactory: close the check instead of scheduling a re-inspection")


def check_close(*, closed: bool, items: int, without_finding: int, unsatisfactory: int) -> None:
    """A check is closed only as satisfactory: every item has a finding and none is unsatisfactory."""
    if closed:
        raise ConflictError("the spot check is already closed")
    if without_finding:
        raise ConflictError(f"{without_finding} of {items} item(s) have no finding yet; record them before closing")
    if unsatisfactory:
        raise ConflictError(
            f"{unsatisfactory} item(s) are unsatisfactory: schedule a re-inspection; "
            "a check is closed only as satisfactory"
        )


def check_finding_not_own(*, actor_id: str, item_type: str, ref_id: str, readers: set[str]) -> None:
    """Nobody records a finding on their own account, their own reads, or a record they read themselves."""
    if ref_id == actor_id or (item_type == "death_report" and actor_id in readers):
        raise AccessDenied(
            "conflict of interest: this item concerns your own accesses; another inspector must record its finding",
            policy_ids=("conflict-of-interest",),
        )
