"""Training tables: the course catalogue and attestations (completions live in identity's table).

Both are insert-only (the ORM refuses updates and deletes): a course is replaced by a new code,
an attestation of a newer rules text is a new row. Each row carries the id of the ledger event
appended in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin, utcnow
from piguard.errors import ConflictError


class TrainingCourse(IdMixin, Base):
    """A course: mandatory courses must all be valid for the training gate to open."""

    __tablename__ = "training_courses"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    validity_days: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer, default=80)
    # A mandatory course that requires it makes the gate also require an attestation of the current rules text.
    requires_attestation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A mandatory course gates access from this time on: staff get an adoption period to take it.
    binds_from: Mapped[datetime] = mapped_column(default=utcnow)
    ledger_event_id: Mapped[str] = mapped_column(String(26), unique=True)


class TrainingAttestation(IdMixin, Base):
    """A person's statement that they have read the rules text of the given version (its SHA-256)."""

    __tablename__ = "training_attestations"

    account_id: Mapped[str] = mapped_column(String(26), index=True)
    text_version: Mapped[str] = mapped_column(String(32))
    text_sha256: Mapped[str] = mapped_column(String(64))
    attested_at: Mapped[datetime] = mapped_column(default=utcnow)
    ledger_event_id: Mapped[str] = mapped_column(String(26), unique=True)


APPEND_ONLY = (TrainingCourse, TrainingAttestation)


def _refuse_change(_mapper: Any, _connection: Any, target: Any) -> None:
    raise ConflictError(f"{type(target).__tablename__} is append-only: add a new entry instead")


for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
