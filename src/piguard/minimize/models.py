"""Virtual contact handles: per-viewer stand-ins for real phone numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin, utcnow


class ContactHandle(IdMixin, Base):
    """A number-like handle bound to one viewer, one record and one purpose; resolvable only by the bridge."""

    __tablename__ = "contact_handles"
    __table_args__ = (Index("ix_contact_handles_binding", "viewer_id", "resource_id", "target", "purpose"),)

    handle: Mapped[str] = mapped_column(String(20), unique=True)
    viewer_id: Mapped[str] = mapped_column(String(26), index=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(26))
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    target: Mapped[str] = mapped_column(String(64))  # "caller" or "relative:<id>"
    purpose: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
