"""What callers send and get back for investigations (shared by the API, the CLI and the service).

Inputs forbid unknown fields, so a client cannot slip in a time of its own: every time in a
case's history is the server's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

State = Literal["open", "investigating", "substantiated", "unsubstantiated", "closed"]
Source = Literal["alert", "complaint", "canary", "manual"]
EvidenceKind = Literal["alert", "ledger_event", "evidence_bundle", "document"]
DispositionKind = Literal[
    "warning",
    "retraining",
    "fine",
    "suspension_of_practice",
    "contract_termination",
    "referral_police",
    "referral_procuratorate",
]
Reason = Field(min_length=10, max_length=1000, description="Why, in at least 10 characters")
Id = Field(min_length=1, max_length=128)
SHA256 = r"^[0-9a-f]{64}$"


def _printable_id(value: str) -> str:
    # An id is copied into exports and matched against the ledger: no control or layout characters.
    if not value.isprintable():
        raise ValueError("an event id has no control, line-break or tab characters")
    return value


EVENT_ID_CHARS = 128  # the ledger's ``event_id`` column, and FORMATS.md section 1
#: A ledger event id as FORMATS.md section 1 allows it: non-empty, printable, at most 128 characters.
EventId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=EVENT_ID_CHARS),
    AfterValidator(_printable_id),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AlertReasonIn(_In):
    """One reason of an alert (FORMATS.md section 5)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    detector: str = Field(default="", max_length=64)
    text: str = Field(default="", max_length=1000)
    event_ids: list[EventId] = Field(default_factory=list, max_length=1000)


class AlertIn(_In):
    """An alert as ``piguard detect --format json`` writes it (FORMATS.md section 5); extra keys ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    alert_id: str = Id
    user_id: str = Id
    severity: str | None = Field(default=None, max_length=16)
    subject_ids: list[str] = Field(default_factory=list, max_length=1000)
    reasons: list[AlertReasonIn] = Field(default_factory=list, max_length=100)

    def event_ids(self) -> list[str]:
        """The ledger events the alert cites, in order, without repeats."""
        return list(dict.fromkeys(e for reason in self.reasons for e in reason.event_ids))


class CaseOpen(_In):
    """Open a case: from an alert, a complaint, a canary hit, or by hand."""

    title: str = Field(min_length=3, max_length=200)
    source: Source
    source_ref: str | None = Field(default=None, max_length=128, description="alert, complaint or canary id")
    suspect_user_id: str | None = Field(default=None, max_length=128)
    org_id: str | None = Field(default=None, max_length=26, description="organisation concerned")
    assignee_id: str = Field(min_length=1, max_length=26, description="the investigating privacy officer")
    subjects: list[str] = Field(
        default_factory=list, max_length=200, description="death report ids or subject ids the case concerns"
    )
    reason: str = Reason
    alert: AlertIn | None = Field(default=None, description="the alert itself, when opened from one")


class TransitionIn(_In):
    """Move a case to its next state, saying why."""

    to_state: State
    reason: str = Reason


class SubjectsIn(_In):
    """Further records the case concerns."""

    subjects: list[str] = Field(min_length=1, max_length=200)
    reason: str = Reason


class AssignIn(_In):
    """Hand the case to another privacy officer."""

    assignee_id: str = Field(min_length=1, max_length=26)
    reason: str = Reason


class EvidenceIn(_In):
    """Evidence by reference; documents and bundles are identified by their SHA-256."""

    kind: EvidenceKind
    reference: str = Field(min_length=1, max_length=300, description="alert id, event id, bundle or document name")
    sha256: str | None = Field(default=None, pattern=SHA256, description="lower-case hex SHA-256 of the file")
    description: str | None = Field(default=None, max_length=500)
    event_ids: list[EventId] = Field(default_factory=list, max_length=1000, description="ledger events it cites")
    reason: str = Reason

    @field_validator("reference")
    @classmethod
    def _event_reference(cls, value: str, info: ValidationInfo) -> str:
        # A ledger event is cited by its reference: it is an event id like those of ``event_ids``.
        if info.data.get("kind") == "ledger_event":
            if len(value) > EVENT_ID_CHARS:
                raise ValueError(f"an event id has at most {EVENT_ID_CHARS} characters")
            _printable_id(value)
        return value


class CorrectionIn(_In):
    """A correction of an earlier history entry (the entry itself is never edited)."""

    corrects_seq: int = Field(ge=1, le=2**31 - 1, description="number of the history entry being corrected")
    reason: str = Reason


class DispositionIn(_In):
    """A proposed sanction, with the date it takes effect and the authority imposing it."""

    kind: DispositionKind
    target_user_id: str = Id
    effective_date: date
    authority: str = Field(min_length=2, max_length=200)
    detail: str | None = Field(default=None, max_length=500)
    reason: str = Reason


class DecisionIn(_In):
    """The second person's verdict on a proposed disposition."""

    decision: Literal["approved", "rejected"] = "approved"
    reason: str = Reason


class EventOut(BaseModel):
    """One history entry."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str
    ref_id: str | None
    actor_id: str
    at: datetime
    ledger_event_id: str
    digest: str


class SubjectOut(BaseModel):
    """A record the case concerns."""

    model_config = ConfigDict(from_attributes=True)

    report_id: str
    subject_id: str
    added_at: datetime


class EvidenceOut(BaseModel):
    """Attached evidence."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    reference: str
    sha256: str | None
    description: str | None
    event_ids: list[str]
    added_by: str
    added_at: datetime


class DispositionOut(BaseModel):
    """A disposition and where it stands (proposed, approved or rejected)."""

    id: str
    kind: str
    target_user_id: str
    effective_date: date
    authority: str
    detail: str | None
    reason: str
    proposed_by: str
    proposed_at: datetime
    status: Literal["proposed", "approved", "rejected"]
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


class CaseOut(BaseModel):
    """A case as listed."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    source: str
    source_ref: str | None
    suspect_user_id: str | None
    org_id: str | None
    state: str
    assignee_id: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None


class CaseDetail(CaseOut):
    """A case with its subjects, evidence, dispositions and full history."""

    subjects: list[SubjectOut]
    evidence: list[EvidenceOut]
    dispositions: list[DispositionOut]
    history: list[EventOut]
