"""The rules of an investigation, as pure functions: state machine, reasons, four-eyes.

Every refusal names what is wrong and what to do instead; none touches the database.
"""

from __future__ import annotations

from datetime import date

from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.oversight.cases.models import DECISIONS, DISPOSITION_KINDS, STATES

MIN_REASON_CHARS = 10
#: As over HTTP (``schemas.Reason``) and the history's column: the CLI must not store more.
MAX_REASON_CHARS = 1000
MANAGERS = ("privacy_officer", "admin")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("investigating",),
    "investigating": ("substantiated", "unsubstantiated"),
    # A finding can be reopened (back to investigating, with the reason) until the case is closed.
    "substantiated": ("investigating", "closed"),
    "unsubstantiated": ("investigating", "closed"),
    "closed": (),
}
#: States in which the assigned investigator may read the records the case concerns.
ACTIVE = ("open", "investigating")
FOUR_EYES = "four-eyes"


def require_reason(reason: str | None, *, where: str = "reason") -> str:
    """A stated reason of ``MIN_REASON_CHARS`` to ``MAX_REASON_CHARS`` characters, stripped."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise InputError(f"state a reason of at least {MIN_REASON_CHARS} characters", where=where)
    if len(text) > MAX_REASON_CHARS:
        raise InputError(f"a reason has at most {MAX_REASON_CHARS} characters", where=where)
    return text


def check_transition(current: str, target: str) -> None:
    """Refuse a transition the state machine does not allow, saying why."""
    if target not in STATES:
        raise InputError(f"unknown state; one of {', '.join(STATES)}", where="to_state")
    if target == current:
        raise ConflictError(f"the case is already {current}")
    if target in TRANSITIONS[current]:
        return
    if current == "closed":
        raise ConflictError("the case is closed and its history is final; record a correction instead")
    if target == "closed":
        raise ConflictError(
            f"the case is {current} and cannot be closed: it must first be investigated and found "
            "substantiated or unsubstantiated"
        )
    if target in ("substantiated", "unsubstantiated"):
        raise ConflictError(f"a finding needs an investigation: the case is {current}; move it to investigating first")
    allowed = " or ".join(TRANSITIONS[current])
    raise ConflictError(f"the case is {current} and cannot go back to {target}; next state: {allowed}")


def check_close(pending_dispositions: int) -> None:
    """A case is not closed while a disposition awaits its second signature."""
    if pending_dispositions:
        raise ConflictError(
            f"{pending_dispositions} proposed disposition(s) await approval or rejection; decide them before closing"
        )


def check_reopen(*, pending: int, approved: int) -> None:
    """A finding is reopened only while no disposition awaits a decision or stands approved on it."""
    if approved:
        raise ConflictError(
            f"{approved} approved disposition(s) rest on this finding: it is not reopened; record a correction instead"
        )
    if pending:
        raise ConflictError(f"{pending} proposed disposition(s) await approval or rejection; decide them first")


def check_can_change(state: str, what: str) -> None:
    """Subjects, assignment and evidence change only while the case is not closed (subjects: only while active)."""
    if state == "closed":
        raise ConflictError(f"the case is closed: no {what} can be added; record a correction instead")
    if what in ("subject", "assignment") and state not in ACTIVE:
        raise ConflictError(f"the case is {state}, no longer under investigation: no {what} can be changed")


def check_assignee(role: str, disabled: bool) -> None:
    """Cases are assigned to active privacy officers (the investigator-read policy requires the role)."""
    if disabled:
        raise InputError("the assignee's account is disabled", where="assignee_id")
    if role != "privacy_officer":
        raise InputError("cases are assigned to a privacy officer", where="assignee_id")


def check_proposal(state: str, kind: str, effective: date, opened: date) -> None:
    """Dispositions only on substantiated cases, of a known kind, not dated before the case existed."""
    if kind not in DISPOSITION_KINDS:
        raise InputError(f"unknown disposition; one of {', '.join(DISPOSITION_KINDS)}", where="kind")
    if state != "substantiated":
        raise ConflictError(f"dispositions are proposed only on substantiated cases (this one is {state})")
    if effective < opened:
        raise InputError("a disposition cannot take effect before the case was opened (no backdating)", where="date")


def check_decision(*, decision: str, proposer_id: str, decider_id: str, already: str | None, state: str) -> None:
    """Four-eyes: a second, different person approves or rejects a disposition, once."""
    if decision not in DECISIONS:
        raise InputError(f"decision must be one of {', '.join(DECISIONS)}", where="decision")
    if proposer_id == decider_id:
        raise AccessDenied(
            "four-eyes rule: the person who proposed a disposition cannot approve or reject it; "
            "another privacy officer or administrator must decide",
            policy_ids=(FOUR_EYES,),
        )
    if already is not None:
        raise ConflictError(f"this disposition was already {already}; record a correction instead")
    if state != "substantiated":
        raise ConflictError(f"dispositions are decided only while the case is substantiated (it is {state})")


def check_source(*, source: str, source_ref: str | None, has_alert: bool) -> None:
    """An alert, complaint or canary case names what it came from."""
    if has_alert and source != "alert":
        raise InputError("an alert is given only with source 'alert'", where="alert")
    if source in ("alert", "complaint", "canary") and not (source_ref or has_alert):
        raise InputError(f"a case from a {source} names it (the {source} id)", where="source_ref")


def check_evidence(*, kind: str, sha256: str | None) -> None:
    """Documents and evidence bundles are attached with the SHA-256 that identifies them."""
    if kind in ("document", "evidence_bundle") and sha256 is None:
        raise InputError(f"a {kind} is attached with its sha256", where="sha256")


CONFLICT = "conflict-of-interest"


def check_not_involved(*, actor_id: str, suspect_id: str | None, what: str = "this case") -> None:
    """Nobody investigates, reads or decides on a case about themselves."""
    if suspect_id is not None and actor_id == suspect_id:
        raise AccessDenied(
            f"conflict of interest: you are the person under investigation in {what}", policy_ids=(CONFLICT,)
        )


def check_assignee_not_suspect(*, assignee_id: str, suspect_id: str | None) -> None:
    """The person under investigation is never its investigator (a conflict of interest, like acting on it)."""
    if suspect_id is not None and assignee_id == suspect_id:
        raise AccessDenied(
            "conflict of interest: the person under investigation cannot investigate the case", policy_ids=(CONFLICT,)
        )
