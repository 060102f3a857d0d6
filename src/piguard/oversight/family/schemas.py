"""Requests and answers over the API and the command line; the answer is the family's document.

A request asks for the account of accesses (``kind="disclosures"``, the default), a copy of the
deceased's personal information (``kind="copy"``), the correction of fields of the death report
(``kind="correction"``, with ``corrections``) or the deletion of data (``kind="deletion"``, with
``erase``); the answer is a ``DisclosureAccount``, a ``FamilyCopy``, a ``CorrectionLetter`` or a
``DeletionLetter``, told apart by their ``format``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from piguard.minimize.views import FamilyCopyView
from piguard.oversight.family import rules

Relationship = Literal["spouse", "parent", "child", "sibling", "grandparent", "grandchild"]
State = Literal["received", "answered", "refused"]
Kind = Literal["disclosures", "copy", "correction", "deletion"]
EraseTarget = Literal["report", "relative_contacts"]
ItemOutcome = Literal["pending", "corrected", "declined", "deleted", "kept", "not_held"]
ACCOUNT_FORMAT = "piguard-family-account/1"
COPY_FORMAT = "piguard-family-copy/1"
CORRECTION_FORMAT = "piguard-family-correction/1"
DELETION_FORMAT = "piguard-family-deletion/1"


class CorrectionIn(BaseModel):
    """One field of the death report the relative says is wrong, what it should be, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    field: str = Field(min_length=1, max_length=64, description="The report's field, e.g. 'name', 'id_number'.")
    value: str | None = Field(
        default=None, max_length=300, description="What it should read (null: it should be blank)."
    )
    reason: str = Field(
        min_length=10,
        max_length=500,
        description="Why the relative says it is wrong; no phone, ID or document numbers.",
    )

    @field_validator("field")
    @classmethod
    def _correctable(cls, value: str) -> str:
        why = rules.correctable(value)
        if why:
            raise ValueError(why)
        return value

    @field_validator("reason")
    @classmethod
    def _no_numbers(cls, value: str) -> str:
        # Shown to the certifier; the message never quotes the text.
        if rules.has_number(value):
            raise ValueError(rules.NUMBER_RULE)
        return value


class FamilyRequestIn(BaseModel):
    """A close relative's request, registered by the officer who checked identity and relationship."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    report_id: str | None = Field(default=None, min_length=1, max_length=26)
    certificate_no: str | None = Field(
        default=None,
        min_length=4,
        max_length=32,
        validate_default=True,
        description="The number printed on the family's death certificate.",
    )
    requester_name: str = Field(min_length=1, max_length=100)
    relationship: Relationship
    proof: str = Field(
        min_length=5, max_length=300, description="What was checked, e.g. 'ID card; household register'; no numbers."
    )
    kind: Kind = Field(
        default="disclosures",
        description="'disclosures': the account of who accessed the record; 'copy': a copy of the deceased's data; "
        "'correction': correct fields of the report (with corrections); 'deletion': delete data (with erase).",
    )
    corrections: list[CorrectionIn] | None = Field(
        default=None, max_length=rules.MAX_ITEMS, validate_default=True, description="A correction request's fields."
    )
    erase: list[EraseTarget] | None = Field(
        default=None,
        max_length=len(rules.ERASE_TARGETS),
        validate_default=True,
        description="What a deletion request asks to delete: 'report', 'relative_contacts'.",
    )

    @field_validator("proof")
    @classmethod
    def _no_numbers(cls, value: str) -> str:
        # The message never quotes the text: it may hold an ID number.
        if rules.has_number(value):
            raise ValueError(rules.PROOF_RULE)
        return value

    @field_validator("corrections")
    @classmethod
    def _corrections(cls, value: list[CorrectionIn] | None, info: ValidationInfo) -> list[CorrectionIn] | None:
        kind = info.data.get("kind")
        if kind == "correction" and not value:
            raise ValueError("a correction request names at least one field to correct")
        if kind not in (None, "correction") and value:
            raise ValueError("only a correction request (kind 'correction') names corrections")
        seen: dict[str, int] = {}
        for number, item in enumerate(value or [], start=1):
            if item.field in seen:
                raise ValueError(f"item {number} names '{item.field}' again (item {seen[item.field]}): one per field")
            seen[item.field] = number
        return value

    @field_validator("erase")
    @classmethod
    def _erase(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        kind = info.data.get("kind")
        if kind == "deletion" and not value:
            raise ValueError(f"a deletion request names what to delete: {', '.join(rules.ERASE_TARGETS)}")
        if kind not in (None, "deletion") and value:
            raise ValueError("only a deletion request (kind 'deletion') names what to erase")
        if value and len(set(value)) != len(value):
            raise ValueError("each target once")
        return value

    @field_validator("certificate_no")
    @classmethod
    def _one_record(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Checked on certificate_no (validated after report_id, even when absent) so the error names a field.
        if (info.data.get("report_id") is None) == (value is None):
            raise ValueError("name the record by report_id or by certificate_no (exactly one)")
        return value


class ItemOut(BaseModel):
    """One item of a correction or deletion request and its outcome."""

    model_config = ConfigDict(from_attributes=True)

    position: int
    field: str
    value: str | None = None
    grounds: str | None = None
    outcome: ItemOutcome
    decided_at: datetime | None = None
    decision_reason: str | None = None


class FamilyRequestOut(BaseModel):
    """A request and where it stands (the answer itself is fetched separately)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    report_id: str
    requester_name: str
    relationship: str
    kind: Kind
    proof: str
    received_by: str
    received_at: datetime
    due_at: datetime
    state: State
    overdue: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = None
    refusal_reason: str | None = None
    answer_sha256: str | None = None
    items: list[ItemOut] = Field(default_factory=list, description="A correction or deletion request's items.")


class CorrectionReview(BaseModel):
    """What the certifier sees of a correction request: the items, not the requester's name or proof."""

    context: Literal["family_correction"] = "family_correction"
    request_id: str
    report_id: str
    relationship: str
    received_at: datetime
    due_at: datetime
    state: State
    items: list[ItemOut]


class DecisionIn(BaseModel):
    """The certifier's decision on one item: correct it (and why), or decline it (why not: told to the family)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item: int = Field(ge=1, le=rules.MAX_ITEMS, description="The item's number (1, 2, ...).")
    decision: Literal["correct", "decline"]
    reason: str = Field(min_length=10, max_length=400, description="A decline's reason: at least 20 characters.")


class RefusalIn(BaseModel):
    """The ground for refusing (at least 20 characters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=20, max_length=1000)


class AccountLine(BaseModel):
    """One recorded access to the deceased's data, as the family sees it (no staff names or ids)."""

    time: datetime
    organisation: str
    organisation_type: str
    role: str
    staff: str = Field(description="'staff 1', 'staff 2', ...: the same person within this account")
    action: str
    record: str = Field(description="what was touched: death report, ambulance call, relative's phone, search")
    disclosed: list[str] = Field(description="kinds of information shown, e.g. cause of death")
    purpose: str | None
    purpose_meaning: str | None
    outcome: Literal["allowed", "denied"]
    emergency_access: bool
    ledger_index: int
    event_id: str


class OrganisationCount(BaseModel):
    """Accesses by one organisation."""

    organisation: str
    organisation_type: str
    allowed: int
    denied: int


class EmergencyUse(BaseModel):
    """A break-glass grant on the record and the outcome of its review."""

    granted_at: datetime
    organisation: str
    role: str
    staff: str
    review: str


class InvestigationNote(BaseModel):
    """An investigation concerning the record (no names)."""

    opened_at: datetime
    state: str


class LedgerAnchor(BaseModel):
    """The signed checkpoint the account was read against; proofs of any line can be produced from it."""

    origin: str
    tree_size: int
    root: str
    note: str


class DisclosureAccount(BaseModel):
    """Everything recorded about who accessed the deceased's data, from the record's start to ``until``."""

    format: Literal["piguard-family-account/1"] = "piguard-family-account/1"
    request_id: str
    report_id: str
    deceased_name: str
    death_time: datetime
    requester_name: str
    relationship: str
    since: datetime
    until: datetime
    accesses: int
    denied: int
    contact_disclosures: int
    by_organisation: list[OrganisationCount]
    emergency_uses: list[EmergencyUse]
    investigations: list[InvestigationNote]
    lines: list[AccountLine]
    ledger: LedgerAnchor


class FamilyCopy(BaseModel):
    """A copy of the deceased's personal information, issued to a close relative (PIPL Art. 49)."""

    format: Literal["piguard-family-copy/1"] = "piguard-family-copy/1"
    request_id: str
    requester_name: str
    relationship: str
    issued_at: datetime = Field(description="When the copy was issued: the record as the system held it then.")
    record: FamilyCopyView


class DeletedCount(BaseModel):
    """How many values of one kind were deleted (field names and counts, never the values)."""

    field: str = Field(description="'relative.phone' or 'relative.address'")
    count: int


class LetterItem(BaseModel):
    """What became of one item: corrected, declined, deleted, kept or not held, and why."""

    position: int
    field: str
    outcome: ItemOutcome
    reason: str | None = Field(default=None, description="Why it was not corrected or deleted.")
    decided_at: datetime | None = None
    deleted: list[DeletedCount] = Field(default_factory=list)


class _Letter(BaseModel):
    """The written answer to a correction or deletion request (field names, never other people's data)."""

    request_id: str
    report_id: str
    deceased_name: str
    requester_name: str
    relationship: str
    issued_at: datetime
    items: list[LetterItem]


class CorrectionLetter(_Letter):
    """The answer to a correction request (PIPL Art. 46, 49): which fields were corrected, which not and why."""

    format: Literal["piguard-family-correction/1"] = "piguard-family-correction/1"


class DeletionLetter(_Letter):
    """The answer to a deletion request (PIPL Art. 47, 49): what was deleted, what is kept and on what basis."""

    format: Literal["piguard-family-deletion/1"] = "piguard-family-deletion/1"
    remains: list[Literal["emergency_call", "search_text", "backups"]] = Field(
        default_factory=list,
        description="What the deletion did not reach: 'emergency_call' (the ambulance call's caller number, the "
        "emergency centre's record), 'search_text' (text staff typed into searches, in the access log), 'backups'.",
    )


FamilyLetter = CorrectionLetter | DeletionLetter
FamilyDocument = DisclosureAccount | FamilyCopy | CorrectionLetter | DeletionLetter
