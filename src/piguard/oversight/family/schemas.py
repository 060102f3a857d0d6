"""Requests and answers over the API and the command line; the answer is the family's document.

A request asks for the account of accesses (``kind="disclosures"``, the default) or for a copy of
the deceased's personal information (``kind="copy"``); the answer is a ``DisclosureAccount`` or a
``FamilyCopy``, told apart by their ``format``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from piguard.minimize.views import FamilyCopyView
from piguard.oversight.family import rules

Relationship = Literal["spouse", "parent", "child", "sibling", "grandparent", "grandchild"]
State = Literal["received", "answered", "refused"]
Kind = Literal["disclosures", "copy"]
ACCOUNT_FORMAT = "piguard-family-account/1"
COPY_FORMAT = "piguard-family-copy/1"


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
        description="'disclosures': the account of who accessed the record; 'copy': a copy of the deceased's data.",
    )

    @field_validator("proof")
    @classmethod
    def _no_numbers(cls, value: str) -> str:
        # The message never quotes the text: it may hold an ID number.
        if rules.has_number(value):
            raise ValueError(rules.PROOF_RULE)
        return value

    @field_validator("certificate_no")
    @classmethod
    def _one_record(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Checked on certificate_no (validated after report_id, even when absent) so the error names a field.
        if (info.data.get("report_id") is None) == (value is None):
            raise ValueError("name the record by report_id or by certificate_no (exactly one)")
        return value


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


FamilyDocument = DisclosureAccount | FamilyCopy
