"""Load the simulator's city (organisations, vehicles, staff) into the service database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from piguard.identity import service as identity
from piguard.identity.passwords import generate_password
from piguard.identity.schemas import Principal
from piguard.records import service as records
from piguard.simulate.city import City, Staff

TRAINING_COURSE = "privacy-basics"


@dataclass
class LoadedCity:
    """Simulator ids mapped to the service's opaque ids, and each person's principal."""

    orgs: dict[str, str] = field(default_factory=dict)
    vehicles: dict[str, str] = field(default_factory=dict)  # terminal id -> vehicle id
    principals: dict[str, Principal] = field(default_factory=dict)  # staff id -> principal
    credentials: list[dict[str, str]] = field(default_factory=list)
    by_org_role: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (org id, role) -> staff ids

    def staff_of(self, org_id: str, role: str) -> list[str]:
        """Simulator staff ids with ``role`` at the (simulator) organisation."""
        return self.by_org_role.get((org_id, role), [])


def lapsed_physician(city: City) -> str | None:
    """The staff id of the physician whose privacy training the demo lets lapse (the first hospital's second)."""
    first = next((o.org_id for o in city.organisations if o.org_type == "hospital"), None)
    doctors = [s.staff_id for s in city.staff if s.org_id == first and s.role == "physician"]
    return doctors[1] if len(doctors) > 1 else None


def _username(person: Staff) -> str:
    # One person, one account: the username carries the person's own staff number.
    return f"{person.role.replace('_', '-')}.{person.staff_id}"


def load_city(*, session: Session, secret: bytes, city: City, now: datetime) -> LoadedCity:
    """Create the city's organisations, vehicles and personal accounts (with valid training)."""
    loaded = LoadedCity()
    for org in city.organisations:
        row = records.create_organisation(
            session=session,
            name=org.name,
            org_type=org.org_type,
            district=org.district,
            level=org.level,
            beds=org.beds or None,
        )
        loaded.orgs[org.org_id] = row.id
    centre = next(o.org_id for o in city.organisations if o.org_type == "emergency_center")
    for vehicle in city.vehicles:
        row_v = records.create_vehicle(
            session=session, org_id=loaded.orgs[centre], call_sign=vehicle.station, terminal_id=vehicle.terminal_id
        )
        loaded.vehicles[vehicle.terminal_id] = row_v.id
    org_of = {org.org_id: org for org in city.organisations}
    lapsed = lapsed_physician(city)
    for person in city.staff:
        org_id = loaded.orgs[person.org_id]
        password = generate_password()  # random per account, written once to demo-accounts.json
        created = identity.create_account(
            session=session,
            secret=secret,
            username=_username(person),
            display_name=person.display_name,
            role=person.role,
            org_id=org_id,
            department=person.department,
            password=password,
            demo=True,
        )
        account_id = created.account.id
        # One physician's training ran out yesterday (recorded, not pretended): the replay shows
        # the training gate on them, and the month's report counts them as lapsed.
        valid_until = now - timedelta(days=1) if person.staff_id == lapsed else now + timedelta(days=165)
        identity.record_training(
            session=session,
            account_id=account_id,
            course_code=TRAINING_COURSE,
            completed_at=valid_until - timedelta(days=365),
            score=92,
            valid_until=valid_until,
        )
        loaded.principals[person.staff_id] = Principal(
            account_id=account_id,
            username=created.account.username,
            role=person.role,
            org_id=org_id,
            district=org_of[person.org_id].district,
            org_level=org_of[person.org_id].level,
            department=person.department,
            terminal_id=person.vehicle_terminal or f"ws-{person.staff_id}",
            training_valid_until=valid_until,
        )
        loaded.by_org_role.setdefault((person.org_id, person.role), []).append(person.staff_id)
        loaded.credentials.append(
            {
                "username": created.account.username,
                "password": password,
                "totp_secret": created.totp_secret or "",
                "role": person.role,
                "org_id": org_id,
                "display_name": person.display_name,
            }
        )
    return loaded
