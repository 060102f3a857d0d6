"""Inspection tables: recommendations, rectification items and their follow-up, spot checks.

Every table here is insert-only (the ORM refuses updates and deletes): status is computed from
the entries, never stored. A deadline is extended by a new ``RectificationDeadline`` entry, a
verdict on evidence or a spot-check finding is corrected by a new entry whose ``corrects_id``
names the one it replaces, and a recommendation's or item's text is corrected by an
``InspectionCorrection``. Each entry carries the id of the ledger event appended in the same
transaction and the SHA-256 of its canonical content (also written into that event's reason),
so the tables can be checked against the signed log.

Reading these tables (for the monthly report): an item's effective deadline is the
``new_deadline`` of its latest ``RectificationDeadline`` (else ``deadline``); an evidence's
verdict is its latest ``RectificationReview``; ``service.item_status`` computes the status
(open, awaiting_review, rejected, overdue, verified) at a given time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin, utcnow
from piguard.errors import ConflictError

RECOMMENDATION_SOURCES = (
    "procuratorial_recommendation",  # 检察建议
    "internal_audit",
    "health_commission_inspection",
    "external_audit",
    "other",
)
ITEM_STATUSES = ("open", "awaiting_review", "rejected", "overdue", "verified")
REVIEW_DECISIONS = ("verified", "rejected")
SPOT_CHECK_KINDS = ("records", "accounts")
SAMPLE_ITEM_TYPES = ("death_report", "account", "reader")
FINDING_OUTCOMES = ("satisfactory", "unsatisfactory", "not_applicable")
SPOT_CHECK_EVENT_KINDS = ("reinspection_scheduled", "closed")
CORRECTION_TARGETS = ("recommendation", "rectification")


class _Journal:
    """Who wrote the entry, when (server time), its ledger event and content digest."""

    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ledger_event_id: Mapped[str] = mapped_column(String(26), unique=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the entry's canonical JSON


class Recommendation(IdMixin, _Journal, Base):
    """A recommendation or finding that requires rectification (procuratorial, audit, inspection)."""

    __tablename__ = "oversight_recommendations"

    source: Mapped[str] = mapped_column(String(32))  # see RECOMMENDATION_SOURCES
    reference_no: Mapped[str] = mapped_column(String(100), index=True)  # e.g. 闵检建〔2025〕3号
    issuing_authority: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    # The organisation the recommendation is addressed to, when there is one.
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), default=None, index=True)


class RectificationItem(IdMixin, _Journal, Base):
    """One thing an owner organisation must rectify, by whom, by when, and proven how."""

    __tablename__ = "oversight_rectification_items"
    __table_args__ = (UniqueConstraint("recommendation_id", "seq"),)

    recommendation_id: Mapped[str] = mapped_column(ForeignKey("oversight_recommendations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the recommendation
    description: Mapped[str] = mapped_column(Text)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    responsible_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    deadline: Mapped[datetime] = mapped_column(index=True)  # the original deadline; see RectificationDeadline
    required_evidence: Mapped[str] = mapped_column(Text)


class RectificationDeadline(IdMixin, _Journal, Base):
    """A deadline extension: the new deadline and why (the original entry is never changed)."""

    __tablename__ = "oversight_rectification_deadlines"

    item_id: Mapped[str] = mapped_column(ForeignKey("oversight_rectification_items.id"), index=True)
    previous_deadline: Mapped[datetime] = mapped_column()
    new_deadline: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(1000))


class RectificationEvidence(IdMixin, _Journal, Base):
    """Evidence an owner submitted for an item: a description and a document hash or reference."""

    __tablename__ = "oversight_rectification_evidence"

    item_id: Mapped[str] = mapped_column(ForeignKey("oversight_rectification_items.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    reference: Mapped[str | None] = mapped_column(String(300), default=None)


class RectificationReview(IdMixin, _Journal, Base):
    """An inspector's verdict on evidence; a later review with ``corrects_id`` replaces it."""

    __tablename__ = "oversight_rectification_reviews"

    evidence_id: Mapped[str] = mapped_column(ForeignKey("oversight_rectification_evidence.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("oversight_rectification_items.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # verified | rejected
    reason: Mapped[str] = mapped_column(String(1000))
    corrects_id: Mapped[str | None] = mapped_column(
        ForeignKey("oversight_rectification_reviews.id"), default=None, unique=True
    )


class InspectionCorrection(IdMixin, _Journal, Base):
    """A correction of one field of a recommendation or rectification item (old and new value, why)."""

    __tablename__ = "oversight_inspection_corrections"

    target_type: Mapped[str] = mapped_column(String(16))  # recommendation | rectification
    target_id: Mapped[str] = mapped_column(String(26), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text, default=None)
    new_value: Mapped[str | None] = mapped_column(Text, default=None)
    reason: Mapped[str] = mapped_column(String(1000))


class SpotCheck(IdMixin, _Journal, Base):
    """A drawn sample: what population, which seed, how many; the items are fixed at drawing."""

    __tablename__ = "oversight_spot_checks"

    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # records | accounts
    # The selection that defines the population (org, period, role, sample size, readers): re-running
    # the draw with it and the seed over the same data gives the same sample.
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(64))
    population_size: Mapped[int] = mapped_column(Integer)
    population_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the sorted population ids
    sample_size: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), default=None, index=True)
    first_inspection_on: Mapped[date] = mapped_column(Date)


class SpotCheckItem(IdMixin, Base):
    """One line of a spot check's list: a sampled record or account, or someone who read a sampled record."""

    __tablename__ = "oversight_spot_check_items"
    __table_args__ = (UniqueConstraint("check_id", "position"),)

    check_id: Mapped[str] = mapped_column(ForeignKey("oversight_spot_checks.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in list order
    item_type: Mapped[str] = mapped_column(String(16))  # death_report | account | reader
    ref_id: Mapped[str] = mapped_column(String(128), index=True)  # report id or account id
    # For a reader: the sampled report they read, and how often/when (from the ledger).
    parent_ref: Mapped[str | None] = mapped_column(String(26), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SpotCheckFinding(IdMixin, _Journal, Base):
    """The inspector's finding on one item in one inspection round; ``corrects_id`` replaces an earlier one."""

    __tablename__ = "oversight_spot_check_findings"

    check_id: Mapped[str] = mapped_column(ForeignKey("oversight_spot_checks.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("oversight_spot_check_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)  # 1 = first inspection, 2 = first re-inspection, ...
    outcome: Mapped[str] = mapped_column(String(16))  # satisfactory | unsatisfactory | not_applicable
    note: Mapped[str] = mapped_column(String(2000))
    corrects_id: Mapped[str | None] = mapped_column(
        ForeignKey("oversight_spot_check_findings.id"), default=None, unique=True
    )


class SpotCheckEvent(IdMixin, _Journal, Base):
    """A re-inspection scheduled (with its date) or the check closed as satisfactory."""

    __tablename__ = "oversight_spot_check_events"
    __table_args__ = (UniqueConstraint("check_id", "seq"),)

    check_id: Mapped[str] = mapped_column(ForeignKey("oversight_spot_checks.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # reinspection_scheduled | closed
    round: Mapped[int] = mapped_column(Integer)  # the round this event opens (reinspection) or ends (closed)
    scheduled_for: Mapped[date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(String(1000))


APPEND_ONLY = (
    Recommendation,
    RectificationItem,
    RectificationDeadline,
    RectificationEvidence,
    RectificationReview,
    InspectionCorrection,
    SpotCheck,
    SpotCheckItem,
    SpotCheckFinding,
    SpotCheckEvent,
)


def _refuse_change(_mapper: Any, _connection: Any, target: Any) -> None:
    raise ConflictError(f"{type(target).__tablename__} is append-only: record a correction instead")


for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
