"""The rules of a relative's request, as pure functions: who may ask, what for, deadlines, refusals.

Corrections (PIPL Art. 46) go to the fields the report's own correction workflow corrects
(``records.service.CORRECTABLE``); every other field is refused at registration with its reason
(``NEVER_CORRECTED``). Deletion (Art. 47) names what to delete (``ERASE_TARGETS``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from piguard.errors import ConflictError, InputError
from piguard.oversight.family.models import KINDS, RELATIONSHIPS
from piguard.records.service import CORRECTABLE

# GB/T 35273-2020 §8.7: answer a data subject's request within 30 days.
ANSWER_DAYS = 30
MIN_REFUSAL_CHARS = 20
PURPOSE = "FAMRQT"
# The issued document of each kind of request, as the family and the doors call it.
DOCUMENTS = {
    "disclosures": "account of accesses",
    "copy": "copy of the deceased's data",
    "correction": "letter answering the correction request",
    "deletion": "letter answering the deletion request",
}
# Kinds answered with a letter (``/letter``, ``piguard family letter``).
LETTER_KINDS = ("correction", "deletion")
# The certifier's reason for declining a correction, and the officer's refusal, are told to the family.
MIN_DECISION_CHARS = 20
MAX_ITEMS = 20

# Fields the family may ask to have corrected: exactly those the report's correction workflow
# corrects (the correction itself is made there, by the certifier).
FAMILY_CORRECTABLE: tuple[str, ...] = tuple(CORRECTABLE)
_CAUSE = (
    "the cause of death is the certifier's medical opinion and its coding the CDC's; it is not corrected on "
    "request: ask the certifying institution to review the certificate"
)
_WORKFLOW = "recorded by the reporting workflow, not information the family can correct"
_NOT_IN_WORKFLOW = (
    "the report's correction workflow does not correct this field; ask the certifying institution to reissue "
    "the certificate"
)
# Set from the address when the report is opened; correcting an address does not change them.
_DERIVED = (
    "set from the address when the report was opened; correcting the address does not change it, and it is not "
    "corrected on request: ask the certifying institution to reissue the certificate"
)
# Fields (as the report and the copy name them) that are never corrected this way, with the reason.
NEVER_CORRECTED: dict[str, str] = {
    "part1": _CAUSE,
    "cause_part1": _CAUSE,
    "underlying_icd10": _CAUSE,
    "investigation_record": "the certifier's investigation notes are their work product, not a statement of fact "
    "about the deceased",
    "status": _WORKFLOW,
    "certificate_no": _WORKFLOW,
    "hospital_org_id": _WORKFLOW,
    "institution": _WORKFLOW,
    "certifier_id": _WORKFLOW,
    "subject_id": _WORKFLOW,
    "district": _DERIVED,
    "compound": _DERIVED,
    "death_time": _NOT_IN_WORKFLOW,
    "place_of_death": _NOT_IN_WORKFLOW,
    "ethnicity": _NOT_IN_WORKFLOW,
    "marital_status": _NOT_IN_WORKFLOW,
    "occupation": _NOT_IN_WORKFLOW,
    "relatives": "the relatives' details are their own personal information: each relative asks for their own",
}
# An item the certifier did not decide by the due date (their referral ends then): told to the family.
LAPSED = (
    "the certifying physician did not decide this item by the due date, so it was not corrected; you may ask again, "
    "ask the certifying institution to review it, or complain to the health commission"
)
# What a deletion request may name: the deceased's data on the report, or the relatives' contact details.
ERASE_TARGETS = ("report", "relative_contacts")
# Why the report itself is kept (PIPL Art. 47 para. 2); shown to the family in the letter.
RETENTION_BASIS = (
    "The death report is the medical certificate of death, which the certifying institution must keep, and the "
    "death registration reported to the CDC's death information system; the law requires both to be kept "
    "(the rules on death certificates and death registration, Guo Wei Gui Hua Fa [2013] No. 57, and on medical "
    "records). It is not deleted. Under PIPL Article 47(2) it is only stored, protected and used for those legal "
    "duties while it must be kept."
)


# Six or more digits in a row (single spaces between them allowed): a document's number, never a description.
# Dates (2025-03-01) do not match.
_NUMBER = re.compile(r"\d(?: ?\d){5,}")
PROOF_RULE = "describe the documents checked (e.g. 'ID card; household register'), never their numbers"


def has_number(text: str) -> bool:
    """Whether ``text`` holds something like a document's number (six or more digits in a row)."""
    return _NUMBER.search(text) is not None


NUMBER_RULE = (
    "must not hold a number of six or more digits (a phone, ID or document number): the text is shown in the "
    "family's letter and to the certifier"
)


def check_no_number(text: str, where: str) -> str:
    """Free text told to others (a relative's or a certifier's reason) without a phone, ID or document number."""
    if has_number(text):
        raise InputError(NUMBER_RULE, where=where)
    return text


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
    if wanted == "letter" and kind in LETTER_KINDS:
        return
    if kind != wanted:
        raise ConflictError(
            f"the request asked for the {DOCUMENTS.get(kind, kind)}; it has no {DOCUMENTS.get(wanted, wanted)}"
        )


def require_refusal_reason(reason: str | None) -> str:
    """A refusal states its ground (e.g. the deceased's own arrangement, relationship not shown)."""
    text = (reason or "").strip()
    if len(text) < MIN_REFUSAL_CHARS:
        raise InputError(f"state the ground for refusal in at least {MIN_REFUSAL_CHARS} characters", where="reason")
    check_no_number(text, "reason")  # the family is told the ground
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
    """A copy discloses the whole record, a deletion changes it: the officer who registered it does not answer it."""
    if kind in ("copy", "deletion") and registered_by == actor_id:
        raise ConflictError(f"you registered this {kind} request; another privacy officer must answer it (four eyes)")


def correctable(field: str) -> str:
    """Why ``field`` cannot be corrected on a relative's request, or '' when it can."""
    if field in FAMILY_CORRECTABLE:
        return ""
    if field in NEVER_CORRECTED or field.startswith("relative"):
        reason = NEVER_CORRECTED.get(field, NEVER_CORRECTED["relatives"])
        return f"not corrected on a relative's request: {reason}"
    return f"unknown field; a relative may ask to correct: {', '.join(FAMILY_CORRECTABLE)}"


def require_decision_reason(reason: str | None, where: str = "reason") -> str:
    """A declined correction or a refusal tells the family why, in at least 20 characters."""
    text = (reason or "").strip()
    if len(text) < MIN_DECISION_CHARS:
        raise InputError(f"state the reason in at least {MIN_DECISION_CHARS} characters", where=where)
    return text


def check_items_decided(pending: list[tuple[int, str]]) -> None:
    """A correction request is answered once the certifier has decided every item."""
    if pending:
        named = ", ".join(f"item {position} ({field})" for position, field in pending)
        raise ConflictError(f"the certifier has not decided {named} yet; answer once every item is decided")


def check_refusable(decided: list[tuple[int, str, str]]) -> None:
    """A request with a decided item (corrected or declined) is answered, so the family is told, not refused."""
    if decided:
        named = ", ".join(f"item {position} ({field}) {outcome}" for position, field, outcome in decided)
        raise ConflictError(
            f"the certifier already decided {named}: answer the request so the family is told what was decided"
        )


def check_answerable(pending: list[tuple[int, str]], *, due_at: datetime, now: datetime) -> None:
    """A correction request is answered once every item is decided, or once its due date has passed."""
    if now <= due_at:
        check_items_decided(pending)


def is_overdue(state: str, due_at: datetime, now: datetime) -> bool:
    """Whether a request is still unanswered after its due date."""
    return state == "received" and now > due_at
