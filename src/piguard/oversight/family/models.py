"""A close relative's request about a deceased person's record: account, copy, correction or deletion.

PIPL Article 49 lets the close relatives of a deceased person exercise the rights of Chapter IV
(access and copy, correction, deletion) over the deceased's personal information for their own
lawful, legitimate interests, unless the deceased arranged otherwise. A request is registered by
a privacy officer who checked the requester's identity and relationship in person, then answered
according to its kind (the account of every access recorded in the ledger, a copy of the
deceased's personal information the system holds, or a letter saying what was corrected or
deleted and why not), or refused with the reason. A correction or deletion request lists what it
asks for as items (``FamilyRequestItem``), each decided on its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, orm
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin

STATES = ("received", "answered", "refused")
# What is asked for: the account of accesses (who saw the record), a copy of the deceased's data,
# the correction of fields of the death report (Art. 46) or the deletion of data (Art. 47).
KINDS = ("disclosures", "copy", "correction", "deletion")
# An item's outcome: pending until decided; a correction item is corrected or declined (by the
# certifier), a deletion item deleted, kept (with its ground) or not held (nothing to delete).
ITEM_OUTCOMES = ("pending", "corrected", "declined", "deleted", "kept", "not_held")
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

    # ``orm.relationship``: the name ``relationship`` is the relative's column above.
    items: Mapped[list[FamilyRequestItem]] = orm.relationship(
        order_by="FamilyRequestItem.position", cascade="all, delete-orphan"
    )


class FamilyRequestItem(IdMixin, Base):
    """One thing a correction or deletion request asks for, and how it was decided.

    A correction item names a field of the death report and the value the relative says is
    right; a deletion item names what to delete (``report`` or ``relative_contacts``). The
    report corrections an item made are listed in ``correction_ids`` (``report_corrections``).
    """

    __tablename__ = "family_request_items"
    __table_args__ = (UniqueConstraint("request_id", "position", name="uq_family_request_items_position"),)

    request_id: Mapped[str] = mapped_column(ForeignKey("family_requests.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ...: "item 2" in the letter and the doors
    field: Mapped[str] = mapped_column(String(64))  # a report field, or a deletion target
    value: Mapped[str | None] = mapped_column(Text, default=None)  # what the field should read (corrections)
    grounds: Mapped[str | None] = mapped_column(String(500), default=None)  # the relative's reason
    outcome: Mapped[str] = mapped_column(String(16), default="pending")  # see ITEM_OUTCOMES
    decided_by: Mapped[str | None] = mapped_column(String(26), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    correction_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
