"""The service database in the interchange formats: context tables and the handle register.

Detection (``piguard detect``) and leak tracing (``piguard trace``) read these beside the events
exported from the ledger (``piguard audit export``), so the service is analysed with the same
tools as any other system's logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.identity import service as identity
from piguard.interchange.context import ContextTables, OrgRow, RelationshipRow, SubjectRow, UserRow
from piguard.minimize.handles import list_bindings
from piguard.records.models import DeathReport, Organisation, TaskRelationship

COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "令狐",
)
HANDLE_COLUMNS = ("handle", "user_id", "subject_id", "issued_at", "expires_at", "resource_type", "resource_id")


def surname_of(name: str) -> str | None:
    """The surname of a Chinese name (compound surnames included); None for other scripts."""
    text = name.strip()
    if not text or not ("\u4e00" <= text[0] <= "\u9fff"):
        return None
    for compound in COMPOUND_SURNAMES:
        if text.startswith(compound):
            return compound
    return text[0]


def context_tables(*, session: Session) -> ContextTables:
    """users, orgs, subjects and relationships as FORMATS.md §2 rows."""
    orgs = list(session.scalars(select(Organisation)))
    district = {org.id: org.district for org in orgs}
    users = tuple(
        UserRow(
            user_id=a.id, role=a.role, org_id=a.org_id, district=district.get(a.org_id, ""), active_from=a.created_at
        )
        for a in identity.list_accounts(session=session)
    )
    reports = list(session.scalars(select(DeathReport)))
    subjects = tuple(
        SubjectRow(
            subject_id=r.subject_id,
            death_time=r.death_time,
            district=r.district,
            compound=r.compound,
            surname=surname_of(r.name),
            is_canary=r.is_canary,
        )
        for r in reports
    )
    return ContextTables(
        users=users,
        orgs=tuple(OrgRow(org_id=o.id, org_type=o.org_type, district=o.district, name=o.name) for o in orgs),
        subjects=subjects,
        relationships=tuple(_relationships(session, {r.dispatch_id: r.subject_id for r in reports if r.dispatch_id})),
    )


def _relationships(session: Session, subject_of_dispatch: dict[str, str]) -> Iterator[RelationshipRow]:
    for rel in session.scalars(select(TaskRelationship).order_by(TaskRelationship.valid_from)):
        subject = rel.subject_id or subject_of_dispatch.get(rel.resource_id)
        if subject is None:
            continue  # a call that led to no death report concerns nobody in the subjects table
        yield RelationshipRow(
            user_id=rel.account_id, subject_id=subject, kind=rel.kind, valid_from=rel.valid_from, valid_to=rel.valid_to
        )


def handle_rows(*, session: Session, since: datetime | None = None) -> Iterator[dict[str, str | None]]:
    """The handle register: which virtual number was issued to whom, for which subject."""
    for binding in list_bindings(session=session, since=since):
        yield {
            "handle": binding.handle,
            "user_id": binding.viewer_id,
            "subject_id": binding.subject_id,
            "issued_at": binding.issued_at.isoformat(),
            "expires_at": binding.expires_at.isoformat(),
            "resource_type": binding.resource_type,
            "resource_id": binding.resource_id,
        }
