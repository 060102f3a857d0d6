"""Organisations in their jurisdictions and the emergency centres' vehicles (keyword-only; never commits).

Re-exported by ``records.service``, the domain's one entry point for other domains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from piguard.areas import is_area_code
from piguard.db.prepared import Prepared
from piguard.errors import InputError, NotFoundError
from piguard.identity.tokens import check_terminal_id
from piguard.records.models import Organisation, Vehicle, org_name_key

ORG_TYPES = ("hospital", "emergency_center", "cdc", "police", "funeral_home", "civil_affairs", "health_commission")
ORG_LEVELS = ("district", "municipal")
ORG_NAME_MAX = 200  # Organisation.name
CALL_SIGN_MAX = 32  # Vehicle.call_sign
_ADCODE = re.compile(r"[0-9]{6}")


def _clean_text(value: str, *, where: str, limit: int) -> str:
    """``value`` with runs of whitespace made one space; InputError when empty, too long or unprintable."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InputError("must not be empty", where=where)
    if len(cleaned) > limit:
        raise InputError(f"must be at most {limit} characters", where=where)
    if not cleaned.isprintable():
        raise InputError("must be printable text", where=where)
    return cleaned


def check_district(district: str, *, county: bool = False) -> str:
    """``district`` stripped, if it is a 6-digit GB/T 2260 adcode (county level if asked); else InputError."""
    district = district.strip()
    if not _ADCODE.fullmatch(district):
        raise InputError("must be a 6-digit GB/T 2260 adcode, e.g. 310112", where="district")
    if not is_area_code(district):
        # A typo would put the organisation (or report) in a jurisdiction nobody oversees.
        raise InputError("is not a GB/T 2260 area code", where="district")
    if county and district.endswith("00"):
        # 310000 (Shanghai) or 310100 (its urban districts) is no district's jurisdiction: a
        # district-level office or report there would be overseen by no district office.
        raise InputError(
            "is a province or prefecture code; a district-level organisation or a report needs a county-level "
            "code, e.g. 310112",
            where="district",
        )
    return district


def _check_org_type(org_type: str) -> str:
    """``org_type`` if it is one of ``ORG_TYPES``; else InputError."""
    if org_type not in ORG_TYPES:
        raise InputError(f"unknown organisation type; expected one of {', '.join(ORG_TYPES)}", where="org_type")
    return org_type


def create_organisation(
    *, session: Session, name: str, org_type: str, district: str, level: str = "district", beds: int | None = None
) -> Organisation:
    """Register an organisation in a jurisdiction; its name must be new in the district."""
    name = _clean_text(name, where="name", limit=ORG_NAME_MAX)
    _check_org_type(org_type)
    if level not in ORG_LEVELS:
        raise InputError(f"unknown level; expected one of {', '.join(ORG_LEVELS)}", where="level")
    district = check_district(district, county=level == "district")
    if beds is not None and beds < 0:
        raise InputError("must not be negative", where="beds")
    # The database's unique (district, name_key) decides, also between two creators at the same
    # moment. Insert-if-absent instead of catching an IntegrityError: no statement fails, so the
    # caller's transaction stays usable (PostgreSQL aborts it on an error) and no savepoint is
    # needed.
    key = org_name_key(name)
    values = {"name": name, "name_key": key, "org_type": org_type, "district": district, "level": level, "beds": beds}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Organisation)
        .values(values)
        .on_conflict_do_nothing(index_elements=[Organisation.district, Organisation.name_key])
        .returning(Organisation)
    )
    org = session.scalars(statement).one_or_none()
    if org is None:
        same = (Organisation.district == district) & (Organisation.name_key == key)
        other = session.scalar(select(Organisation.name).where(same)) or name
        raise InputError(f"'{other}' already exists in district {district}", where="name")
    return org


def get_organisation(*, session: Session, org_id: str) -> Organisation:
    """An organisation by id."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFoundError("organisation not found")
    return org


_JURISDICTION = Prepared(
    select(Organisation.district, Organisation.level).where(Organisation.id == bindparam("org_id"))
)


def org_jurisdiction(*, session: Session, org_id: str) -> tuple[str, str]:
    """An organisation's district and level (the principal's jurisdiction; a Core read on the hot path)."""
    rows = _JURISDICTION.rows(session, {"org_id": org_id})
    if not rows:
        raise NotFoundError("organisation not found")
    district, level = rows[0]
    return str(district), str(level)


def list_organisations(
    *, session: Session, org_type: str | None = None, district: str | None = None
) -> Sequence[Organisation]:
    """All organisations by name, optionally of one type and in one district."""
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if org_type is not None:
        query = query.where(Organisation.org_type == _check_org_type(org_type))
    if district is not None:
        query = query.where(Organisation.district == check_district(district))
    return session.scalars(query).all()


def create_vehicle(*, session: Session, org_id: str, call_sign: str, terminal_id: str) -> Vehicle:
    """Register an ambulance and its MDT with an emergency centre; a terminal id belongs to one vehicle."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise InputError("no such organisation", where="org_id")
    if org.org_type != "emergency_center":
        raise InputError(f"vehicles belong to an emergency_center, not a {org.org_type}", where="org_id")
    call_sign = _clean_text(call_sign, where="call_sign", limit=CALL_SIGN_MAX)
    terminal_id = check_terminal_id(terminal_id, where="terminal_id")
    if session.scalar(select(Vehicle.id).where(Vehicle.terminal_id == terminal_id)) is not None:
        raise InputError("already registered to another vehicle", where="terminal_id")
    vehicle = Vehicle(org_id=org_id, call_sign=call_sign, terminal_id=terminal_id)
    session.add(vehicle)
    session.flush()
    return vehicle


def list_vehicles(*, session: Session, org_id: str) -> Sequence[Vehicle]:
    """An organisation's vehicles by call sign (NotFoundError for an unknown organisation)."""
    get_organisation(session=session, org_id=org_id)
    query = select(Vehicle).where(Vehicle.org_id == org_id).order_by(Vehicle.call_sign, Vehicle.terminal_id)
    return session.scalars(query).all()
