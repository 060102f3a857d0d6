"""A close relative's request about a deceased person's record: the account of accesses, or a copy.

PIPL Article 49 lets the close relatives of a deceased person exercise the rights of access and
copy over the deceased's personal information for their own lawful, legitimate interests,
unless the deceased arranged otherwise. A request is registered by a privacy officer who
checked the requester's identity and relationship in person, then answered according to its
kind (the account of every access recorded in the ledger, or a copy of the deceased's personal
information the system holds), or refused with the reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin

STATES = ("received", "answered", "refused")
# What is asked for: the account of accesses (who saw the record) or a copy of the deceased's data.
KINDS = ("disclosures", "copy")
# Civil Code Article 1045: spouse, parents, children, siblings, grandparents, grandchildren.
RELATIONSHIPS = ("spouse", "parent", "child", "sibling", "grandparent", "grandchild")


class FamilyRequest(IdMixin, Base):
    """One request; the answer is kept exactly as issued (canonical JSON and its SHA-256)."""

    __tablename__ = "family_requests"

    report_id: Mapped[str] = mapped_column(ForeignKey("death_reports.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    requester_name: Mapped[str] = mapped_column(String(100))
    relationship: Mapped[str] = mapped_column(String(16))  # see RELATIONSHIPS
    # See KINDS; requests registered before copies existed asked for the account.
    kind: Mapped[str] = mapped_column(String(16), default="disclosures", server_default="disclosures")
    # What the officer checked (documents seen), never the documents' numbers.
    proof: Mapped[str] = mapped_column(String(300))
    received_by: Mapped[str] = mapped_column(String(26))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), default="received", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(26), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    refusal_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    answer_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
