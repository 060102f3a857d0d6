"""Inspection input and read models (pydantic): what the API and CLI take and show."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Sha256 = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the document, lower-case hex")


class ItemIn(BaseModel):
    """One rectification item to create."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str = Field(min_length=3, max_length=4000, description="What must be rectified")
    owner_org_id: str = Field(min_length=1, max_length=26)
    responsible_id: str = Field(min_length=1, max_length=26, description="Account id of the responsible person")
    deadline: AwareDatetime = Field(description="With a UTC offset; must lie in the future (server time)")
    required_evidence: str = Field(min_length=3, max_length=4000, description="What evidence proves it done")


class RecommendationIn(BaseModel):
    """A recommendation (procuratorial, audit finding, inspection) and the items it requires."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=32)
    reference_no: str = Field(min_length=1, max_length=100)
    issuing_authority: str = Field(min_length=2, max_length=200)
    issued_on: date
    text: str = Field(min_length=3, max_length=20000)
    org_id: str | None = Field(default=None, max_length=26)
    items: list[ItemIn] = Field(default_factory=list, max_length=200)


class EvidenceIn(BaseModel):
    """Evidence an owner submits: a description and the document's hash or a reference to it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str = Field(min_length=3, max_length=4000)
    sha256: str | None = Sha256
    reference: str | None = Field(default=None, max_length=300)


class ReviewIn(BaseModel):
    """An inspector's verdict on evidence; ``corrects_id`` names the verdict it replaces."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=1000)
    corrects_id: str | None = Field(default=None, max_length=26)


class ExtensionIn(BaseModel):
    """A new, later deadline and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    deadline: AwareDatetime
    reason: str = Field(min_length=1, max_length=1000)


class CorrectionIn(BaseModel):
    """A correction of one field (the original entry stays)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    field: str = Field(min_length=1, max_length=64)
    value: str = Field(min_length=1, max_length=20000)
    reason: str = Field(min_length=1, max_length=1000)


class SpotCheckIn(BaseModel):
    """What to sample: records of an organisation in a period (and who read them), or accounts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=200)
    kind: Literal["records", "accounts"] = "records"
    org_id: str = Field(min_length=1, max_length=26)
    period_from: date | None = None
    period_to: date | None = Field(default=None, description="Exclusive")
    role: str | None = Field(default=None, max_length=32, description="accounts: only this role")
    size: int = Field(default=20, ge=1, le=500)
    include_readers: bool = Field(default=True, description="records: list everyone who read each sampled record")
    seed: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._-]+$")
    first_inspection_on: date | None = Field(default=None, description="Default: today")


class FindingIn(BaseModel):
    """The inspector's finding on one item of a spot check."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_id: str = Field(min_length=1, max_length=26)
    outcome: Literal["satisfactory", "unsatisfactory", "not_applicable"]
    note: str = Field(min_length=1, max_length=2000)
    corrects_id: str | None = Field(default=None, max_length=26)


class ReinspectionIn(BaseModel):
    """A re-inspection date and why it is needed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scheduled_for: date
    reason: str = Field(min_length=1, max_length=1000)


class CloseIn(BaseModel):
    """Closing a spot check as satisfactory."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=1000)


# --- read models -------------------------------------------------------------------------------

_READ = ConfigDict(frozen=True)


class CorrectionOut(BaseModel):
    """A recorded correction."""

    model_config = _READ

    id: str
    field: str
    old_value: str | None
    new_value: str | None
    reason: str
    created_by: str
    created_at: datetime


class ReviewOut(BaseModel):
    """A verdict on evidence."""

    model_config = _READ

    id: str
    decision: str
    reason: str
    corrects_id: str | None
    created_by: str
    created_at: datetime


class EvidenceOut(BaseModel):
    """Submitted evidence and its current verdict (``reviews`` oldest first)."""

    model_config = _READ

    id: str
    description: str
    sha256: str | None
    reference: str | None
    created_by: str
    created_at: datetime
    decision: str | None
    reviews: list[ReviewOut]


class DeadlineOut(BaseModel):
    """A deadline extension."""

    model_config = _READ

    id: str
    previous_deadline: datetime
    new_deadline: datetime
    reason: str
    created_by: str
    created_at: datetime


class ItemOut(BaseModel):
    """A rectification item as listed: effective values and the status computed at ``as_of``."""

    model_config = _READ

    id: str
    recommendation_id: str
    reference_no: str
    seq: int
    description: str
    owner_org_id: str
    responsible_id: str
    required_evidence: str
    original_deadline: datetime
    deadline: datetime
    status: str
    overdue: bool
    days_overdue: int
    verified_at: datetime | None
    evidence_count: int
    pending_evidence: int
    # Health commissions whose jurisdiction covers the owner: an overdue item is escalated to them.
    escalated_to: list[str]
    # Who follows the item up (its recommendation's manager, ``issuer.py``): organisation | issuer |
    # oversight; for ``issuer``, the oversight body that issued it.
    managed_by: str
    issuer_org_id: str | None
    created_at: datetime
    as_of: datetime


class ItemDetail(ItemOut):
    """An item with its evidence, verdicts, deadline extensions and corrections."""

    evidence: list[EvidenceOut]
    extensions: list[DeadlineOut]
    corrections: list[CorrectionOut]


class RecommendationOut(BaseModel):
    """A recommendation with its (corrected) fields and its items."""

    model_config = _READ

    id: str
    source: str
    reference_no: str
    issuing_authority: str
    issued_on: date
    text: str
    org_id: str | None
    # Who follows it up (``issuer.py``): organisation | issuer | oversight; for ``issuer``, the
    # oversight body that recorded it (only its officers, or the municipal level's, change it).
    managed_by: str
    issuer_org_id: str | None
    created_by: str
    created_at: datetime
    items: list[ItemOut]
    corrections: list[CorrectionOut]


class SpotCheckItemOut(BaseModel):
    """One line of the check list with its current (latest, uncorrected) finding."""

    model_config = _READ

    id: str
    position: int
    item_type: str
    ref_id: str
    parent_ref: str | None
    detail: dict[str, Any]
    outcome: str | None
    finding_round: int | None


class FindingOut(BaseModel):
    """A recorded finding."""

    model_config = _READ

    id: str
    item_id: str
    round: int
    outcome: str
    note: str
    corrects_id: str | None
    created_by: str
    created_at: datetime


class SpotCheckEventOut(BaseModel):
    """A scheduled re-inspection or the closure."""

    model_config = _READ

    seq: int
    kind: str
    round: int
    scheduled_for: date | None
    reason: str
    created_by: str
    created_at: datetime


class SpotCheckOut(BaseModel):
    """A spot check as listed."""

    model_config = _READ

    id: str
    title: str
    kind: str
    org_id: str | None
    seed: str
    criteria: dict[str, Any]
    population_size: int
    population_digest: str
    sample_size: int
    status: str  # scheduled | in_progress | reinspection_scheduled | closed
    round: int
    next_inspection_on: date | None
    created_by: str
    created_at: datetime


class SpotCheckDetail(SpotCheckOut):
    """A spot check with its list, findings and history."""

    items: list[SpotCheckItemOut]
    findings: list[FindingOut]
    events: list[SpotCheckEventOut]


class Reproduction(BaseModel):
    """The outcome of re-drawing a spot check from its recorded criteria and seed."""

    model_config = _READ

    check_id: str
    seed: str
    reproduced: bool
    population_size: int
    population_digest: str
    population_matches: bool
    # The whole list re-derived (each record's readers, each account's activity) equals the stored one.
    list_matches: bool
    sample: list[str]
