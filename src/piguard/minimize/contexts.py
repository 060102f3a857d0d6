"""Display contexts: which read model a screen gets, and the projection onto it (pure).

``project`` builds the context's read model from a stored record. Contacts never leave as
numbers: the ``HandleIssuer`` turns each into a virtual number bound to the viewer.

``family_copy`` is not a screen: it is the copy of a deceased person's data issued to a close
relative (PIPL Art. 49), built only by ``project_family_copy`` from the relatives' request flow.
It is deliberately absent from ``REPORT_CONTEXTS``, so no ``?context=`` on the staff read path
can select it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from piguard.errors import UnknownContextError
from piguard.identity.schemas import Principal
from piguard.localtime import beijing_date
from piguard.minimize.handles import HandleIssuer
from piguard.minimize.operators import age_band, mask, pseudonymize
from piguard.minimize.views import (
    AmbulanceMdtView,
    CauseLine,
    CdcCodingView,
    CertifierDeceased,
    CopyCertificate,
    CopyDeceased,
    DeathDetails,
    FamilyCopyView,
    FuneralDeceased,
    FuneralPermitView,
    HospitalCertifierView,
    PoliceDeceased,
    PoliceHouseholdView,
    PrivacyReviewView,
    RelativeContact,
    ReviewDeceased,
    ReviewRelative,
)
from piguard.records.schemas import DispatchRecord, ReportRecord

REPORT_CONTEXTS = ("hospital_certifier", "cdc_coding", "police_household", "funeral_permit", "privacy_review")
DISPATCH_CONTEXTS = ("ambulance_mdt",)
AGGREGATE_CONTEXTS = ("cdc_statistics",)
DOCUMENT_CONTEXTS = ("family_copy",)  # documents issued to people outside, never a staff screen
CONTEXTS = REPORT_CONTEXTS + DISPATCH_CONTEXTS + AGGREGATE_CONTEXTS + DOCUMENT_CONTEXTS

# The screen each role works on when it reads a death report.
ROLE_REPORT_CONTEXT = {
    "physician": "hospital_certifier",
    "nurse": "hospital_certifier",
    "emt": "hospital_certifier",
    "cdc_coder": "cdc_coding",
    "cdc_epidemiologist": "cdc_coding",
    "police_registrar": "police_household",
    "funeral_clerk": "funeral_permit",
    "privacy_officer": "privacy_review",
}


def parse_context(value: str | None, *, role: str, kind: str = "report") -> str:
    """The display context to use: the one asked for (validated) or the role's default."""
    allowed = REPORT_CONTEXTS if kind == "report" else DISPATCH_CONTEXTS
    if value is None or value == "":
        if kind == "dispatch":
            return "ambulance_mdt"
        return ROLE_REPORT_CONTEXT.get(role, "hospital_certifier")
    if value not in allowed:
        raise UnknownContextError(
            f"unknown display context for this resource; expected one of {', '.join(allowed)}",
            where="context",
        )
    return value


def project(
    record: ReportRecord | DispatchRecord,
    *,
    context: str,
    viewer: Principal,
    handles: HandleIssuer,
    pseudonym_key: bytes,
) -> BaseModel:
    """Project a stored record onto the read model of ``context``."""
    del viewer  # the view depends on the context; the viewer is bound through the handles
    if isinstance(record, DispatchRecord):
        if context != "ambulance_mdt":
            raise UnknownContextError("dispatches are shown only in ambulance_mdt", where="context")
        return _mdt(record, handles)
    if context == "hospital_certifier":
        return _certifier(record, handles)
    if context == "cdc_coding":
        return _coding(record, pseudonym_key)
    if context == "police_household":
        return _police(record)
    if context == "funeral_permit":
        return _funeral(record)
    if context == "privacy_review":
        return _review(record)
    raise UnknownContextError("unknown display context for a death report", where="context")


def project_family_copy(record: ReportRecord, *, institution: str) -> FamilyCopyView:
    """The copy of the deceased's own data for a close relative: no relatives, staff or free-text notes."""
    return FamilyCopyView(
        report_id=record.id,
        deceased=CopyDeceased(
            name=record.name,
            sex=record.sex,
            id_number=record.id_number,
            birth_date=record.birth_date,
            ethnicity=record.ethnicity,
            marital_status=record.marital_status,
            occupation=record.occupation,
            household_address=record.household_address,
            usual_address=record.usual_address,
        ),
        death=_death(record),
        certificate=CopyCertificate(number=record.certificate_no, status=record.status, institution=institution),
    )


def disclosed_fields(view: BaseModel) -> list[str]:
    """Dotted names of the fields a view discloses (values absent = not disclosed), e.g. ``relative.phone_handle``."""
    names: set[str] = set()
    _collect(view.model_dump(exclude_none=True), "", names)
    names.discard("context")
    return sorted(names)


def _collect(value: Any, prefix: str, names: set[str]) -> None:
    # Runs on every guarded read: a plain recursive walk over the dump, no generators.
    if type(value) is dict:
        for key, item in value.items():
            _collect(item, f"{prefix}.{key}" if prefix else key, names)
    elif type(value) is list:
        singular = prefix[:-1] if prefix.endswith("s") else prefix
        for item in value:
            if type(item) is dict or type(item) is list:
                _collect(item, singular, names)
            else:
                names.add(singular)
    else:
        names.add(prefix)


def _age(birth: date | None, at: datetime) -> int | None:
    if birth is None:
        return None
    day = beijing_date(at)  # the age on the date of death as the certificate gives it
    years = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return max(years, 0)


def _masked_id(value: str | None) -> str | None:
    return mask(value, keep_last=4) if value else None


def _causes(record: ReportRecord) -> list[CauseLine]:
    return [
        CauseLine(
            line=str(item.get("line", "")),
            text=str(item.get("text", "")),
            icd10=item.get("icd10"),
            interval=item.get("interval"),
        )
        for item in record.part1
    ]


def _death(record: ReportRecord) -> DeathDetails:
    return DeathDetails(
        time=record.death_time,
        place=record.place_of_death,
        place_detail=record.place_detail,
        cause_part1=_causes(record),
        cause_part2=record.part2,
        manner=record.manner,
        underlying_icd10=record.underlying_icd10,
    )


def _certifier(record: ReportRecord, handles: HandleIssuer) -> HospitalCertifierView:
    return HospitalCertifierView(
        report_id=record.id,
        status=record.status,
        certificate_no=record.certificate_no,
        institution_id=record.hospital_org_id,
        certifier_id=record.certifier_id,
        deceased=CertifierDeceased(
            name=record.name,
            sex=record.sex,
            id_number_masked=_masked_id(record.id_number),
            birth_date=record.birth_date,
            ethnicity=record.ethnicity,
            marital_status=record.marital_status,
            occupation=record.occupation,
            usual_address=record.usual_address,
            household_address=record.household_address,
        ),
        death=_death(record),
        relatives=[
            RelativeContact(
                name=rel.name,
                relationship=rel.relationship_to_deceased,
                phone_handle=handles(target=f"relative:{rel.id}", phone=rel.phone),
            )
            for rel in record.relatives
        ],
    )


def _coding(record: ReportRecord, key: bytes) -> CdcCodingView:
    return CdcCodingView(
        report_id=record.id,
        status=record.status,
        subject_pseudonym=pseudonymize(record.subject_id, key=key, domain="cdc_coding"),
        sex=record.sex,
        age_at_death=_age(record.birth_date, record.death_time),
        district=record.district,
        death_date=beijing_date(record.death_time),
        place=record.place_of_death,
        cause_part1=_causes(record),
        cause_part2=record.part2,
        manner=record.manner,
        underlying_icd10=record.underlying_icd10,
    )


def _police(record: ReportRecord) -> PoliceHouseholdView:
    return PoliceHouseholdView(
        report_id=record.id,
        certificate_no=record.certificate_no,
        deceased=PoliceDeceased(
            name=record.name,
            sex=record.sex,
            id_number=record.id_number,
            birth_date=record.birth_date,
            household_address=record.household_address,
        ),
        death_date=beijing_date(record.death_time),
    )


def _funeral(record: ReportRecord) -> FuneralPermitView:
    return FuneralPermitView(
        report_id=record.id,
        certificate_no=record.certificate_no,
        deceased=FuneralDeceased(
            name=record.name,
            sex=record.sex,
            age_at_death=_age(record.birth_date, record.death_time),
            id_number_masked=_masked_id(record.id_number),
        ),
        death_date=beijing_date(record.death_time),
    )


def _review(record: ReportRecord) -> PrivacyReviewView:
    return PrivacyReviewView(
        report_id=record.id,
        subject_id=record.subject_id,
        status=record.status,
        certificate_no=record.certificate_no,
        institution_id=record.hospital_org_id,
        certifier_id=record.certifier_id,
        dispatch_id=record.dispatch_id,
        deceased=ReviewDeceased(
            name=record.name,
            sex=record.sex,
            id_number_masked=_masked_id(record.id_number),
            birth_date=record.birth_date,
            usual_address=record.usual_address,
            household_address=record.household_address,
        ),
        death=_death(record),
        relatives=[
            ReviewRelative(
                name=rel.name,
                relationship=rel.relationship_to_deceased,
                phone_masked=mask(rel.phone, keep_last=4) if rel.phone else None,
            )
            for rel in record.relatives
        ],
    )


def _mdt(record: DispatchRecord, handles: HandleIssuer) -> AmbulanceMdtView:
    return AmbulanceMdtView(
        dispatch_id=record.id,
        incident_id=record.incident_no,
        status=record.status,
        priority=record.priority,
        pickup_address=record.pickup_address,
        access_notes=record.access_notes,
        chief_complaint=record.chief_complaint,
        age_band=age_band(record.patient_age) if record.patient_age is not None else None,
        sex=record.patient_sex,
        hazards=record.hazards,
        destination=record.destination,
        caller_handle=handles(target="caller", phone=record.caller_phone),
    )
