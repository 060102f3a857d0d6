"""Death-information workflows and record access (keyword-only; never commits).

Each workflow step that hands a task to a person creates the ``TaskRelationship`` the policy
later accepts as that person's need to know; nothing else does.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from piguard.db.base import utcnow
from piguard.db.locking import get_for_update
from piguard.db.prepared import Prepared
from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.localtime import beijing_date
from piguard.records.models import (
    CertificatePart,
    DeathReport,
    Dispatch,
    Relative,
    ReportCorrection,
    TaskRelationship,
)
from piguard.records.organisations import CALL_SIGN_MAX as CALL_SIGN_MAX
from piguard.records.organisations import ORG_LEVELS as ORG_LEVELS
from piguard.records.organisations import ORG_NAME_MAX as ORG_NAME_MAX
from piguard.records.organisations import ORG_TYPES as ORG_TYPES
from piguard.records.organisations import check_district
from piguard.records.organisations import create_organisation as create_organisation
from piguard.records.organisations import create_vehicle as create_vehicle
from piguard.records.organisations import get_organisation as get_organisation
from piguard.records.organisations import list_organisations as list_organisations
from piguard.records.organisations import list_vehicles as list_vehicles
from piguard.records.organisations import org_jurisdiction as org_jurisdiction
from piguard.records.schemas import (
    DispatchRecord,
    RelativeRecord,
    ReportFields,
    ReportRecord,
    check_report_field,
    identity_rule,
)

PLACES: tuple[str, ...] = get_args(ReportFields.model_fields["place_of_death"].annotation)
MANNERS: tuple[str, ...] = get_args(ReportFields.model_fields["manner"].annotation)
PART_ROLE = {"police": "police_registrar", "funeral": "funeral_clerk"}
PART_RELATIONSHIP = {"police": "registrar", "funeral": "funeral"}
DISPATCH_FLOW = ("assigned", "en_route", "on_scene", "closed")
CERTIFIER_WINDOW = timedelta(days=90)  # corrections weeks later are legitimate
CODER_WINDOW = timedelta(days=30)
PRESENTED_WINDOW = timedelta(days=30)
CODE_LIFETIME = timedelta(days=60)
# The fields a certifier may correct, each validated by its rule in ``ReportFields`` (an
# explicit list: anything else, the status, the cause of death, the institution, is not a correction).
CORRECTABLE = (
    "name",
    "sex",
    "id_number",
    "birth_date",
    "usual_address",
    "household_address",
    "part2",
    "manner",
    "place_detail",
)
CORRECTION_REASON_MAX = 500  # ReportCorrection.reason
# Checked together against each other and the death; on opening a disagreement is put on the
# birth date or the sex (a typo in the number's date or sex digit fails its check character first).
# Corrections that change what the underlying cause was selected from: a coded report goes back
# to the CDC's coding queue.
RECODE_AFTER = ("part2", "manner")
# The history's order: by time (strictly increasing per report, ``_after_history``), then by id
# (a correction before the withdrawal of the code it made stale, both written at one moment).
HISTORY_ORDER = (ReportCorrection.at, ReportCorrection.id)
IDENTITY_FIELDS: tuple[Literal["birth_date", "id_number", "sex"], ...] = ("birth_date", "sex", "id_number")


def add_relationship(
    *,
    session: Session,
    account_id: str,
    resource_type: str,
    resource_id: str,
    subject_id: str | None,
    kind: str,
    valid_from: datetime,
    valid_to: datetime | None,
    created_by: str,
) -> TaskRelationship:
    """Record a task relationship (only workflows call this)."""
    rel = TaskRelationship(
        account_id=account_id,
        resource_type=resource_type,
        resource_id=resource_id,
        subject_id=subject_id,
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
        created_by=created_by,
    )
    session.add(rel)
    return rel


def _valid_at(at: datetime) -> Any:
    return (TaskRelationship.valid_from <= at) & (
        or_(TaskRelationship.valid_to.is_(None), TaskRelationship.valid_to > at)
    )


# Tasks about a request concerning the record, not about the record itself (a relative's
# correction request referred to the certifier: oversight/family/corrections.py). No record
# screen, search or workflow counts them, so they neither open the record nor make it a search
# candidate whose refusal would tell its holder that it matched.
FAMILY_CORRECTION = "family_correction"
REQUEST_TASK_KINDS = (FAMILY_CORRECTION,)


def relationship_kinds_query(*, account_id: Any, resource_type: Any, resource_id: Any, at: Any) -> Select[Any]:
    """The kinds of live relationship an account holds to a record, as a query (to combine with others)."""
    return select(TaskRelationship.kind).where(
        TaskRelationship.account_id == account_id,
        TaskRelationship.resource_type == resource_type,
        TaskRelationship.resource_id == resource_id,
        *(TaskRelationship.kind != kind for kind in REQUEST_TASK_KINDS),  # plain binds: compiled once
        _valid_at(at),
    )


def relationship_ends_query(*, account_id: Any, resource_type: Any, resource_id: Any, at: Any) -> Select[Any]:
    """The kinds of live relationship an account holds to a record with their ends (None: open-ended)."""
    return relationship_kinds_query(
        account_id=account_id, resource_type=resource_type, resource_id=resource_id, at=at
    ).add_columns(TaskRelationship.valid_to)


def relationships_for(
    *, session: Session, account_id: str, resource_type: str, resource_id: str, at: datetime | None = None
) -> frozenset[str]:
    """The kinds of relationship an account holds to a record right now."""
    query = relationship_kinds_query(
        account_id=account_id, resource_type=resource_type, resource_id=resource_id, at=at or utcnow()
    )
    return frozenset(session.scalars(query).all())


def related_ids_query(*, account_id: str, resource_type: str, at: datetime) -> Select[Any]:
    """A subquery of the record ids an account has a live relationship to (search filters in SQL)."""
    return select(TaskRelationship.resource_id).where(
        TaskRelationship.account_id == account_id,
        TaskRelationship.resource_type == resource_type,
        *(TaskRelationship.kind != kind for kind in REQUEST_TASK_KINDS),  # plain binds: compiled once
        _valid_at(at),
    )


def create_report(
    *,
    session: Session,
    hospital_org_id: str,
    subject_id: str,
    name: str,
    sex: str,
    death_time: datetime,
    place_of_death: str,
    district: str,
    part1: list[dict[str, Any]],
    relatives: Sequence[dict[str, Any]] = (),
    **details: Any,
) -> DeathReport:
    """Open a draft report; identity and cause fields validated (``ReportFields``), relatives attached."""
    if death_time.tzinfo is None:
        raise InputError("death_time needs a UTC offset", where="death_time")
    if not part1:
        raise InputError("Part I needs at least line (a)", where="part1")
    district = check_district(district, county=True)
    allowed = {c.key for c in DeathReport.__table__.columns} - {"id", "status", "version"}
    unknown = set(details) - allowed
    if unknown:
        raise InputError(f"unknown report field(s): {', '.join(sorted(unknown))}", where="report")
    entered = {"name": name, "sex": sex, "place_of_death": place_of_death, "manner": "natural", **details}
    ruled = ReportFields.model_fields
    checked = {key: check_report_field(key, value) for key, value in entered.items() if key in ruled}
    name, sex, place_of_death = checked.pop("name"), checked.pop("sex"), checked.pop("place_of_death")
    for field in IDENTITY_FIELDS:
        rule = identity_rule(
            field,
            id_number=checked.get("id_number"),
            birth_date=checked.get("birth_date"),
            death_time=death_time,
            sex=sex,
        )
        if rule is not None:
            raise InputError(f"{field}: {rule}", where=field)
    details.update(checked)
    # One person dies once: a second report about the same subject is refused by name, before the
    # unique key would fail the flush (a driver error, and on PostgreSQL an aborted transaction).
    if session.scalar(select(DeathReport.id).where(DeathReport.subject_id == subject_id)) is not None:
        raise InputError("a death report about this subject already exists", where="subject_id")
    report = DeathReport(
        hospital_org_id=hospital_org_id,
        subject_id=subject_id,
        name=name,
        sex=sex,
        death_time=death_time,
        place_of_death=place_of_death,
        district=district,
        part1=list(part1),
        **details,
    )
    for position, rel in enumerate(relatives):
        report.relatives.append(
            Relative(
                position=position,
                name=rel["name"],
                relationship_to_deceased=rel["relationship"],
                phone=rel.get("phone"),
                address=rel.get("address"),
            )
        )
    session.add(report)
    session.flush()
    return report


def _report(session: Session, report_id: str, *, lock: bool = False) -> DeathReport:
    # ``lock``: a change that depends on the report's state (status, parts issued) is decided
    # on the row as committed by anyone before us, and serialised with theirs.
    report = get_for_update(session, DeathReport, report_id) if lock else session.get(DeathReport, report_id)
    if report is None:
        raise NotFoundError("death report not found")
    return report


def certify(*, session: Session, report_id: str, certifier_id: str, at: datetime) -> DeathReport:
    """The physician certifies: draft -> certified; the certifier relationship starts."""
    report = _report(session, report_id, lock=True)
    if report.status != "draft":
        raise ConflictError(f"only a draft can be certified (status is {report.status})")
    report.status = "certified"
    report.certifier_id = certifier_id
    report.certified_at = at
    report.certificate_no = "DC" + secrets.token_hex(6).upper()
    add_relationship(
        session=session,
        account_id=certifier_id,
        resource_type="death_report",
        resource_id=report.id,
        subject_id=report.subject_id,
        kind="certifier",
        valid_from=report.created_at if report.created_at < at else at,
        valid_to=at + CERTIFIER_WINDOW,
        created_by="certify",
    )
    return report


def add_attending(*, session: Session, report_id: str, account_id: str, start: datetime, end: datetime) -> None:
    """Put a clinician on the attending team of the deceased for a period."""
    report = _report(session, report_id)
    add_relationship(
        session=session,
        account_id=account_id,
        resource_type="death_report",
        resource_id=report.id,
        subject_id=report.subject_id,
        kind="attending",
        valid_from=start,
        valid_to=end,
        created_by="attending_team",
    )


def report_to_cdc(*, session: Session, report_id: str, coder_id: str, at: datetime) -> DeathReport:
    """Submit to the CDC (certified -> reported) and assign the coder who will code it."""
    report = _report(session, report_id, lock=True)
    if report.status != "certified":
        raise ConflictError(f"only a certified report can be reported (status is {report.status})")
    report.status = "reported"
    report.reported_at = at
    _assign_coder(session, report, coder_id, at=at, created_by="coder_assignment")
    return report


def _assign_coder(session: Session, report: DeathReport, coder_id: str, *, at: datetime, created_by: str) -> None:
    add_relationship(
        session=session,
        account_id=coder_id,
        resource_type="death_report",
        resource_id=report.id,
        subject_id=report.subject_id,
        kind="coder",
        valid_from=at,
        valid_to=at + CODER_WINDOW,
        created_by=created_by,
    )


def code_underlying_cause(*, session: Session, report_id: str, coder_id: str, icd10: str, at: datetime) -> DeathReport:
    """The assigned coder sets the underlying cause (reported -> coded)."""
    report = _report(session, report_id, lock=True)
    if report.status not in ("reported", "coded"):
        raise ConflictError(f"only a reported report can be coded (status is {report.status})")
    if "coder" not in relationships_for(
        session=session, account_id=coder_id, resource_type="death_report", resource_id=report_id, at=at
    ):
        raise ConflictError("this coder is not assigned to the report")
    code = icd10.strip().upper()
    if not (3 <= len(code) <= 7 and code[0].isalpha() and code[1:3].isdigit()):
        raise InputError("not an ICD-10 code", where="icd10")
    report.underlying_icd10 = code
    report.status = "coded"
    report.coded_at = at
    return report


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def issue_parts(*, session: Session, report_id: str, at: datetime) -> dict[str, str]:
    """Issue the police and funeral parts to the family; returns each part's one-time code (shown once)."""
    report = _report(session, report_id, lock=True)
    if report.status == "draft":
        raise ConflictError("certificate parts are issued only after certification")
    if session.scalar(select(CertificatePart.id).where(CertificatePart.report_id == report.id).limit(1)):
        # Each part exists once (one code per part); a second issue would break on the unique key.
        raise ConflictError("the certificate parts of this report were already issued")
    codes: dict[str, str] = {}
    for part in PART_ROLE:
        code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        session.add(
            CertificatePart(
                report_id=report.id, part=part, code_hash=_code_hash(code), issued_at=at, expires_at=at + CODE_LIFETIME
            )
        )
        codes[part] = code
    session.flush()
    return codes


def present_code(*, session: Session, code: str, account_id: str, role: str, org_id: str, at: datetime) -> DeathReport:
    """The family hands its code to a registrar or funeral clerk: the only way they get access."""
    found = session.scalar(select(CertificatePart.id).where(CertificatePart.code_hash == _code_hash(code)))
    # Locked before "already presented" is checked: two clerks presenting one code at the same
    # moment must not both get the relationship.
    part = get_for_update(session, CertificatePart, found) if found is not None else None
    if part is None or part.expires_at <= at:
        raise NotFoundError("unknown or expired presentation code")
    if PART_ROLE[part.part] != role:
        # Answered as an unknown code: a 409 would tell a clerk that another part's code is valid.
        wrong = NotFoundError("unknown or expired presentation code")
        wrong.ledger_note = f"a code for the {part.part} part presented by role {role}"
        raise wrong
    if part.presented_at is not None:
        raise ConflictError("this code has already been presented")
    part.presented_at = at
    part.presented_by = account_id
    part.presented_org_id = org_id
    report = _report(session, part.report_id)
    add_relationship(
        session=session,
        account_id=account_id,
        resource_type="death_report",
        resource_id=report.id,
        subject_id=report.subject_id,
        kind=PART_RELATIONSHIP[part.part],
        valid_from=at,
        valid_to=at + PRESENTED_WINDOW,
        created_by="present_code",
    )
    return report


def correct_report(
    *, session: Session, report_id: str, account_id: str, field: str, value: str | None, reason: str, at: datetime
) -> DeathReport:
    """Correct one field with a reason; the old value is kept in the correction history.

    The new value follows the rule the field has when a report is opened (``ReportFields``);
    an InputError names ``value`` and the field, and nothing is written.
    """
    if field not in CORRECTABLE:
        raise InputError(f"field cannot be corrected; correctable: {', '.join(CORRECTABLE)}", where="field")
    reason = reason.strip()
    if len(reason) < 10:
        raise InputError("a correction needs a reason of at least 10 characters", where="reason")
    if len(reason) > CORRECTION_REASON_MAX:
        raise InputError(f"must be at most {CORRECTION_REASON_MAX} characters", where="reason")
    new = check_report_field(field, value, where="value")
    report = _report(session, report_id, lock=True)
    old = getattr(report, field)
    if new == old:
        # A change to the same value would raise the version and add a history row that changes nothing.
        raise InputError(f"{field}: already has this value", where="value")
    at = _after_history(session, report.id, at)
    identity_field = next((name for name in IDENTITY_FIELDS if name == field), None)
    if identity_field is not None:
        # The combination after the correction: the other field as stored, this one as corrected.
        rule = identity_rule(
            identity_field,
            id_number=new if field == "id_number" else report.id_number,
            birth_date=new if field == "birth_date" else report.birth_date,
            death_time=report.death_time,
            sex=new if field == "sex" else report.sex,
        )
        if rule is not None:
            raise InputError(f"{field}: {rule}", where="value")
    session.add(
        ReportCorrection(
            report_id=report.id,
            account_id=account_id,
            at=at,
            field=field,
            old_value=None if old is None else str(old),
            new_value=None if new is None else str(new),
            reason=reason,
        )
    )
    setattr(report, field, new)
    report.version += 1
    if field in RECODE_AFTER and report.status == "coded":
        _return_for_coding(session, report, account_id=account_id, field=field, at=at)
    return report


def lock_report(*, session: Session, report_id: str) -> DeathReport:
    """The report under its row lock for the rest of the transaction (a correction's time is taken after it)."""
    return _report(session, report_id, lock=True)


def correction_history(*, session: Session, report_id: str) -> list[ReportCorrection]:
    """A report's corrections in the order they were made, so each field's old -> new values chain up."""
    rows = session.scalars(
        select(ReportCorrection).where(ReportCorrection.report_id == report_id).order_by(*HISTORY_ORDER)
    )
    return list(rows)


def _after_history(session: Session, report_id: str, at: datetime) -> datetime:
    """``at``, or just after the report's latest correction (under the report's lock: time order is chain order).

    A time read before the lock (or on a server whose clock is behind) may be earlier than a
    correction committed meanwhile; the history's order by time would then break the chain.
    """
    last = session.scalar(select(func.max(ReportCorrection.at)).where(ReportCorrection.report_id == report_id))
    return at if last is None or at > last else last + timedelta(microseconds=1)


def _return_for_coding(session: Session, report: DeathReport, *, account_id: str, field: str, at: datetime) -> None:
    # The underlying cause was selected from the statement as it was: an external cause follows
    # the manner of death, and Part II conditions take part in the selection rules. A stale code
    # would be counted in the statistics, so it is withdrawn (kept in the history) and the report
    # goes back to the CDC's coding queue.
    session.add(
        ReportCorrection(
            report_id=report.id,
            account_id=account_id,
            at=at,
            field="underlying_icd10",
            old_value=report.underlying_icd10,
            new_value=None,
            reason=f"withdrawn for re-coding: {field} was corrected",
        )
    )
    report.underlying_icd10 = None
    report.coded_at = None
    report.status = "reported"
    # Back in the queue means a coder can code it: the last assigned coder gets it again when
    # their assignment has run out (corrections come up to 90 days after certifying, or later
    # through a relative's request, while an assignment lasts 30 days).
    coder = session.scalar(
        select(TaskRelationship.account_id)
        .where(
            TaskRelationship.resource_type == "death_report",
            TaskRelationship.resource_id == report.id,
            TaskRelationship.kind == "coder",
        )
        .order_by(TaskRelationship.valid_from.desc())
        .limit(1)
    )
    live = (
        relationships_for(session=session, account_id=coder, resource_type="death_report", resource_id=report.id, at=at)
        if coder is not None
        else set()
    )
    if coder is not None and "coder" not in live:
        _assign_coder(session, report, coder, at=at, created_by="recoding_after_correction")


def _report_row_statement() -> Any:
    # Built once: one round trip for the report and its relatives (a LEFT JOIN, one row per relative).
    reports, relatives = DeathReport.__table__, Relative.__table__
    report_columns = [reports.c[name] for name in ReportRecord.model_fields if name != "relatives"]
    relative_columns = [relatives.c[name].label(f"relative_{name}") for name in RelativeRecord.model_fields]
    return (
        select(*report_columns, *relative_columns)
        .select_from(reports.outerjoin(relatives, relatives.c.report_id == reports.c.id))
        .where(reports.c.id == bindparam("report_id"))
        .order_by(relatives.c.position, relatives.c.id)
    )


_REPORT_WITH_RELATIVES = Prepared(_report_row_statement())
# Column positions in that row, resolved once: (position, report field) and (position, relative field).
_REPORT_FIELDS = [(i, name) for i, name in enumerate(_REPORT_WITH_RELATIVES.names) if not name.startswith("relative_")]
_RELATIVE_FIELDS = [
    (i, name.removeprefix("relative_"))
    for i, name in enumerate(_REPORT_WITH_RELATIVES.names)
    if name.startswith("relative_")
]
_RELATIVE_ID = _REPORT_WITH_RELATIVES.names.index("relative_id")


def get_report_record(*, session: Session, report_id: str) -> ReportRecord | None:
    """The full stored report as a snapshot for the minimiser, or None."""
    rows = _REPORT_WITH_RELATIVES.rows(session, {"report_id": report_id})
    if not rows:
        return None
    report: dict[str, Any] = {name: rows[0][i] for i, name in _REPORT_FIELDS}
    report["relatives"] = [
        {name: row[i] for i, name in _RELATIVE_FIELDS} for row in rows if row[_RELATIVE_ID] is not None
    ]
    return ReportRecord.model_validate(report)


def report_resource_attrs(record: ReportRecord) -> dict[str, Any]:
    """The report attributes the policy tests."""
    return {"hospital": record.hospital_org_id, "district": record.district, "status": record.status}


def search_reports(
    *,
    session: Session,
    candidate_ids: Select[Any],
    q: str | None = None,
    district: str | None = None,
    limit: int = 50,
) -> list[ReportRecord]:
    """Reports among ``candidate_ids`` matching the filters (the candidates come from the relationships)."""
    query = (
        select(DeathReport)
        .options(selectinload(DeathReport.relatives))
        .where(DeathReport.id.in_(candidate_ids))
        .order_by(DeathReport.death_time.desc())
        .limit(limit)
    )
    if district:
        query = query.where(DeathReport.district == district)
    if q:
        # The text is matched as typed: % and _ are not wildcards (they let a search probe by pattern).
        text = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(
            or_(DeathReport.name.like(pattern, escape="\\"), DeathReport.certificate_no.like(pattern, escape="\\"))
        )
    return [ReportRecord.model_validate(row) for row in session.scalars(query)]


def create_dispatch(
    *,
    session: Session,
    org_id: str,
    district: str,
    priority: str,
    pickup_address: str,
    chief_complaint: str,
    at: datetime,
    **details: Any,
) -> Dispatch:
    """Open an ambulance call."""
    if priority not in ("P1", "P2", "P3", "P4"):
        raise InputError("priority must be P1..P4", where="priority")
    dispatch = Dispatch(
        incident_no="INC" + secrets.token_hex(5).upper(),
        org_id=org_id,
        district=district,
        priority=priority,
        pickup_address=pickup_address,
        chief_complaint=chief_complaint,
        assigned_at=at,
        **details,
    )
    session.add(dispatch)
    session.flush()
    return dispatch


def assign_crew(
    *, session: Session, dispatch_id: str, vehicle_id: str, crew_ids: Sequence[str], at: datetime
) -> Dispatch:
    """Assign a vehicle and its crew; the crew relationship lasts until the call closes (+ grace)."""
    dispatch = _dispatch(session, dispatch_id)
    if dispatch.status == "closed":
        raise ConflictError("the call is closed")
    dispatch.vehicle_id = vehicle_id
    for crew_id in crew_ids:
        add_relationship(
            session=session,
            account_id=crew_id,
            resource_type="dispatch",
            resource_id=dispatch.id,
            subject_id=None,
            kind="crew",
            valid_from=at,
            valid_to=None,
            created_by="crew_assignment",
        )
    return dispatch


def _dispatch(session: Session, dispatch_id: str) -> Dispatch:
    # Every caller changes the call's status or crew: decided on the row as last committed.
    dispatch = get_for_update(session, Dispatch, dispatch_id)
    if dispatch is None:
        raise NotFoundError("dispatch not found")
    return dispatch


def advance_dispatch(*, session: Session, dispatch_id: str, status: str, at: datetime, grace: timedelta) -> Dispatch:
    """Move a call forward (assigned -> en_route -> on_scene -> closed); closing ends crew access after ``grace``."""
    dispatch = _dispatch(session, dispatch_id)
    if status not in DISPATCH_FLOW or DISPATCH_FLOW.index(status) <= DISPATCH_FLOW.index(dispatch.status):
        raise ConflictError(f"cannot move a call from {dispatch.status} to {status}")
    dispatch.status = status
    setattr(dispatch, f"{status}_at", at)
    if status == "closed":
        for rel in session.scalars(
            select(TaskRelationship).where(
                TaskRelationship.resource_type == "dispatch",
                TaskRelationship.resource_id == dispatch.id,
                TaskRelationship.valid_to.is_(None),
            )
        ):
            rel.valid_to = at + grace
    return dispatch


def get_dispatch_record(*, session: Session, dispatch_id: str) -> DispatchRecord | None:
    """The stored call as a snapshot, or None."""
    dispatch = session.get(Dispatch, dispatch_id)
    return DispatchRecord.model_validate(dispatch) if dispatch is not None else None


def dispatch_resource_attrs(record: DispatchRecord, *, at: datetime, grace: timedelta) -> dict[str, Any]:
    """The call attributes the policy tests (open, or within the grace period after closing)."""
    closed = record.closed_at
    return {
        "org": record.org_id,
        "district": record.district,
        "open": closed is None,
        "in_grace": closed is not None and at < closed + grace,
    }


def list_dispatches(
    *, session: Session, candidate_ids: Select[Any] | None, org_id: str | None, open_only: bool, limit: int = 50
) -> list[DispatchRecord]:
    """Calls among the candidates (crew) or of one centre (dispatcher)."""
    query = select(Dispatch).order_by(Dispatch.assigned_at.desc()).limit(limit)
    if candidate_ids is not None:
        query = query.where(Dispatch.id.in_(candidate_ids))
    if org_id is not None:
        query = query.where(Dispatch.org_id == org_id)
    if open_only:
        query = query.where(Dispatch.closed_at.is_(None))
    return [DispatchRecord.model_validate(row) for row in session.scalars(query)]


# ICD-10 chapters (WHO ICD-10, 2019 edition) by the first category of each, in code order; a code
# belongs to the last chapter starting at or before its category. WHO leaves gaps (D49, E91-E99,
# H96-H99, K94-K99, P97-P99, T99, V00, Y99, U86-U99): they fall to the chapter of their letter, as
# national extensions (ICD-10-CM D49, K94, V00) place them. XXII (U00-U85) sits between T and V.
ICD10_CHAPTER_STARTS: tuple[tuple[str, str], ...] = (
    ("A00", "I"), ("C00", "II"), ("D50", "III"), ("E00", "IV"), ("F00", "V"), ("G00", "VI"),
    ("H00", "VII"), ("H60", "VIII"), ("I00", "IX"), ("J00", "X"), ("K00", "XI"), ("L00", "XII"),
    ("M00", "XIII"), ("N00", "XIV"), ("O00", "XV"), ("P00", "XVI"), ("Q00", "XVII"), ("R00", "XVIII"),
    ("S00", "XIX"), ("U00", "XXII"), ("V00", "XX"), ("Z00", "XXI"),
)  # fmt: skip
UNCODED = "uncoded"  # no code that reads as ICD-10 (a report neither coded nor given one on line (a))
_ICD10_CATEGORY = re.compile(r"[A-Z][0-9]{2}")  # ASCII only: a letter and two digits
# Every chapter a statistics cell can name, in chapter order.
ICD10_CHAPTERS: tuple[str, ...] = (
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI",
    "XII", "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII", UNCODED,
)  # fmt: skip


def icd10_chapter(code: str | None) -> str:
    """The ICD-10 chapter (roman numeral) of a code such as ``I21.9``; ``uncoded`` when it is not one."""
    category = (code or "").strip().upper()[:3]
    if not _ICD10_CATEGORY.fullmatch(category):
        return UNCODED
    index = bisect_right([start for start, _ in ICD10_CHAPTER_STARTS], category) - 1
    return ICD10_CHAPTER_STARTS[index][1]


def death_statistics(*, session: Session, district: str | None = None) -> list[tuple[str, str, str, int]]:
    """Deaths counted by district, month and ICD-10 chapter (underlying cause, else Part I (a)); no empty cells."""
    rows = session.execute(
        select(DeathReport.district, DeathReport.death_time, DeathReport.underlying_icd10, DeathReport.part1).where(
            DeathReport.status != "draft",
            DeathReport.is_canary.is_(False),
            *([DeathReport.district == district] if district else []),
        )
    ).all()
    counts: dict[tuple[str, str, str], int] = {}
    for dist, when, icd, part1 in rows:
        line_a = part1[0].get("icd10") if part1 else None
        code = icd or (line_a if isinstance(line_a, str) else None)
        key = (dist, beijing_date(when).strftime("%Y-%m"), icd10_chapter(code))
        counts[key] = counts.get(key, 0) + 1
    return sorted((d, m, c, n) for (d, m, c), n in counts.items())


def count_reports(*, session: Session) -> int:
    """Number of death reports."""
    return int(session.scalar(select(func.count()).select_from(DeathReport)) or 0)
