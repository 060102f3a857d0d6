"""Daily background: logins and shifts, inpatient care of living patients, statistics work.

Inpatients use a stateless bed-slot model: each simulated bed has a length of stay and a
phase, so the patient in a bed on any day follows from (slot, day) without carrying state
between the streamed chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from piguard.interchange.events import ROLES
from piguard.simulate.city import DEPARTMENTS
from piguard.simulate.columns import (
    F_PATIENT,
    INPATIENT_BASE,
    A,
    Block,
    P,
    R,
    W,
    block,
    concat,
)
from piguard.simulate.workflows import DAY, HOUR, K, Rel, rel, rel_concat
from piguard.simulate.world import World

OCCUPANCY = 0.9
TEAM = 2  # physicians and nurses each, per stay
STAY_SERIAL = 4096  # stays per bed slot that fit in the serial number


@dataclass
class Slots:
    """Simulated bed slots."""

    hospital: np.ndarray
    dept: np.ndarray
    los: np.ndarray
    phase: np.ndarray
    district: np.ndarray  # index into city.districts (the hospital's)
    physicians: list[np.ndarray]  # per (hospital*len(DEPARTMENTS)+dept) pool
    nurses: list[np.ndarray]
    # Per-slot pool sizes, starts and the flat pool array, by role (see _pool_table).
    tables: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)


def build_slots(rng: np.random.Generator, w: World) -> Slots:
    """Bed slots for every hospital: beds x occupancy x ward_share of the scale."""
    hospital: list[int] = []
    for h in w.hospitals:
        beds = w.city.organisations[int(h)].beds
        hospital.extend([int(h)] * max(1, round(beds * OCCUPANCY * w.scale.ward_share)))
    n = len(hospital)
    hosp = np.array(hospital, np.int64)
    los = rng.integers(3, 15, n)
    codes = [d.adcode for d in w.city.districts]
    district = np.array([codes.index(w.org_district[int(h)]) for h in hosp], np.int64)
    stable = w.transfer_t > 2**61  # transferred staff are left out of inpatient teams
    phys: list[np.ndarray] = []
    nurses: list[np.ndarray] = []
    for k in range(len(w.org_ids)):
        for dept in range(len(DEPARTMENTS)):
            for role, pools in (("physician", phys), ("nurse", nurses)):
                pool = w.by_org_dept_role.get((k, dept, ROLES.index(role)), np.empty(0, np.int64))
                pools.append(pool[stable[pool]] if len(pool) else pool)
    return Slots(
        hospital=hosp,
        dept=rng.integers(0, len(DEPARTMENTS), n),
        los=los,
        phase=rng.integers(0, 1 << 20, n) % los,
        district=district,
        physicians=phys,
        nurses=nurses,
    )


def _pool_table(slots: Slots, key: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Per slot: the size and first position of its ward pool in one flat array of all pools
    # (the same every day, so built once per run).
    if which not in slots.tables:
        pools = slots.physicians if which == "physician" else slots.nurses
        sizes = np.array([len(p) for p in pools], np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        flat = np.concatenate([*pools, np.array([-1], np.int64)]).astype(np.int64)
        slots.tables[which] = (sizes[key], starts[key], flat)
    return slots.tables[which]


def _team(table: tuple[np.ndarray, np.ndarray, np.ndarray], serial: np.ndarray, j: int) -> np.ndarray:
    # Member j of each stay's team: a deterministic pick from the stay's ward pool; members of
    # one stay are consecutive in the pool, so distinct, and -1 when the pool has fewer than j+1.
    size, start, flat = table
    pick = start + (serial * 7 + j) % np.maximum(size, 1)
    return np.where(size > j, flat[np.where(size > j, pick, len(flat) - 1)], -1)


@dataclass
class NewStays:
    """Stays that begin on a day (for the subjects and relationships tables)."""

    subj: np.ndarray
    district: np.ndarray
    admitted: np.ndarray


def inpatients(
    rng: np.random.Generator,
    w: World,
    slots: Slots,
    day: int,
    begin: np.ndarray,
    length: np.ndarray,
) -> tuple[Block, Rel, NewStays]:
    """One day of inpatient care: chart reads by the stay's team members on shift."""
    n = len(slots.hospital)
    stay = (day + slots.phase) // slots.los
    serial = np.arange(n, dtype=np.int64) * STAY_SERIAL + stay
    admitted = (stay * slots.los - slots.phase) * DAY
    discharged = admitted + slots.los * DAY
    key = slots.hospital * len(DEPARTMENTS) + slots.dept
    team = np.stack(
        [_team(_pool_table(slots, key, which), serial, j) for which in ("physician", "nurse") for j in range(TEAM)],
        axis=1,
    )
    # Who reads today: Poisson reads per bed, each by a random team member who is on shift.
    counts = rng.poisson(w.scale.events_per_bed_day, n)
    rows = np.repeat(np.arange(n), counts)
    member = team[rows, rng.integers(0, team.shape[1], len(rows))]
    ok = member >= 0
    rows, member = rows[ok], member[ok]
    working = begin[member] >= 0
    rows, member = rows[working], member[working]
    start = day * DAY + begin[member].astype(np.int64) * 60
    when = start + (rng.random(len(rows)) * length[member] * 60).astype(np.int64)
    subj = INPATIENT_BASE + serial[rows]
    events = block(
        t=when,
        user=member,
        action=A["read"],
        rtype=R["encounter"],
        subj=subj,
        res=subj,
        fields=F_PATIENT,
        purpose=P["TREAT"],
        reason=W["policy:care-team"],
        session=member.astype(np.int64) * 100_000 + day,  # a night shift's login was the evening before
    )
    new = (((day + slots.phase) % slots.los) == 0) | (day == 0)
    starting = np.flatnonzero(new)
    members = team[starting].ravel()
    per = team.shape[1]
    keep = members >= 0
    rels = [
        rel(
            members[keep],
            np.repeat(INPATIENT_BASE + serial[starting], per)[keep],
            K["attending"],
            np.repeat(admitted[starting], per)[keep],
            np.repeat(discharged[starting] + 3 * DAY, per)[keep],
        )
    ]
    stays = NewStays(subj=INPATIENT_BASE + serial[new], district=slots.district[new], admitted=admitted[new])
    return events, rel_concat(rels), stays


def logins(
    rng: np.random.Generator, w: World, day: int, begin: np.ndarray, length: np.ndarray
) -> tuple[Block, np.ndarray, np.ndarray, np.ndarray]:
    """Login and logout around each worked shift; also returns the shift rows (user, start, end)."""
    users = np.flatnonzero(begin >= 0)
    start = day * DAY + begin[users].astype(np.int64) * 60
    end = start + length[users].astype(np.int64) * 60
    login = start + rng.integers(-600, 600, len(users))
    logout = end + rng.integers(-300, 1500, len(users))
    events = concat(
        [
            block(t=login, user=users, action=A["login"], rtype=R[""]),
            block(t=logout, user=users, action=A["logout"], rtype=R[""]),
        ]
    )
    return events, users, start, end


def statistics(
    rng: np.random.Generator,
    w: World,
    day: int,
    begin: np.ndarray,
    extras: list[tuple[str, int, tuple[str, ...]]],
    deaths_today: dict[str, list[str]],
) -> Block:
    """Aggregate statistics by epidemiologists; daily searches by coders for their district."""
    blocks: list[Block] = []
    epi = np.flatnonzero((w.role == ROLES.index("cdc_epidemiologist")) & (begin >= 0))
    if len(epi):
        reads = np.repeat(epi, rng.integers(1, 4, len(epi)))
        when = day * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, len(reads))
        first = len(extras)
        date = w.city.start.date().toordinal() + day
        month = _month(date)
        for _ in reads:
            extras.append((f"indicator=deaths_by_cause month={month}", int(rng.integers(50, 5000)), ()))
        blocks.append(
            block(
                t=when,
                user=reads,
                action=A["read"],
                rtype=R["statistics"],
                purpose=P["PUBHLTH"],
                reason=W["policy:statistics"],
                extra=np.arange(first, first + len(reads)),
            )
        )
    coders = np.flatnonzero((w.role == ROLES.index("cdc_coder")) & (begin >= 0))
    if len(coders):
        first = len(extras)
        when = day * DAY + 9 * HOUR + rng.integers(0, HOUR, len(coders))
        for c in coders:
            district = w.org_district[int(w.org[c])]
            found = tuple(deaths_today.get(district, ()))
            extras.append((f"district={district} died_within=1d", len(found), found))
        blocks.append(
            block(
                t=when,
                user=coders,
                action=A["search"],
                rtype=R["death_report"],
                purpose=P["PUBHLTH"],
                reason=W["policy:jurisdiction"],
                extra=np.arange(first, first + len(coders)),
            )
        )
    return concat(blocks)


def _month(ordinal: int) -> str:
    from datetime import date

    d = date.fromordinal(ordinal)
    return f"{d.year:04d}-{d.month:02d}"
