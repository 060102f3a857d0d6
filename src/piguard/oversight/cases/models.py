"""Investigation tables: cases, their append-only history, subjects, evidence and dispositions.

History is never rewritten: ``oversight_case_events``, subjects, evidence, dispositions and their
decisions are insert-only (the ORM refuses updates and deletes of them; a correction is a new
event). ``OversightCase.state``/``assignee_id``/``closed_at`` are a projection of the events,
kept so lists and reports need no replay; only the case service writes them, in the same
transaction as the event that changes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin, utcnow
from piguard.errors import ConflictError

STATES = ("open", "investigating", "substantiated", "unsubstantiated", "closed")
SOURCES = ("alert", "complaint", "canary", "manual")
EVIDENCE_KINDS = ("alert", "ledger_event", "evidence_bundle", "document")
DISPOSITION_KINDS = (
    "warning",
    "retraining",
    "fine",
    "suspension_of_practice",
    "contract_termination",
    "referral_police",
    "referral_procuratorate",
)
DECISIONS = ("approved", "rejected")


class OversightCase(IdMixin, Base):
    """One investigation into suspected misuse of the records."""

    __tablename__ = "oversight_cases"

    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # alert | complaint | canary | manual
    source_ref: Mapped[str | None] = mapped_column(String(128), default=None)  # alert id, complaint id, canary report
    # The person whose accesses are investigated: an account id here or a user id from another system's log.
    suspect_user_id: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    # The organisation concerned (the suspect's, when known): monthly reports group cases by it.
    org_id: Mapped[str | None] = mapped_column(String(26), default=None, index=True)
    opened_by: Mapped[str] = mapped_column(String(26))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Projection of the history (see module docstring).
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    assignee_id: Mapped[str] = mapped_column(String(26), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseEvent(IdMixin, Base):
    """One entry of a case's history (insert-only); ``digest`` is also written to the ledger event."""

    __tablename__ = "oversight_case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("oversight_cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the case
    # opened assigned transition subject_added evidence_added disposition_proposed
    # disposition_approved disposition_rejected correction
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    reason: Mapped[str] = mapped_column(String(1000))
    ref_id: Mapped[str | None] = mapped_column(String(128), default=None)  # subject/evidence/disposition/event
    actor_id: Mapped[str] = mapped_column(String(26))
    at: Mapped[datetime] = mapped_column(default=utcnow)  # server time, never client-supplied
    ledger_event_id: Mapped[str] = mapped_column(String(26), unique=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the entry's canonical JSON


class CaseSubject(IdMixin, Base):
    """A deceased person's record the case concerns (the investigator may read it while investigating)."""

    __tablename__ = "oversight_case_subjects"
    __table_args__ = (UniqueConstraint("case_id", "report_id"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("oversight_cases.id"), index=True)
    report_id: Mapped[str] = mapped_column(String(26), index=True)
    subject_id: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(26))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEvidence(IdMixin, Base):
    """Evidence attached by reference (an alert, a ledger event, a bundle or a document and its hash)."""

    __tablename__ = "oversight_case_evidence"

    case_id: Mapped[str] = mapped_column(ForeignKey("oversight_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # alert | ledger_event | evidence_bundle | document
    reference: Mapped[str] = mapped_column(String(300))  # alert id, event id, bundle or document name
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)  # documents and bundles
    description: Mapped[str | None] = mapped_column(String(500), default=None)
    # Ledger event ids this evidence cites (an alert's reasons, the event itself): exported with the case.
    event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    added_by: Mapped[str] = mapped_column(String(26))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Disposition(IdMixin, Base):
    """A proposed sanction; in force only once a different officer approved it (four-eyes)."""

    __tablename__ = "oversight_dispositions"

    case_id: Mapped[str] = mapped_column(ForeignKey("oversight_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # see DISPOSITION_KINDS
    target_user_id: Mapped[str] = mapped_column(String(128), index=True)  # who is sanctioned
    effective_date: Mapped[date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(200))  # who imposes it, e.g. the district health commission
    detail: Mapped[str | None] = mapped_column(String(500), default=None)  # e.g. amount of a fine, length
    reason: Mapped[str] = mapped_column(String(1000))
    proposed_by: Mapped[str] = mapped_column(String(26))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DispositionDecision(IdMixin, Base):
    """The second person's approval or rejection of a disposition (one per disposition)."""

    __tablename__ = "oversight_disposition_decisions"

    disposition_id: Mapped[str] = mapped_column(ForeignKey("oversight_dispositions.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected
    decided_by: Mapped[str] = mapped_column(String(26))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(1000))


APPEND_ONLY = (CaseEvent, CaseSubject, CaseEvidence, Disposition, DispositionDecision)


def _refuse_change(_mapper: Any, _connection: Any, target: Any) -> None:
    raise ConflictError(f"{type(target).__tablename__} is append-only: record a correction instead")


for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
