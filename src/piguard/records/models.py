"""Death-information domain tables (organisations first; reports, dispatches and relationships follow)."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin


class Organisation(IdMixin, Base):
    """An institution in a jurisdiction: hospital, emergency centre, CDC, police, funeral home, ..."""

    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[str] = mapped_column(String(32), index=True)
    district: Mapped[str] = mapped_column(String(12), index=True)  # GB/T 2260 adcode, e.g. 310112
    level: Mapped[str] = mapped_column(String(16), default="district")  # district | municipal
    beds: Mapped[int | None] = mapped_column(Integer, default=None)
