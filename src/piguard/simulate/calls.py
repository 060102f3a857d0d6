"""Emergency (120) calls that do not end in a death, one day at a time, as numpy columns.

The city model materialises them as ``Dispatch`` objects at demo and small scale; at city
scale the event engine streams them straight from these columns. Both use ``day_calls`` with
a random stream seeded by (seed, day), so both see the same calls.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from piguard.simulate import data, people
from piguard.simulate.city import Dispatch, District, Organisation, Staff, Vehicle
from piguard.simulate.scales import Scale

CALL_STREAM = 100
DETAIL_STREAM = 101
# Hour-of-call weights: 120 demand peaks in the morning and evening.
CALL_HOURS = np.array(
    [0.5, 0.4, 0.35, 0.3, 0.3, 0.35, 0.5, 0.8, 1.1, 1.2, 1.25, 1.2,
     1.1, 1.05, 1.05, 1.05, 1.1, 1.15, 1.2, 1.2, 1.1, 0.95, 0.8, 0.65]
)

Crews = dict[tuple[str, int], tuple[str, ...]]


def crew_index(staff: Sequence[Staff]) -> Crews:
    """(vehicle terminal, roster phase) -> the crew's staff ids."""
    crews: dict[tuple[str, int], list[str]] = defaultdict(list)
    for person in staff:
        if person.vehicle_terminal is not None:
            crews[(person.vehicle_terminal, person.roster.offset)].append(person.staff_id)
    return {key: tuple(value) for key, value in crews.items()}


def crew_for(crews: Crews, terminal: str, *, when: datetime, start: datetime) -> tuple[str, ...]:
    """The crew on duty in the vehicle at ``when`` (24-hour shifts starting 08:00, 3 phases)."""
    shift_day = math.floor((when - start - timedelta(hours=8)) / timedelta(days=1))
    return crews.get((terminal, (-shift_day) % 3), ())


def _rng(seed: int, stream: int, day: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, day]))


@dataclass(frozen=True, slots=True)
class DayCalls:
    """One day's non-fatal calls as columns (times are seconds from the simulation start)."""

    day: int
    call: np.ndarray        # int64 seconds
    vehicle: np.ndarray     # index into city.vehicles
    destination: np.ndarray  # index into the hospitals list
    priority: np.ndarray
    age: np.ndarray
    male: np.ndarray
    complaint: np.ndarray
    assign: np.ndarray      # seconds after the call
    en_route: np.ndarray
    on_scene: np.ndarray
    closed: np.ndarray

    def __len__(self) -> int:
        return len(self.call)

    def dispatch_id(self, k: int) -> str:
        """The id of call ``k``."""
        return f"dq{self.day:04d}{k:05d}"

    def subject_id(self, k: int) -> str:
        """The (living) patient of call ``k``."""
        return f"pc{self.day:04d}{k:05d}"


def day_calls(
    *, seed: int, scale: Scale, dists: Sequence[District], hospitals: Sequence[Organisation],
    vehicles: Sequence[Vehicle], day: int,
) -> DayCalls:
    """The non-fatal calls of simulation day ``day``."""
    rng = _rng(seed, CALL_STREAM, day)
    n = int(rng.poisson(scale.other_calls_per_day))
    hours = rng.choice(24, size=n, p=CALL_HOURS / CALL_HOURS.sum())
    call = np.sort(day * 86400 + hours * 3600 + rng.integers(0, 3600, size=n)).astype(np.int64)
    district = rng.choice(len(dists), size=n, p=[d.population_share for d in dists])
    codes = np.array([d.adcode for d in dists])
    veh_district = np.array([np.flatnonzero(codes == v.district)[0] for v in vehicles])
    vehicle = np.empty(n, dtype=np.int64)
    hosp_district = np.array([np.flatnonzero(codes == h.district)[0] for h in hospitals])
    destination = np.empty(n, dtype=np.int64)
    pick = rng.integers(0, 10**9, size=n)
    for k in range(len(dists)):
        mask = district == k
        own_v = np.flatnonzero(veh_district == k)
        own_h = np.flatnonzero(hosp_district == k)
        own_v = own_v if len(own_v) else np.arange(len(vehicles))
        own_h = own_h if len(own_h) else np.arange(len(hospitals))
        vehicle[mask] = own_v[pick[mask] % len(own_v)]
        destination[mask] = own_h[(pick[mask] // 7) % len(own_h)]
    assign = rng.integers(30, 180, size=n)
    en_route = assign + rng.integers(45, 120, size=n)
    on_scene = en_route + rng.integers(6 * 60, 20 * 60, size=n)
    closed = on_scene + rng.integers(35 * 60, 90 * 60, size=n)
    return DayCalls(
        day=day, call=call, vehicle=vehicle, destination=destination,
        priority=rng.choice(4, size=n, p=[0.1, 0.3, 0.4, 0.2]) + 1,
        age=np.clip(rng.normal(60, 20, size=n), 0, 100).astype(np.int64),
        male=rng.random(n) < 0.52, complaint=rng.integers(0, len(data.CHIEF_COMPLAINTS), size=n),
        assign=assign, en_route=en_route, on_scene=on_scene, closed=closed,
    )


def materialise(
    calls: DayCalls, *, seed: int, dists: Sequence[District], hospitals: Sequence[Organisation],
    vehicles: Sequence[Vehicle], crews: Crews, start: datetime,
) -> list[Dispatch]:
    """The day's calls as ``Dispatch`` objects, with addresses and callers (own random stream)."""
    rng = _rng(seed, DETAIL_STREAM, calls.day)
    by_code = {d.adcode: d for d in dists}
    phones = people.mobiles(rng, len(calls))
    out: list[Dispatch] = []
    for k in range(len(calls)):
        vehicle = vehicles[int(calls.vehicle[k])]
        district = by_code[vehicle.district]
        compound = district.compounds[int(rng.integers(0, len(district.compounds)))]
        address = people.addresses(rng, district_names=[district.name], compound_ids=[compound])[0]
        time = start + timedelta(seconds=int(calls.call[k]))
        assigned = time + timedelta(seconds=int(calls.assign[k]))
        out.append(Dispatch(
            dispatch_id=calls.dispatch_id(k), time=time, priority=int(calls.priority[k]),
            pickup_address=address,
            access_notes=data.ACCESS_NOTES[int(rng.integers(0, len(data.ACCESS_NOTES)))],
            chief_complaint=data.CHIEF_COMPLAINTS[int(calls.complaint[k])],
            patient_age=int(calls.age[k]), patient_sex="M" if calls.male[k] else "F",
            hazards=(data.HAZARDS[int(rng.integers(0, len(data.HAZARDS)))],),
            destination=hospitals[int(calls.destination[k])].org_id, caller_phone=phones[k],
            crew_ids=crew_for(crews, vehicle.terminal_id, when=assigned, start=start),
            terminal_id=vehicle.terminal_id, assigned=assigned,
            en_route=time + timedelta(seconds=int(calls.en_route[k])),
            on_scene=time + timedelta(seconds=int(calls.on_scene[k])),
            closed=time + timedelta(seconds=int(calls.closed[k])),
            subject_id=calls.subject_id(k), district=vehicle.district,
        ))
    return out
