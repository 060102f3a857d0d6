"""The copy a close relative receives: the deceased's own personal information as the system holds it.

PIPL Article 49 gives close relatives the rights of access *and copy* (查阅、复制) over the
deceased's personal information. The copy is the stored death report projected through the
minimiser's ``family_copy`` read model (``minimize.contexts.project_family_copy``): identity,
addresses, the death and its cause, the certificate. Other people's data (the relatives' names
and phone numbers), staff identities, the free-text investigation record and virtual-number
handles never enter it; docs/oversight.md gives the reason for each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from piguard.errors import NotFoundError
from piguard.minimize.contexts import disclosed_fields, project_family_copy
from piguard.oversight.family import disclosures
from piguard.oversight.family.models import FamilyRequest
from piguard.oversight.family.schemas import FamilyCopy
from piguard.records import service as records

CONTEXT = "family_copy"


def build_copy(*, session: Session, request: FamilyRequest, at: datetime) -> tuple[FamilyCopy, set[str]]:
    """The copy for one request, and the accounts whose accesses to the record are in the ledger."""
    record = records.get_report_record(session=session, report_id=request.report_id)
    if record is None:
        raise NotFoundError("death report not found")
    institution = records.get_organisation(session=session, org_id=record.hospital_org_id).name
    copy = FamilyCopy(
        request_id=request.id,
        requester_name=request.requester_name,
        relationship=request.relationship,
        issued_at=at,
        record=project_family_copy(record, institution=institution),
    )
    return copy, disclosures.record_readers(session, request.report_id)


def fields_of(copy: FamilyCopy) -> list[str]:
    """The dotted names of the record's fields the copy discloses (what the ledger event lists)."""
    return disclosed_fields(copy.record)
