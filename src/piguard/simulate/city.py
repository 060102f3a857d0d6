"""The synthetic city: a pure, deterministic model of who works where and who died how.

``build_city(seed=..., scale=...)`` returns frozen dataclasses and touches neither files nor
databases: the simulator turns it into access events, and ``piguard demo`` loads it into the
guarded service. The same seed and parameters always give the same city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from piguard.errors import InputError
from piguard.simulate.roster import Roster, Shift, shifts
from piguard.simulate.scales import Scale, get_scale

SHANGHAI = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2025, 1, 1, tzinfo=SHANGHAI)
MAX_DAYS = 3660
DEPARTMENTS = ("心内科", "神经内科", "呼吸科", "肿瘤科", "老年科", "重症医学科", "急诊科")


@dataclass(frozen=True, slots=True)
class District:
    """An administrative district (GB/T 2260 code)."""

    adcode: str
    name: str
    population_share: float
    lat: float
    lon: float
    compounds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Organisation:
    """A hospital, the emergency centre, a CDC, police station, funeral home or office."""

    org_id: str
    name: str
    org_type: str  # FORMATS.md section 2 vocabulary
    district: str
    level: str  # "district" or "municipal"
    beds: int = 0


@dataclass(frozen=True, slots=True)
class Transfer:
    """A move to another organisation from ``time`` on."""

    time: datetime
    to_org_id: str


@dataclass(frozen=True, slots=True)
class Staff:
    """One person with a personal account."""

    staff_id: str
    display_name: str
    surname: str
    role: str  # FORMATS.md section 1 role list
    org_id: str
    department: str
    home_district: str
    home_compound: str
    roster: Roster
    vehicle_terminal: str | None = None
    transfer: Transfer | None = None
    supervisor: bool = False

    def org_at(self, time: datetime) -> str:
        """The organisation this person works for at ``time``."""
        if self.transfer is not None and time >= self.transfer.time:
            return self.transfer.to_org_id
        return self.org_id


@dataclass(frozen=True, slots=True)
class Vehicle:
    """An ambulance and its mobile data terminal."""

    vehicle_id: str
    terminal_id: str
    station: str
    district: str


@dataclass(frozen=True, slots=True)
class CauseLine:
    """One line of a death certificate: ICD-10 code, text, onset-to-death interval."""

    code: str
    text: str
    interval: str


@dataclass(frozen=True, slots=True)
class Relative:
    """A relative of the deceased, as recorded on the report."""

    name: str
    relationship: str
    phone: str
    address: str


@dataclass(frozen=True, slots=True)
class Death:
    """One death report and the person it is about."""

    subject_id: str
    report_id: str
    full_name: str
    surname: str
    sex: str  # "M" / "F"
    resident_id: str
    birth_date: date
    ethnicity: str
    marital_status: str
    occupation: str
    household_address: str
    usual_address: str
    district: str
    compound: str
    death_time: datetime
    place_of_death: str  # hospital, home, care_home, en_route
    hospital_org_id: str | None
    department: str | None
    admission_time: datetime | None
    transferred_from: str | None
    certifier_id: str | None
    attending_ids: tuple[str, ...]
    part1: tuple[CauseLine, ...]
    part2: tuple[CauseLine, ...]
    manner: str
    underlying_cause: str
    relatives: tuple[Relative, ...]
    dispatch_id: str | None
    funeral_home_id: str
    is_canary: bool = False

    @property
    def age(self) -> int:
        """Age in whole years at death."""
        born = self.birth_date
        died = self.death_time.date()
        return died.year - born.year - ((died.month, died.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One emergency (120) call and the crew sent."""

    dispatch_id: str
    time: datetime
    priority: int
    pickup_address: str
    access_notes: str
    chief_complaint: str
    patient_age: int
    patient_sex: str
    hazards: tuple[str, ...]
    destination: str  # hospital org id, or "scene" when the patient died there
    caller_phone: str
    crew_ids: tuple[str, ...]
    terminal_id: str
    assigned: datetime
    en_route: datetime
    on_scene: datetime
    closed: datetime
    subject_id: str | None
    district: str


@dataclass(frozen=True, slots=True)
class City:
    """Everything the simulator and the demo need to know about the city."""

    seed: int
    scale: str
    start: datetime
    days: int
    districts: tuple[District, ...]
    organisations: tuple[Organisation, ...]
    staff: tuple[Staff, ...]
    vehicles: tuple[Vehicle, ...]
    deaths: tuple[Death, ...]
    dispatches: tuple[Dispatch, ...]

    @property
    def end(self) -> datetime:
        """The end of the simulated period (exclusive)."""
        return self.start + timedelta(days=self.days)

    def shifts(self, staff: Staff) -> list[Shift]:
        """The shifts ``staff`` works during the simulated period."""
        return shifts(staff.roster, start=self.start, days=self.days)


def _rng(seed: int, stream: int) -> np.random.Generator:
    # One independent stream per part of the city, so changing one part leaves the others alone.
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def check_parameters(*, seed: int, days: int) -> None:
    """Reject parameters the generator cannot honour, naming the option."""
    if seed < 0:
        raise InputError("seed must be a non-negative integer", where="--seed")
    if days < 1 or days > MAX_DAYS:
        raise InputError(f"days must be between 1 and {MAX_DAYS}", where="--days")


def build_city(
    *, seed: int, scale: str = "demo", days: int | None = None, start: datetime = DEFAULT_START
) -> City:
    """Build the city for ``seed`` and ``scale`` over ``days`` days from ``start``'s local midnight."""
    config = get_scale(scale)
    days = config.default_days if days is None else days
    check_parameters(seed=seed, days=days)
    if start.tzinfo is None:
        raise InputError("start must carry a UTC offset", where="start")
    # Days run from local midnight so that rosters (08:00 shifts, office hours) mean what they say.
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    from piguard.simulate import citybuild  # the builder is split out to keep modules small

    districts = citybuild.districts(_rng(seed, 1), config)
    orgs = citybuild.organisations(_rng(seed, 2), config, districts)
    vehicles = citybuild.vehicles(config, districts)
    staff = citybuild.staff(_rng(seed, 3), config, districts, orgs, vehicles, start=start, days=days)
    deaths, dispatches = citybuild.deaths(
        _rng(seed, 4), config, districts, orgs, staff, vehicles, start=start, days=days, life=_rng(seed, 5)
    )
    if config.name != "city":  # at city scale the engine streams these instead of holding them
        dispatches = dispatches + citybuild.other_dispatches(
            seed=seed, scale=config, dists=districts, orgs=orgs, vehicles=vehicles, staff=staff,
            start=start, days=days,
        )
        dispatches = tuple(sorted(dispatches, key=lambda d: (d.time, d.dispatch_id)))
    return City(
        seed=seed, scale=config.name, start=start, days=days, districts=districts,
        organisations=orgs, staff=staff, vehicles=vehicles, deaths=deaths, dispatches=dispatches,
    )


def scale_of(city: City) -> Scale:
    """The size parameters the city was built with."""
    return get_scale(city.scale)


__all__ = [
    "DEFAULT_START", "DEPARTMENTS", "SHANGHAI", "CauseLine", "City", "Death", "Dispatch",
    "District", "Organisation", "Relative", "Staff", "Transfer", "Vehicle", "build_city",
    "check_parameters", "scale_of",
]
