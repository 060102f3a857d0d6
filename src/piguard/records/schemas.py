"""Record snapshots handed to the minimiser (pure data; never serialised to a client as-is)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RelativeRecord(BaseModel):
    """A relative as stored."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    name: str
    relationship_to_deceased: str
    phone: str | None = None
    address: str | None = None


class ReportRecord(BaseModel):
    """A death report as stored (all fields); the minimiser decides what leaves."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    subject_id: str
    status: str
    certificate_no: str | None = None
    name: str
    sex: str
    id_number: str | None = None
    birth_date: date | None = None
    ethnicity: str | None = None
    marital_status: str | None = None
    occupation: str | None = None
    household_address: str | None = None
    usual_address: str | None = None
    district: str
    compound: str | None = None
    death_time: datetime
    place_of_death: str
    place_detail: str | None = None
    part1: list[dict[str, Any]] = Field(default_factory=list)
    part2: str | None = None
    manner: str
    underlying_icd10: str | None = None
    investigation_record: str | None = None
    hospital_org_id: str
    certifier_id: str | None = None
    dispatch_id: str | None = None
    relatives: list[RelativeRecord] = Field(default_factory=list)


class DispatchRecord(BaseModel):
    """An ambulance call as stored."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    incident_no: str
    org_id: str
    district: str
    priority: str
    pickup_address: str
    access_notes: str | None = None
    chief_complaint: str
    patient_age: int | None = None
    patient_sex: str | None = None
    hazards: str | None = None
    destination: str | None = None
    caller_phone: str | None = None
    status: str
    assigned_at: datetime
    closed_at: datetime | None = None
