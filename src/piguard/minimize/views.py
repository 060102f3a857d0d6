"""One read model per display context: a field that is not declared here cannot leave the server."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CauseLine(_View):
    """One line of Part I: the condition, its ICD-10 code and the onset interval."""

    line: str
    text: str
    icd10: str | None = None
    interval: str | None = None


class CertifierDeceased(_View):
    """Identity as the certificate states it (ID number masked); both addresses, which the certifier corrects."""

    name: str
    sex: str
    id_number_masked: str | None
    birth_date: date | None
    ethnicity: str | None
    marital_status: str | None
    occupation: str | None
    usual_address: str | None
    household_address: str | None


class DeathDetails(_View):
    """The medical certificate of cause of death."""

    time: datetime
    place: str
    place_detail: str | None
    cause_part1: list[CauseLine]
    cause_part2: str | None
    manner: str
    underlying_icd10: str | None


class RelativeContact(_View):
    """A relative reachable only through a virtual number issued to this viewer."""

    name: str
    relationship: str
    phone_handle: str | None


class HospitalCertifierView(_View):
    """``hospital_certifier``: the issuing hospital's detailed stub."""

    context: Literal["hospital_certifier"] = "hospital_certifier"
    report_id: str
    status: str
    certificate_no: str | None
    institution_id: str
    certifier_id: str | None
    deceased: CertifierDeceased
    death: DeathDetails
    relatives: list[RelativeContact]


class AmbulanceMdtView(_View):
    """``ambulance_mdt``: what a crew needs on the vehicle screen, and nothing else."""

    context: Literal["ambulance_mdt"] = "ambulance_mdt"
    dispatch_id: str  # the call's opaque id (a ULID, no personal data): what /dispatches/{id}/display takes
    incident_id: str
    status: str
    priority: str
    pickup_address: str
    access_notes: str | None
    chief_complaint: str
    age_band: str | None
    sex: str | None
    hazards: str | None
    destination: str | None
    caller_handle: str | None


class CdcCodingView(_View):
    """``cdc_coding``: what an ICD coder needs; no name, no ID, no relatives."""

    context: Literal["cdc_coding"] = "cdc_coding"
    report_id: str
    status: str
    subject_pseudonym: str
    sex: str
    age_at_death: int | None
    district: str
    death_date: date
    place: str
    cause_part1: list[CauseLine]
    cause_part2: str | None
    manner: str
    underlying_icd10: str | None


class PoliceDeceased(_View):
    """Identity as household cancellation needs it (full ID number, household address)."""

    name: str
    sex: str
    id_number: str | None
    birth_date: date | None
    household_address: str | None


class PoliceHouseholdView(_View):
    """``police_household``: the police part for household cancellation; no causes, no contacts."""

    context: Literal["police_household"] = "police_household"
    report_id: str
    certificate_no: str | None
    deceased: PoliceDeceased
    death_date: date


class FuneralDeceased(_View):
    """Identity as the funeral home needs it (the family shows the ID card in person)."""

    name: str
    sex: str
    age_at_death: int | None
    id_number_masked: str | None


class FuneralPermitView(_View):
    """``funeral_permit``: the cremation-permit part; no causes, no addresses, no contacts."""

    context: Literal["funeral_permit"] = "funeral_permit"
    report_id: str
    certificate_no: str | None
    deceased: FuneralDeceased
    death_date: date


class ReviewDeceased(_View):
    """Identity for an investigator (ID number masked)."""

    name: str
    sex: str
    id_number_masked: str | None
    birth_date: date | None
    usual_address: str | None
    household_address: str | None


class ReviewRelative(_View):
    """A relative for an investigator (phone masked to the last four digits)."""

    name: str
    relationship: str
    phone_masked: str | None


class PrivacyReviewView(_View):
    """``privacy_review``: an open investigation's view of a record it concerns."""

    context: Literal["privacy_review"] = "privacy_review"
    report_id: str
    subject_id: str
    status: str
    certificate_no: str | None
    institution_id: str
    certifier_id: str | None
    dispatch_id: str | None
    deceased: ReviewDeceased
    death: DeathDetails
    relatives: list[ReviewRelative]


class CopyDeceased(_View):
    """The deceased's identity in full, as on the family's own certificate (ID number not masked)."""

    name: str
    sex: str
    id_number: str | None
    birth_date: date | None
    ethnicity: str | None
    marital_status: str | None
    occupation: str | None
    household_address: str | None
    usual_address: str | None


class CopyCertificate(_View):
    """The certificate: its number and status, and the institution that certified the death (by name)."""

    number: str | None
    status: str
    institution: str


class FamilyCopyView(_View):
    """``family_copy``: the deceased's own data for a close relative (PIPL Art. 49); no third parties, no staff."""

    context: Literal["family_copy"] = "family_copy"
    report_id: str
    deceased: CopyDeceased
    death: DeathDetails
    certificate: CopyCertificate


class StatisticsCell(_View):
    """One aggregate cell: deaths of a district and (Beijing) month whose cause is in one ICD-10 chapter.

    ``cause_chapter`` is the chapter's roman numeral (``I`` to ``XXII``) or ``uncoded``. Counts under
    the threshold, zero included, are suppressed (``deaths`` null), so an empty cell reads like a small one.
    """

    district: str
    month: str
    cause_chapter: str
    deaths: int | None
    suppressed: bool


class CdcStatisticsView(_View):
    """``cdc_statistics``: aggregates only; every chapter cell of each district and month, small ones suppressed."""

    context: Literal["cdc_statistics"] = "cdc_statistics"
    min_cell: int
    closed_only: bool = False  # only months that have ended (Beijing time)
    cells: list[StatisticsCell]


ReportView = HospitalCertifierView | CdcCodingView | PoliceHouseholdView | FuneralPermitView | PrivacyReviewView
