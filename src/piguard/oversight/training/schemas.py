"""Training read models and inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "due": a mandatory course that does not bind yet (its adoption period), not passed for then.
CourseState = Literal["valid", "expiring", "lapsed", "missing", "due"]


class CourseIn(BaseModel):
    """A new course for the catalogue."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str = Field(min_length=3, max_length=200)
    mandatory: bool = False
    validity_days: int = Field(ge=1, le=3660)
    pass_mark: int = Field(default=80, ge=0, le=100)
    requires_attestation: bool = False
    # When a mandatory course starts to gate access; default 30 days after it is added.
    binds_from: datetime | None = None


class CourseOut(BaseModel):
    """A course of the catalogue."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    code: str
    title: str
    mandatory: bool
    validity_days: int
    pass_mark: int
    requires_attestation: bool = False
    created_at: datetime | None = None
    binds_from: datetime | None = None  # None: the built-in course, which always binds


class CompletionIn(BaseModel):
    """A course taken by an account: when and with what score (the pass mark is the course's)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    account_id: str = Field(min_length=1, max_length=26)
    course_code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    score: int = Field(ge=0, le=100)
    completed_at: datetime


class CompletionOut(BaseModel):
    """A recorded completion."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    account_id: str
    course_code: str
    completed_at: datetime
    score: int
    pass_mark: int | None = None
    valid_until: datetime


class AttestationOut(BaseModel):
    """A recorded attestation of the rules text."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    account_id: str
    text_version: str
    text_sha256: str
    attested_at: datetime


class CourseStatus(BaseModel):
    """One mandatory course for one account."""

    model_config = ConfigDict(frozen=True)

    course_code: str
    valid_until: datetime | None
    state: CourseState
    days_left: int | None


class TrainingStatus(BaseModel):
    """An account's training: the gate's verdict, each mandatory course, the attestation."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    username: str
    org_id: str
    training_ok: bool
    valid_until: datetime | None
    courses: list[CourseStatus]
    attested_version: str | None = None
    attested_at: datetime | None = None
    attestation_current: bool = False
    completions: list[CompletionOut] = Field(default_factory=list)


class Reminder(BaseModel):
    """A mandatory course that lapses within the reminder window (or has lapsed, or was never passed)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    username: str
    display_name: str
    org_id: str
    course_code: str
    valid_until: datetime | None
    state: CourseState
    days_left: int | None


class RulesText(BaseModel):
    """The rules text people attest to, with its version and SHA-256."""

    model_config = ConfigDict(frozen=True)

    version: str
    sha256: str
    text: str
