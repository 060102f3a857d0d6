"""Legitimate, workflow-driven access, vectorised, with the innocent noise real logs contain.

Each generator returns a ``Block`` of events and the relationship rows (FORMATS.md section 2)
that document why the access happened. The noise kinds deliberately leave no relationship:
they are the innocent accesses that naive "no relationship" rules flag. Rates are in
``NOISE`` and documented in docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from piguard.simulate.calls import DayCalls
from piguard.simulate.columns import (
    CALLER_BASE,
    F_CLINICAL_DEATH,
    F_CODING,
    F_DISPATCH,
    F_FULL,
    F_FUNERAL,
    F_PATIENT,
    F_REGISTRY,
    F_STATUS,
    OTHER_CALL_BASE,
    A,
    Block,
    P,
    R,
    W,
    block,
    concat,
)
from piguard.simulate.world import World, seconds

HOUR = 3600
DAY = 86400
RELATIONSHIP_KINDS = ("attending", "certifier", "coder", "registrar", "funeral", "crew",
                      "dispatcher")
K = {name: i for i, name in enumerate(RELATIONSHIP_KINDS)}
# Probabilities per death of each innocent-noise kind (see docs/simulator.md).
NOISE = {
    "covering_colleague": 0.020,   # a colleague covers for the certifier (no relationship)
    "quality_review": 0.015,       # supervisor / quality reviewer reads days later
    "late_correction": 0.015,      # certifier re-reads after the relationship window closed
    "justified_breakglass": 0.005,  # ED physician breaks glass, then treats (hospital deaths)
    "transferred": 1.0,            # sending hospital's team re-reads a transferred patient
}
CERTIFIER_WINDOW = 30 * DAY
CODER_WINDOW = 60 * DAY
MDT_GRACE = 30 * 60


@dataclass
class Rel:
    """Relationship rows as columns (times in seconds from the start; ``to`` -1 = open)."""

    user: np.ndarray
    subj: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray


def rel(user: np.ndarray, subj: np.ndarray, kind: int, start: np.ndarray,
        end: np.ndarray) -> Rel:
    """Relationship columns with one kind."""
    n = len(user)
    return Rel(user.astype(np.int32), subj.astype(np.int64), np.full(n, kind, np.int8),
               start.astype(np.int64), end.astype(np.int64))


def rel_concat(items: list[Rel]) -> Rel:
    """All relationship rows of ``items``."""
    if not items:
        empty = np.empty(0, np.int64)
        return rel(empty, empty, 0, empty, empty)
    return Rel(*(np.concatenate([getattr(r, f) for r in items])
                 for f in ("user", "subj", "kind", "start", "end")))


@dataclass
class Deaths:
    """Per-death arrays (index = position in ``city.deaths``)."""

    t: np.ndarray
    admission: np.ndarray   # -1 when not admitted
    hospital: np.ndarray    # org index, -1 outside hospital
    certifier: np.ndarray   # staff index, -1 none (canaries)
    institution: np.ndarray  # org index of the certifying institution (the report's), -1 none
    team: np.ndarray        # (n, 6) staff indices of the attending team, -1 padded
    district_cdc: np.ndarray
    police: np.ndarray
    funeral: np.ndarray
    moved_from: np.ndarray  # org index of the sending hospital, -1
    canary: np.ndarray
    anchor_day: np.ndarray  # day of the first event of the workflow


def index_deaths(w: World) -> Deaths:
    """Arrays over the city's deaths."""
    city = w.city
    n = len(city.deaths)
    def empty() -> np.ndarray:
        return np.full(n, -1, np.int64)

    out = Deaths(t=empty(), admission=empty(), hospital=empty(), certifier=empty(), institution=empty(),
                 team=np.full((n, 6), -1, np.int64), district_cdc=empty(), police=empty(),
                 funeral=empty(), moved_from=empty(), canary=np.zeros(n, bool),
                 anchor_day=np.zeros(n, np.int64))
    for i, d in enumerate(city.deaths):
        out.t[i] = seconds(city, d.death_time)
        out.admission[i] = seconds(city, d.admission_time) if d.admission_time else -1
        out.hospital[i] = w.org_index[d.hospital_org_id] if d.hospital_org_id else -1
        out.certifier[i] = w.staff_index[d.certifier_id] if d.certifier_id else -1
        for k, sid in enumerate(d.attending_ids[:6]):
            out.team[i, k] = w.staff_index[sid]
        out.district_cdc[i] = w.org_index[f"org-cdc-{d.district}"]
        out.police[i] = w.org_index[f"org-psb-{d.district}"]
        out.funeral[i] = w.org_index[d.funeral_home_id]
        out.moved_from[i] = w.org_index[d.transferred_from] if d.transferred_from else -1
        out.canary[i] = d.is_canary
    # The report belongs to its certifier's institution at the time of death: a home death is
    # certified (and its report held) by a community hospital.
    certified = out.certifier >= 0
    out.institution = np.where(certified, w.org_at(np.maximum(out.certifier, 0), out.t), out.hospital)
    first = np.where(out.admission >= 0, np.maximum(out.admission, 0), out.t)
    out.anchor_day = first // DAY
    return out


def _pick(rng: np.random.Generator, pools: list[np.ndarray], keys: np.ndarray) -> np.ndarray:
    # One random member of pools[key] per row; -1 where the pool is empty.
    out = np.full(len(keys), -1, np.int64)
    for key in np.unique(keys):
        pool = pools[int(key)]
        mask = keys == key
        if len(pool):
            out[mask] = pool[rng.integers(0, len(pool), size=int(mask.sum()))]
    return out


def org_pools(w: World, role: str) -> list[np.ndarray]:
    """Staff of ``role`` per organisation index."""
    return [w.staff_of(k, role) for k in range(len(w.org_ids))]


def office_time(rng: np.random.Generator, w: World, t: np.ndarray) -> np.ndarray:
    """Move each time to office hours (09:00-17:00) on the same or next weekday."""
    day = t // DAY
    tod = t % DAY
    day = np.where(tod > 17 * HOUR, day + 1, day)
    weekday = (day + w.city.start.weekday()) % 7
    day = day + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    office: np.ndarray = np.maximum(t, day * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, len(t)))
    return office


def death_workflows(
    rng: np.random.Generator, w: World, d: Deaths, idx: np.ndarray
) -> tuple[Block, Rel]:
    """Every legitimate access to the deaths ``idx`` (canaries excluded by the caller)."""
    blocks: list[Block] = []
    rels: list[Rel] = []
    t = d.t[idx]
    subj = idx.astype(np.int64)
    cert = d.certifier[idx]
    hosp = idx[d.admission[idx] >= 0]
    # 1. Care during the stay: the attending team reads the chart, ~5 reads per day.
    if len(hosp):
        start = np.maximum(d.admission[hosp], 0)
        stay_days = (d.t[hosp] - start) / DAY
        counts = np.minimum(rng.poisson(5 * np.maximum(stay_days, 0.1)), 150)
        rows = np.repeat(np.arange(len(hosp)), counts)
        team = d.team[hosp][rows]
        size = (team >= 0).sum(axis=1)
        user = team[np.arange(len(rows)), rng.integers(0, 1 << 30, size=len(rows)) % size]
        when = start[rows] + (rng.random(len(rows)) * (d.t[hosp] - start)[rows]).astype(np.int64)
        blocks.append(block(t=when, user=user, action=A["read"], rtype=R["encounter"],
                            subj=hosp[rows], res=hosp[rows], fields=F_PATIENT,
                            purpose=P["TREAT"], reason=W["policy:care-team"]))
        for k in range(d.team.shape[1]):
            has = d.team[hosp, k] >= 0
            rels.append(rel(d.team[hosp[has], k], hosp[has], K["attending"], start[has],
                            d.t[hosp[has]] + CERTIFIER_WINDOW))
    # 2. The certifier writes the report, amends it and prints the certificate.
    delay = np.where(d.admission[idx] >= 0, rng.uniform(0.3, 6, len(idx)),
                     rng.uniform(1, 24, len(idx)))
    created = t + (delay * HOUR).astype(np.int64)
    amended = created + rng.integers(HOUR // 2, 30 * HOUR, len(idx))
    printed = created + rng.integers(HOUR, 48 * HOUR, len(idx))
    for when, action, fields in ((created, "create", F_FULL), (amended, "update", F_FULL),
                                 (printed, "print", F_FULL)):
        blocks.append(block(t=when, user=cert, action=A[action], rtype=R["death_report"],
                            subj=subj, res=subj, fields=fields, purpose=P["TREAT"],
                            reason=W["policy:care-team"]))
    rels.append(rel(cert, subj, K["certifier"], t, t + CERTIFIER_WINDOW))
    # 3. The district CDC coder codes the cause within days, in office hours.
    coder = _pick(rng, org_pools(w, "cdc_coder"), d.district_cdc[idx])
    coded = office_time(rng, w, created + rng.integers(HOUR, 7 * DAY, len(idx)))
    blocks.append(block(t=coded, user=coder, action=A["read"], rtype=R["death_report"],
                        subj=subj, res=subj, fields=F_CODING, purpose=P["PUBHLTH"],
                        reason=W["policy:jurisdiction"], terminal=-2))
    blocks.append(block(t=coded + rng.integers(60, 1800, len(idx)), user=coder,
                        action=A["update"], rtype=R["death_report"], subj=subj, res=subj,
                        fields=F_CODING, purpose=P["PUBHLTH"], reason=W["policy:jurisdiction"]))
    rels.append(rel(coder, subj, K["coder"], created, created + CODER_WINDOW))
    # 4. The family presents its code at the police station to cancel the household entry.
    registrar = _pick(rng, org_pools(w, "police_registrar"), d.police[idx])
    presented = office_time(rng, w, t + (rng.gamma(2.0, 5.0, len(idx)) * DAY).astype(np.int64)
                            + 2 * DAY)
    blocks.append(block(t=presented, user=registrar, action=A["read"], rtype=R["death_report"],
                        subj=subj, res=subj, fields=F_REGISTRY, purpose=P["LEGAL"],
                        reason=W["policy:jurisdiction"]))
    rels.append(rel(registrar, subj, K["registrar"], presented - 300, presented + 7 * DAY))
    # 5. The funeral home collects the body; the clerk reads the report and the relatives.
    clerk = _pick(rng, org_pools(w, "funeral_clerk"), d.funeral[idx])
    collected = t + rng.integers(2 * HOUR, 48 * HOUR, len(idx))
    blocks.append(block(t=collected, user=clerk, action=A["read"], rtype=R["death_report"],
                        subj=subj, res=subj, fields=F_FUNERAL, purpose=P["FAMRQT"],
                        reason=W["policy:funeral-code"]))
    rels.append(rel(clerk, subj, K["funeral"], collected - 300, collected + 14 * DAY))
    # 6. The attending team looks at the report around the death (explained by attending).
    if len(hosp):
        member = d.team[hosp, 0]
        blocks.append(block(t=d.t[hosp] + rng.integers(600, 20 * HOUR, len(hosp)), user=member,
                            action=A["read"], rtype=R["death_report"], subj=hosp, res=hosp,
                            fields=F_CLINICAL_DEATH, purpose=P["TREAT"],
                            reason=W["policy:care-team"]))
    blocks.append(_noise(rng, w, d, idx))
    return concat(blocks), rel_concat(rels)


def _noise(rng: np.random.Generator, w: World, d: Deaths, idx: np.ndarray) -> Block:
    """Innocent accesses without a documented relationship (what naive rules flag)."""
    blocks: list[Block] = []
    in_hosp = d.hospital[idx] >= 0
    # A colleague in the same hospital covers for the certifier within hours of death.
    pick = idx[in_hosp & (rng.random(len(idx)) < NOISE["covering_colleague"])]
    if len(pick):
        user = _pick(rng, org_pools(w, "physician"), d.hospital[pick])
        blocks.append(block(t=d.t[pick] + rng.integers(HOUR, 12 * HOUR, len(pick)), user=user,
                            action=A["read"], rtype=R["death_report"], subj=pick, res=pick,
                            fields=F_CLINICAL_DEATH, purpose=P["TREAT"],
                            reason=W["policy:care-team"]))
    # A supervisor or quality reviewer of the hospital audits the case days later.
    pick = idx[in_hosp & (rng.random(len(idx)) < NOISE["quality_review"])]
    if len(pick):
        sup_pools = [p[w.supervisor[p]] if len(p) else p for p in org_pools(w, "physician")]
        user = _pick(rng, sup_pools, d.hospital[pick])
        when = office_time(rng, w, d.t[pick] + rng.integers(DAY, 14 * DAY, len(pick)))
        blocks.append(block(t=when, user=user, action=A["read"], rtype=R["death_report"],
                            subj=pick, res=pick, fields=F_FULL, purpose=P["HOPERAT"],
                            reason=W["policy:care-team"]))
    # The certifier re-reads and corrects the report weeks later, after the window closed.
    pick = idx[(d.certifier[idx] >= 0) & (rng.random(len(idx)) < NOISE["late_correction"])]
    if len(pick):
        when = d.t[pick] + CERTIFIER_WINDOW + rng.integers(DAY, 30 * DAY, len(pick))
        for action in ("read", "update"):
            blocks.append(block(t=when, user=d.certifier[pick], action=A[action],
                                rtype=R["death_report"], subj=pick, res=pick, fields=F_FULL,
                                purpose=P["TREAT"], reason=W["policy:care-team"]))
            when = when + rng.integers(60, 900, len(pick))
    # An emergency physician breaks the glass for a dying patient, then treats (justified).
    pick = idx[(d.admission[idx] >= 0) & (rng.random(len(idx)) < NOISE["justified_breakglass"])]
    if len(pick):
        pools = [w.by_org_dept_role.get((k, 6, 0), np.empty(0, np.int64))
                 for k in range(len(w.org_ids))]
        user = _pick(rng, pools, d.hospital[pick])
        ok = user >= 0
        pick, user = pick[ok], user[ok]
        when = d.t[pick] - rng.integers(HOUR, 6 * HOUR, len(pick))
        blocks.append(block(t=when, user=user, action=A["breakglass"], rtype=R["encounter"],
                            subj=pick, res=pick, purpose=P["BTG"], reason=W["policy:breakglass"]))
        for step in (300, 1500):
            blocks.append(block(t=when + step, user=user, action=A["read"] if step < 1000 else
                                A["update"], rtype=R["encounter"], subj=pick, res=pick,
                                fields=F_PATIENT, purpose=P["BTG"],
                                reason=W["policy:breakglass"]))
    # The sending hospital's team of a transferred patient follows up after the death.
    pick = idx[d.moved_from[idx] >= 0]
    if len(pick):
        user = _pick(rng, org_pools(w, "physician"), d.moved_from[pick])
        blocks.append(block(t=d.t[pick] + rng.integers(DAY, 10 * DAY, len(pick)), user=user,
                            action=A["read"], rtype=R["death_report"], subj=pick, res=pick,
                            fields=F_CLINICAL_DEATH, purpose=P["TREAT"],
                            reason=W["policy:care-team"]))
    return concat(blocks)


def call_events(
    rng: np.random.Generator, w: World, *, call: np.ndarray, assign: np.ndarray,
    en_route: np.ndarray, on_scene: np.ndarray, closed: np.ndarray, crew: np.ndarray,
    terminal: np.ndarray, subj: np.ndarray, res: np.ndarray,
) -> tuple[Block, Rel]:
    """Dispatcher and crew (MDT) accesses to calls; ``crew`` is (n, 2) staff indices."""
    blocks: list[Block] = []
    dispatcher = _dispatchers_on_duty(rng, w, call)
    blocks.append(block(t=call, user=dispatcher, action=A["create"], rtype=R["dispatch"],
                        subj=subj, res=res, fields=F_DISPATCH, purpose=P["ETREAT"],
                        reason=W["policy:crew-assignment"]))
    blocks.append(block(t=assign, user=dispatcher, action=A["update"], rtype=R["dispatch"],
                        subj=subj, res=res, fields=F_STATUS, purpose=P["ETREAT"],
                        reason=W["policy:crew-assignment"]))
    lead = crew[:, 0]
    other = np.where(crew[:, 1] >= 0, crew[:, 1], lead)
    for when, user, action, fields in (
        (assign + rng.integers(5, 60, len(call)), lead, "read", F_DISPATCH),
        (en_route, lead, "update", F_STATUS),
        (on_scene - rng.integers(30, 240, len(call)), other, "read", F_DISPATCH),
        (on_scene, lead, "update", F_STATUS),
        (closed, lead, "update", F_STATUS),
    ):
        blocks.append(block(t=when, user=user, action=A[action], rtype=R["dispatch"], subj=subj,
                            res=res, fields=fields, purpose=P["ETREAT"],
                            reason=W["policy:crew-assignment"], terminal=terminal))
    rels = [rel(crew[:, k][crew[:, k] >= 0], subj[crew[:, k] >= 0], K["crew"],
                assign[crew[:, k] >= 0], closed[crew[:, k] >= 0] + MDT_GRACE) for k in (0, 1)]
    rels.append(rel(dispatcher, subj, K["dispatcher"], call - 60, closed))
    return concat(blocks), rel_concat(rels)


def _dispatchers_on_duty(rng: np.random.Generator, w: World, t: np.ndarray) -> np.ndarray:
    # Day shift 08-20 is phase 0 of the 4-day cycle, night shift 20-08 phase 1 (roster.py).
    ems = w.org_index["org-ems"]
    pool = w.staff_of(ems, "dispatcher")
    day_shift = ((t % DAY) >= 8 * HOUR) & ((t % DAY) < 20 * HOUR)
    shift_day = np.where(day_shift, (t - 8 * HOUR) // DAY, (t - 20 * HOUR) // DAY)
    phase = np.where(day_shift, 0, 1)
    out = np.full(len(t), -1, np.int64)
    offsets = w.offset[pool]
    for off in np.unique(offsets):
        members = pool[offsets == off]
        mask = (shift_day + off) % 4 == phase
        out[mask] = members[rng.integers(0, len(members), int(mask.sum()))]
    missing = out < 0
    out[missing] = pool[rng.integers(0, len(pool), int(missing.sum()))]
    return out


def other_call_events(
    rng: np.random.Generator, w: World, calls: DayCalls, crews: np.ndarray, vehicle_terminal:
    np.ndarray,
) -> tuple[Block, Rel]:
    """Events of one day's non-fatal calls; ``crews`` is (vehicle, phase, 2) staff indices."""
    n = len(calls)
    k = np.arange(n)
    call = calls.call
    assign = call + calls.assign
    shift_day = (assign - 8 * HOUR) // DAY
    crew = crews[calls.vehicle, (-shift_day) % 3]
    subj = CALLER_BASE + calls.day * 100_000 + k
    res = OTHER_CALL_BASE + calls.day * 100_000 + k
    return call_events(rng, w, call=call, assign=assign, en_route=call + calls.en_route,
                       on_scene=call + calls.on_scene, closed=call + calls.closed, crew=crew,
                       terminal=vehicle_terminal[calls.vehicle], subj=subj, res=res)
