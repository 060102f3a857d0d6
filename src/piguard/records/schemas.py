"""Record snapshots handed to the minimiser (pure data; never serialised to a client as-is),
and the rules a report's entered fields follow (``ReportFields``: opening and correcting alike)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from piguard import resident_id
from piguard.errors import InputError, validation_reason

EARLIEST_BIRTH = date(1850, 1, 1)  # older birth dates in an ID number are typing errors


def _text(limit: int | None) -> Any:
    # Surrounding whitespace stripped; an empty string is not a value (None clears an optional field).
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=limit)


def _iso_date(value: object) -> object:
    # Lax pydantic would also read "1700000000" (or an int) as a Unix time: only dates and YYYY-MM-DD.
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        return value.strip()
    raise ValueError("must be a date as YYYY-MM-DD")


def _not_future(value: date) -> date:
    # A day of slack: "today" in Shanghai is tomorrow on a UTC server for eight hours a day.
    if value > date.today() + timedelta(days=1):
        raise ValueError("must not be in the future")
    return value


def _valid_resident_id(value: str) -> str:
    # The shape is checked before (the pattern); the area prefix is not (see piguard.resident_id).
    if len(value) == 18 and resident_id.check_character(value[:17]) != value[17]:
        raise ValueError("check character does not match")
    born = resident_id.birth_date_in(value)
    if born is None:
        raise ValueError("the birth date in the number is not a calendar date")
    if born < EARLIEST_BIRTH:
        raise ValueError(f"the birth date in the number is before {EARLIEST_BIRTH.year}")
    if born > date.today() + timedelta(days=1):
        raise ValueError("the birth date in the number is in the future")
    return value


ResidentId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^(?:[0-9]{17}[0-9Xx]|[0-9]{15})$"),
    AfterValidator(str.upper),
    AfterValidator(_valid_resident_id),
]
BirthDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_not_future)]


class ReportFields(BaseModel):
    """The rules for a report's entered fields, shared by opening a report and correcting one.

    Lengths are the ``death_reports`` column sizes; a field without ``None`` in its type is
    NOT NULL. ``check_report_field`` validates one field against its rule here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, _text(100)]
    sex: Literal["male", "female", "unknown"]
    # GB 11643: 18 characters with a matching MOD 11-2 check character (may be X), or 15 digits;
    # either way a real birth date from 1850 on (``identity_rule`` checks it, and its sex digit, against the report).
    id_number: ResidentId | None = None
    birth_date: BirthDate | None = None
    household_address: Annotated[str, _text(300)] | None = None
    usual_address: Annotated[str, _text(300)] | None = None
    place_of_death: Literal["hospital", "home", "en_route", "care_home", "other"]
    place_detail: Annotated[str, _text(300)] | None = None
    part2: Annotated[str, _text(None)] | None = None  # a Text column: no length limit
    manner: Literal["natural", "accident", "suicide", "homicide", "pending", "undetermined"] = "natural"


@cache
def _field_adapter(field: str) -> TypeAdapter[Any]:
    info = ReportFields.model_fields[field]
    annotation: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(annotation)


def check_report_field(field: str, value: object, *, where: str | None = None) -> Any:
    """``value`` as ``ReportFields.<field>`` accepts it (dates parsed, text stripped), else InputError.

    ``where`` names the input in the error (default: the field); the reason names the field and
    the rule, never the value.
    """
    try:
        return _field_adapter(field).validate_python(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        rule = "must not be null" if value is None else validation_reason(first)
        if first["type"] == "string_pattern_mismatch" and field == "id_number":
            rule = "must be a resident ID number: 18 characters (the last may be X) or 15 digits"
        raise InputError(f"{field}: {rule}", where=where or field) from None


def _birth_in_number(id_number: str, birth_date: date | None) -> date | None:
    # A 15-digit number has no century: the report's birth date gives it when the rest agrees.
    if len(id_number) == 15 and birth_date is not None and birth_date.strftime("%y%m%d") == id_number[6:12]:
        return birth_date
    return resident_id.birth_date_in(id_number)


def _sex_in_number(id_number: str) -> str:
    # GB 11643: the sequence code's last digit (17th of 18, 15th of 15) is odd for men, even for women.
    return "male" if int(id_number[16 if len(id_number) == 18 else 14]) % 2 else "female"


def identity_rule(
    field: Literal["id_number", "birth_date", "sex"],
    *,
    id_number: str | None,
    birth_date: date | None,
    death_time: datetime,
    sex: str | None = None,
) -> str | None:
    """Why ``field`` does not fit the report's other identity fields and its death, or None if it does.

    Values as ``ReportFields`` accepts them (checked alone already). A birth date may not lie
    after the death (a day's slack: the death is in UTC, the date local), the ID number's birth
    date must be ``birth_date`` and its sex digit ``sex`` (unless unknown) when both are given.
    The reason never holds a value.
    """
    sex_disagrees = id_number is not None and sex in ("male", "female") and _sex_in_number(id_number) != sex
    if field == "sex":
        return "does not agree with the sex digit in id_number" if sex_disagrees else None
    latest = (death_time + timedelta(days=1)).date()
    in_number = _birth_in_number(id_number, birth_date) if id_number else None
    disagree = in_number is not None and birth_date is not None and in_number != birth_date
    if field == "birth_date":
        if birth_date is not None and birth_date > latest:
            return "lies after the date of death"
        return "does not agree with the birth date in id_number" if disagree else None
    if in_number is not None and in_number > latest:
        return "the birth date in the number lies after the date of death"
    if disagree:
        return "the birth date in the number does not agree with birth_date"
    return "the sex digit in the number does not agree with sex" if sex_disagrees else None


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
