"""Deleting the relatives' contact details from a death report once their purpose is achieved (PIPL Art. 47).

The relatives' phone numbers and addresses on a report are there to reach the family while the
certificate is completed and handed over. Once the report is certified and both parts the family
takes to the police and the funeral home have been issued, that purpose is achieved
(``contacts_still_needed`` says why not otherwise). Deleting them keeps the relatives' names and
relationships (the certificate, which must be kept, records who the informant was) and records
one ``ReportCorrection`` per deleted value, whose old value is *not* kept: a history holding the
number would undo the deletion. Every live virtual number issued for those relatives is revoked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from piguard.db.locking import get_for_update
from piguard.errors import NotFoundError
from piguard.minimize.models import ContactHandle
from piguard.records.models import CertificatePart, DeathReport, Relative, ReportCorrection

CONTACT_FIELDS = ("phone", "address")
# The parts the family takes away (records.service.PART_ROLE): both issued = the hand-over is done.
HANDED_OVER = frozenset({"police", "funeral"})
NOT_CERTIFIED = "the report is not certified yet: the family is still to be reached for the certificate"
NOT_HANDED_OVER = "the certificate parts have not all been issued to the family yet"


def contacts_still_needed(*, session: Session, report_id: str) -> str | None:
    """Why the relatives' contact details are still needed to reach the family, or None when they are not."""
    report = session.get(DeathReport, report_id)
    if report is None:
        raise NotFoundError("death report not found")
    if report.status == "draft":
        return NOT_CERTIFIED
    issued = set(session.scalars(select(CertificatePart.part).where(CertificatePart.report_id == report_id)))
    if not issued >= HANDED_OVER:
        return NOT_HANDED_OVER
    return None


def contacts_held(*, session: Session, report_id: str) -> bool:
    """Whether any relative on the report still has a phone number or an address (something to delete)."""
    found = session.scalar(
        select(Relative.id)
        .where(Relative.report_id == report_id, or_(Relative.phone.is_not(None), Relative.address.is_not(None)))
        .limit(1)
    )
    return found is not None


def erase_relative_contacts(
    *, session: Session, report_id: str, account_id: str, reason: str, at: datetime
) -> list[ReportCorrection]:
    """Delete every relative's phone number and address on the report; the corrections recording it.

    Each deleted value is one correction (field ``relative.<relative id>.phone`` or ``.address``)
    with neither the old nor a new value; the relatives' live virtual numbers stop resolving now.
    Nothing held: no correction, nothing changed.
    """
    report = get_for_update(session, DeathReport, report_id)
    if report is None:
        raise NotFoundError("death report not found")
    relatives = session.scalars(
        select(Relative).where(Relative.report_id == report_id).order_by(Relative.position, Relative.id)
    ).all()
    made: list[ReportCorrection] = []
    for relative in relatives:
        for name in CONTACT_FIELDS:
            if getattr(relative, name) is None:
                continue
            setattr(relative, name, None)
            made.append(
                ReportCorrection(
                    report_id=report_id,
                    account_id=account_id,
                    at=at,
                    field=f"relative.{relative.id}.{name}",
                    old_value=None,
                    new_value=None,
                    reason=reason[:500],
                )
            )
    if not made:
        return made
    session.add_all(made)
    report.version += 1
    targets = [f"relative:{relative.id}" for relative in relatives]
    session.execute(
        update(ContactHandle)
        .where(
            ContactHandle.resource_id == report_id,
            ContactHandle.target.in_(targets),
            ContactHandle.expires_at > at,
        )
        .values(expires_at=at)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return made
