"""Break-glass grants: one record, one hour, always flagged for review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin, utcnow


class BreakGlassGrant(IdMixin, Base):
    """Emergency access to one record, with the stated reason and its later review."""

    __tablename__ = "breakglass_grants"

    account_id: Mapped[str] = mapped_column(String(26), index=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("death_reports.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    review_status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|justified|unjustified
    reviewed_by: Mapped[str | None] = mapped_column(String(26), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str | None] = mapped_column(String(1000), default=None)
