"""Death-information tables: organisations, vehicles, death reports, dispatches, relationships.

Relationships are created only by workflows (certify, assign crew, assign coder, present a code,
open an investigation); they are what the policy accepts as a reason to see a record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from piguard.db.base import Base, IdMixin, utcnow


def org_name_key(name: str) -> str:
    """An organisation name as compared for uniqueness: runs of whitespace made one space, casefolded."""
    return " ".join(name.split()).casefold()


class Organisation(IdMixin, Base):
    """An institution in a jurisdiction: hospital, emergency centre, CDC, police, funeral home, ..."""

    __tablename__ = "organisations"
    # Names are unique in a district, case and spacing aside: enforced by the database, so two
    # operators registering the same name at the same moment cannot both succeed.
    __table_args__ = (UniqueConstraint("district", "name_key", name="uq_organisations_district_name_key"),)

    name: Mapped[str] = mapped_column(String(200))
    # ``org_name_key(name)``, kept by ``_name_changed``; casefolding may lengthen a name (ß -> ss).
    name_key: Mapped[str] = mapped_column(String(600))
    org_type: Mapped[str] = mapped_column(String(32), index=True)
    district: Mapped[str] = mapped_column(String(12), index=True)  # GB/T 2260 adcode, e.g. 310112
    level: Mapped[str] = mapped_column(String(16), default="district")  # district | municipal
    beds: Mapped[int | None] = mapped_column(Integer, default=None)

    @validates("name")
    def _name_changed(self, _key: str, name: str) -> str:
        self.name_key = org_name_key(name)
        return name


class Vehicle(IdMixin, Base):
    """An ambulance and its mobile data terminal (MDT)."""

    __tablename__ = "vehicles"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    call_sign: Mapped[str] = mapped_column(String(32))
    terminal_id: Mapped[str] = mapped_column(String(64), unique=True)


class DeathReport(IdMixin, Base):
    """One death report (居民死亡医学证明 / WHO certificate of cause of death)."""

    __tablename__ = "death_reports"

    subject_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    certificate_no: Mapped[str | None] = mapped_column(String(32), default=None, unique=True)
    # Deceased identity.
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(8))
    id_number: Mapped[str | None] = mapped_column(String(32), default=None)
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    ethnicity: Mapped[str | None] = mapped_column(String(32), default=None)
    marital_status: Mapped[str | None] = mapped_column(String(16), default=None)
    occupation: Mapped[str | None] = mapped_column(String(64), default=None)
    household_address: Mapped[str | None] = mapped_column(String(300), default=None)
    usual_address: Mapped[str | None] = mapped_column(String(300), default=None)
    district: Mapped[str] = mapped_column(String(12), index=True)
    compound: Mapped[str | None] = mapped_column(String(100), default=None)
    # The death.
    death_time: Mapped[datetime] = mapped_column(index=True)
    place_of_death: Mapped[str] = mapped_column(String(32))  # hospital | home | en_route | care_home | other
    place_detail: Mapped[str | None] = mapped_column(String(300), default=None)
    part1: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{line, text, icd10, interval}]
    part2: Mapped[str | None] = mapped_column(Text, default=None)
    manner: Mapped[str] = mapped_column(String(16), default="natural")
    underlying_icd10: Mapped[str | None] = mapped_column(String(16), default=None)
    investigation_record: Mapped[str | None] = mapped_column(Text, default=None)
    # Who and where.
    hospital_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    certifier_id: Mapped[str | None] = mapped_column(String(26), default=None)
    dispatch_id: Mapped[str | None] = mapped_column(ForeignKey("dispatches.id"), default=None)
    is_canary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    certified_at: Mapped[datetime | None] = mapped_column(default=None)
    reported_at: Mapped[datetime | None] = mapped_column(default=None)
    coded_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    relatives: Mapped[list[Relative]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Relative.position"
    )


class Relative(IdMixin, Base):
    """A contactable relative of the deceased."""

    __tablename__ = "relatives"

    report_id: Mapped[str] = mapped_column(ForeignKey("death_reports.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    relationship_to_deceased: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    address: Mapped[str | None] = mapped_column(String(300), default=None)

    report: Mapped[DeathReport] = relationship(back_populates="relatives")


class ReportCorrection(IdMixin, Base):
    """A correction to a report: who, when, which field and why (history is never rewritten)."""

    __tablename__ = "report_corrections"

    report_id: Mapped[str] = mapped_column(ForeignKey("death_reports.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(26))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text, default=None)
    new_value: Mapped[str | None] = mapped_column(Text, default=None)
    reason: Mapped[str] = mapped_column(String(500))


class CertificatePart(IdMixin, Base):
    """A part of the certificate handed to the family, with its one-time presentation code."""

    __tablename__ = "certificate_parts"
    __table_args__ = (UniqueConstraint("report_id", "part"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("death_reports.id"), index=True)
    part: Mapped[str] = mapped_column(String(16))  # police | funeral | family
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    presented_at: Mapped[datetime | None] = mapped_column(default=None)
    presented_by: Mapped[str | None] = mapped_column(String(26), default=None)
    presented_org_id: Mapped[str | None] = mapped_column(String(26), default=None)


class Dispatch(IdMixin, Base):
    """An ambulance call."""

    __tablename__ = "dispatches"

    incident_no: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    district: Mapped[str] = mapped_column(String(12), index=True)
    priority: Mapped[str] = mapped_column(String(8))
    pickup_address: Mapped[str] = mapped_column(String(300))
    access_notes: Mapped[str | None] = mapped_column(String(300), default=None)
    chief_complaint: Mapped[str] = mapped_column(String(200))
    patient_age: Mapped[int | None] = mapped_column(Integer, default=None)
    patient_sex: Mapped[str | None] = mapped_column(String(8), default=None)
    hazards: Mapped[str | None] = mapped_column(String(200), default=None)
    destination: Mapped[str | None] = mapped_column(String(200), default=None)
    caller_phone: Mapped[str | None] = mapped_column(String(32), default=None)
    vehicle_id: Mapped[str | None] = mapped_column(ForeignKey("vehicles.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="assigned", index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    en_route_at: Mapped[datetime | None] = mapped_column(default=None)
    on_scene_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class TaskRelationship(IdMixin, Base):
    """A workflow-created reason for an account to see a record (FORMATS.md §2 relationships)."""

    __tablename__ = "task_relationships"
    __table_args__ = (Index("ix_task_relationships_lookup", "account_id", "resource_type", "resource_id"),)

    account_id: Mapped[str] = mapped_column(String(26), index=True)
    resource_type: Mapped[str] = mapped_column(String(32))  # death_report | dispatch
    resource_id: Mapped[str] = mapped_column(String(26), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None)
    kind: Mapped[str] = mapped_column(String(32))  # certifier attending crew coder registrar funeral investigator
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(64))  # the workflow step that created it
