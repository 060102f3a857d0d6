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
from piguard.simulate.onshift import current_shift, next_on_shift, shift_day_at
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
    admission: np.ndarray   # seconds from the start (negative before the period); see ``admitted``
    admitted: np.ndarray    # True for a hospital stay (``admission`` is meaningful only then)
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
    created: np.ndarray     # when the report is created (``schedule_reports``; the death until then)
    created_session: np.ndarray  # the certifier's session at ``created`` (-1 default)


def index_deaths(w: World) -> Deaths:
    """Arrays over the city's deaths."""
    city = w.city
    n = len(city.deaths)
    def empty() -> np.ndarray:
        return np.full(n, -1, np.int64)

    out = Deaths(t=empty(), admission=empty(), admitted=np.zeros(n, bool), hospital=empty(),
                 certifier=empty(), institution=empty(),
                 team=np.full((n, 6), -1, np.int64), district_cdc=empty(), police=empty(),
                 funeral=empty(), moved_from=empty(), canary=np.zeros(n, bool),
                 anchor_day=np.zeros(n, np.int64), created=empty(),
                 created_session=empty())
    for i, d in enumerate(city.deaths):
        out.t[i] = seconds(city, d.death_time)
        if d.admission_time is not None:
            out.admission[i] = seconds(city, d.admission_time)
            out.admitted[i] = True
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
    first = np.where(out.admitted, np.maximum(out.admission, 0), out.t)
    out.anchor_day = first // DAY
    out.created = out.t.copy()
    return out


def schedule_reports(rng: np.random.Generator, w: World, d: Deaths) -> None:
    """Fix when each certifier creates the report, before any scenario reads it.

    0.3-6 h after a hospital death (before the end of the certifier's shift when on duty at
    the death), 1-24 h otherwise; moved into the certifier's next shift when off duty.
    Canaries (no certifier) exist from the death on. Done in 30-day slices so the shift tables
    of the days involved stay cached.
    """
    n = len(d.t)
    delay = np.where(d.admitted, rng.uniform(0.3, 6, n), rng.uniform(1, 24, n))
    want = d.t + (delay * HOUR).astype(np.int64)
    cert = d.certifier
    created = d.t.copy()
    session = np.full(n, -1, np.int64)
    day = d.t // DAY
    for low in range(int(day.min(initial=0)), int(day.max(initial=0)) + 1, 30):
        rows = np.flatnonzero((day >= low) & (day < low + 30) & (cert >= 0))
        if not len(rows):
            continue
        on_duty, shift_end = current_shift(w, cert[rows], d.t[rows])
        at = np.where(on_duty >= 0, np.maximum(d.t[rows] + 120, np.minimum(want[rows], shift_end - 900)),
                      want[rows])
        created[rows], session[rows] = next_on_shift(rng, w, cert[rows], at)
    d.created, d.created_session = created, session


def _pick(rng: np.random.Generator, pools: list[np.ndarray], keys: np.ndarray) -> np.ndarray:
    # One random member of pools[key] per row; -1 where the pool is empty.
    out = np.full(len(keys), -1, np.int64)
    for key in np.unique(keys):
        pool = pools[int(key)]
        mask = keys == key
        if len(pool):
            out[mask] = pool[rng.integers(0, len(pool), size=int(mask.sum()))]
    return out


def _team_on_shift(rng: np.random.Generator, w: World, team: np.ndarray,
                   t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A random member of each row's team (-1 padded) on shift at ``t``, and their shift session.
    day = np.full(team.shape, -1, np.int64)
    for k in range(team.shape[1]):
        has = team[:, k] >= 0
        day[has, k] = shift_day_at(w, team[has, k], t[has])
    on = day >= 0
    score = np.where(on, rng.random(team.shape), -1.0)
    pick = np.argmax(score, axis=1)
    rows = np.arange(len(team))
    found = on[rows, pick]
    user = np.where(found, team[rows, pick], -1)
    session = np.where(found, user * 100_000 + day[rows, pick], -1)
    return user, session


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
    hosp = idx[d.admitted[idx]]
    # 1. Care during the stay: the attending team reads the chart, ~5 reads per day, each by a
    #    member who is on shift at that moment (a read with nobody of the team on shift is dropped).
    if len(hosp):
        start = np.maximum(d.admission[hosp], 0)
        stay_days = (d.t[hosp] - start) / DAY
        counts = np.minimum(rng.poisson(5 * np.maximum(stay_days, 0.1)), 150)
        rows = np.repeat(np.arange(len(hosp)), counts)
        span = (d.t[hosp] - start)[rows]
        when = start[rows] + (rng.random(len(rows)) * span).astype(np.int64)
        user, session = _team_on_shift(rng, w, d.team[hosp][rows], when)
        for _ in range(3):  # a read drawn while nobody of the team works is drawn again
            again = np.flatnonzero(user < 0)
            when[again] = start[rows[again]] + (rng.random(len(again)) * span[again]).astype(np.int64)
            user[again], session[again] = _team_on_shift(rng, w, d.team[hosp][rows[again]], when[again])
        ok = user >= 0
        rows = rows[ok]
        blocks.append(block(t=when[ok], user=user[ok], action=A["read"], rtype=R["encounter"],
                            subj=hosp[rows], res=hosp[rows], fields=F_PATIENT,
                            purpose=P["TREAT"], reason=W["policy:care-team"],
                            session=session[ok]))
        for k in range(d.team.shape[1]):
            has = d.team[hosp, k] >= 0
            rels.append(rel(d.team[hosp[has], k], hosp[has], K["attending"],
                            d.admission[hosp[has]], d.t[hosp[has]] + CERTIFIER_WINDOW))
    # 2. The certifier writes the report on shift (``schedule_reports``), then amends it and
    #    prints the certificate.
    created, s_created = d.created[idx], d.created_session[idx]  # see schedule_reports
    amended, s_amended = next_on_shift(
        rng, w, cert, created + rng.integers(HOUR // 2, 30 * HOUR, len(idx)))
    printed, s_printed = next_on_shift(
        rng, w, cert, created + rng.integers(HOUR, 48 * HOUR, len(idx)))
    for when, sess, action in ((created, s_created, "create"), (amended, s_amended, "update"),
                               (printed, s_printed, "print")):
        blocks.append(block(t=when, user=cert, action=A[action], rtype=R["death_report"],
                            subj=subj, res=subj, fields=F_FULL, purpose=P["TREAT"],
                            reason=W["policy:care-team"], session=sess))
    rels.append(rel(cert, subj, K["certifier"], t, t + CERTIFIER_WINDOW))
    # 3. The district CDC coder codes the cause within days, in office hours.
    coder = _pick(rng, org_pools(w, "cdc_coder"), d.district_cdc[idx])
    coded = office_time(rng, w, created + rng.integers(HOUR, 7 * DAY, len(idx)))
    coded, s_coder = next_on_shift(rng, w, coder, coded)  # not on leave days
    blocks.append(block(t=coded, user=coder, action=A["read"], rtype=R["death_report"],
                        subj=subj, res=subj, fields=F_CODING, purpose=P["PUBHLTH"],
                        reason=W["policy:jurisdiction"], terminal=-2, session=s_coder))
    blocks.append(block(t=coded + rng.integers(60, 1800, len(idx)), user=coder,
                        action=A["update"], rtype=R["death_report"], subj=subj, res=subj,
                        fields=F_CODING, purpose=P["PUBHLTH"], reason=W["policy:jurisdiction"],
                        session=s_coder))
    rels.append(rel(coder, subj, K["coder"], created, created + CODER_WINDOW))
    # 4. The family presents its code at the police station to cancel the household entry.
    registrar = _pick(rng, org_pools(w, "police_registrar"), d.police[idx])
    presented = office_time(rng, w, np.maximum(
        t + (rng.gamma(2.0, 5.0, len(idx)) * DAY).astype(np.int64) + 2 * DAY, created + HOUR))
    presented, s_registrar = next_on_shift(rng, w, registrar, presented)
    blocks.append(block(t=presented, user=registrar, action=A["read"], rtype=R["death_report"],
                        subj=subj, res=subj, fields=F_REGISTRY, purpose=P["LEGAL"],
                        reason=W["policy:jurisdiction"], session=s_registrar))
    rels.append(rel(registrar, subj, K["registrar"], presented - 300, presented + 7 * DAY))
    # 5. The funeral home collects the body once the report exists; the clerk on shift reads
    #    the report and the relatives.
    clerk = _pick(rng, org_pools(w, "funeral_clerk"), d.funeral[idx])
    collected = np.maximum(t + rng.integers(2 * HOUR, 48 * HOUR, len(idx)),
                           created + rng.integers(600, 4 * HOUR, len(idx)))
    collected, s_clerk = next_on_shift(rng, w, clerk, collected)
    blocks.append(block(t=collected, user=clerk, action=A["read"], rtype=R["death_report"],
                        subj=subj, res=subj, fields=F_FUNERAL, purpose=P["FAMRQT"],
                        reason=W["policy:funeral-code"], session=s_clerk))
    rels.append(rel(clerk, subj, K["funeral"], collected - 300, collected + 14 * DAY))
    # 6. The attending team looks at the report after it is written (explained by attending).
    if len(hosp):
        member = d.team[hosp, 0]
        at = np.maximum(d.t[hosp] + rng.integers(600, 20 * HOUR, len(hosp)),
                        created[d.admitted[idx]] + rng.integers(300, 4 * HOUR, len(hosp)))
        at, s_member = next_on_shift(rng, w, member, at)
        blocks.append(block(t=at, user=member, action=A["read"], rtype=R["death_report"],
                            subj=hosp, res=hosp, fields=F_CLINICAL_DEATH, purpose=P["TREAT"],
                            reason=W["policy:care-team"], session=s_member))
    blocks.append(_noise(rng, w, d, idx, created))
    return concat(blocks), rel_concat(rels)


def _noise(rng: np.random.Generator, w: World, d: Deaths, idx: np.ndarray,
           created: np.ndarray) -> Block:
    """Innocent accesses without a documented relationship (what naive rules flag)."""
    blocks: list[Block] = []
    in_hosp = d.hospital[idx] >= 0
    # Reads of the report come after it is written (``created`` is aligned with ``idx``).
    written = np.zeros(len(d.t), np.int64)
    written[idx] = created
    # A colleague in the same hospital covers for the certifier within hours of death.
    pick = idx[in_hosp & (rng.random(len(idx)) < NOISE["covering_colleague"])]
    if len(pick):
        user = _pick(rng, org_pools(w, "physician"), d.hospital[pick])
        when = np.maximum(d.t[pick] + rng.integers(HOUR, 12 * HOUR, len(pick)),
                          written[pick] + rng.integers(300, 4 * HOUR, len(pick)))
        when, session = next_on_shift(rng, w, user, when)
        blocks.append(block(t=when, user=user,
                            action=A["read"], rtype=R["death_report"], subj=pick, res=pick,
                            fields=F_CLINICAL_DEATH, purpose=P["TREAT"],
                            reason=W["policy:care-team"], session=session))
    # A supervisor or quality reviewer of the hospital audits the case days later.
    pick = idx[in_hosp & (rng.random(len(idx)) < NOISE["quality_review"])]
    if len(pick):
        sup_pools = [p[w.supervisor[p]] if len(p) else p for p in org_pools(w, "physician")]
        user = _pick(rng, sup_pools, d.hospital[pick])
        when = office_time(rng, w, np.maximum(d.t[pick], written[pick])
                           + rng.integers(DAY, 14 * DAY, len(pick)))
        when, session = next_on_shift(rng, w, user, when)
        blocks.append(block(t=when, user=user, action=A["read"], rtype=R["death_report"],
                            subj=pick, res=pick, fields=F_FULL, purpose=P["HOPERAT"],
                            reason=W["policy:care-team"], session=session))
    # The certifier re-reads and corrects the report weeks later, after the window closed.
    pick = idx[(d.certifier[idx] >= 0) & (rng.random(len(idx)) < NOISE["late_correction"])]
    if len(pick):
        when = np.maximum(d.t[pick] + CERTIFIER_WINDOW, written[pick]) + rng.integers(
            DAY, 30 * DAY, len(pick))
        when, session = next_on_shift(rng, w, d.certifier[pick], when)
        for action in ("read", "update"):
            blocks.append(block(t=when, user=d.certifier[pick], action=A[action],
                                rtype=R["death_report"], subj=pick, res=pick, fields=F_FULL,
                                purpose=P["TREAT"], reason=W["policy:care-team"],
                                session=session))
            when = when + rng.integers(60, 900, len(pick))
    # An emergency physician breaks the glass for a dying patient, then treats (justified).
    pick = idx[d.admitted[idx] & (rng.random(len(idx)) < NOISE["justified_breakglass"])]
    if len(pick):
        pools = [w.by_org_dept_role.get((k, 6, 0), np.empty(0, np.int64))
                 for k in range(len(w.org_ids))]
        when = d.t[pick] - rng.integers(HOUR, 6 * HOUR, len(pick))
        user = np.full(len(pick), -1, np.int64)
        session = np.full(len(pick), -1, np.int64)
        for k in range(len(pick)):  # an emergency physician on duty at that moment (rare rows)
            pool = pools[int(d.hospital[pick[k]])]
            days = shift_day_at(w, pool, np.full(len(pool), when[k]))
            on = np.flatnonzero(days >= 0)
            if len(on):
                j = on[rng.integers(0, len(on))]
                user[k], session[k] = pool[j], pool[j] * 100_000 + days[j]
        ok = user >= 0
        pick, user, when, session = pick[ok], user[ok], when[ok], session[ok]
        blocks.append(block(t=when, user=user, action=A["breakglass"], rtype=R["encounter"],
                            subj=pick, res=pick, purpose=P["BTG"], reason=W["policy:breakglass"],
                            session=session))
        for step in (300, 1500):
            blocks.append(block(t=when + step, user=user, action=A["read"] if step < 1000 else
                                A["update"], rtype=R["encounter"], subj=pick, res=pick,
                                fields=F_PATIENT, purpose=P["BTG"],
                                reason=W["policy:breakglass"], session=session))
    # The sending hospital's team of a transferred patient follows up after the death.
    pick = idx[d.moved_from[idx] >= 0]
    if len(pick):
        user = _pick(rng, org_pools(w, "physician"), d.moved_from[pick])
        when = np.maximum(d.t[pick], written[pick]) + rng.integers(DAY, 10 * DAY, len(pick))
        when, session = next_on_shift(rng, w, user, when)
        blocks.append(block(t=when, user=user,
                            action=A["read"], rtype=R["death_report"], subj=pick, res=pick,
                            fields=F_CLINICAL_DEATH, purpose=P["TREAT"],
                            reason=W["policy:care-team"], session=session))
    return concat(blocks)


def call_events(
    rng: np.random.Generator, w: World, *, call: np.ndarray, assign: np.ndarray,
    en_route: np.ndarray, on_scene: np.ndarray, closed: np.ndarray, crew: np.ndarray,
    terminal: np.ndarray, subj: np.ndarray, res: np.ndarray,
) -> tuple[Block, Rel]:
    """Dispatcher and crew (MDT) accesses to calls; ``crew`` is (n, 2) staff indices."""
    blocks: list[Block] = []
    dispatcher, desk = _dispatchers_on_duty(rng, w, call)
    blocks.append(block(t=call, user=dispatcher, action=A["create"], rtype=R["dispatch"],
                        subj=subj, res=res, fields=F_DISPATCH, purpose=P["ETREAT"],
                        reason=W["policy:crew-assignment"], session=desk))
    blocks.append(block(t=assign, user=dispatcher, action=A["update"], rtype=R["dispatch"],
                        subj=subj, res=res, fields=F_STATUS, purpose=P["ETREAT"],
                        reason=W["policy:crew-assignment"], session=desk))
    lead = crew[:, 0]
    other = np.where(crew[:, 1] >= 0, crew[:, 1], lead)
    # Crews work 24 h shifts from 08:00: the session is the login of the shift's first day.
    shift_day = (assign - 8 * HOUR) // DAY
    for when, user, action, fields in (
        (assign + rng.integers(5, 60, len(call)), lead, "read", F_DISPATCH),
        (en_route, lead, "update", F_STATUS),
        (on_scene - rng.integers(30, 240, len(call)), other, "read", F_DISPATCH),
        (on_scene, lead, "update", F_STATUS),
        (closed, lead, "update", F_STATUS),
    ):
        blocks.append(block(t=when, user=user, action=A[action], rtype=R["dispatch"], subj=subj,
                            res=res, fields=fields, purpose=P["ETREAT"],
                            reason=W["policy:crew-assignment"], terminal=terminal,
                            session=np.where(user >= 0, user * 100_000 + shift_day, -1)))
    rels = [rel(crew[:, k][crew[:, k] >= 0], subj[crew[:, k] >= 0], K["crew"],
                assign[crew[:, k] >= 0], closed[crew[:, k] >= 0] + MDT_GRACE) for k in (0, 1)]
    rels.append(rel(dispatcher, subj, K["dispatcher"], call - 60, closed))
    return concat(blocks), rel_concat(rels)


def _dispatchers_on_duty(rng: np.random.Generator, w: World,
                         t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Day shift 08-20 is phase 0 of the 4-day cycle, night shift 20-08 phase 1 (roster.py);
    # returns the dispatcher and their shift's session. citybuild staffs every phase, so the
    # fallback (a random dispatcher) only serves a hand-built city with too few dispatchers.
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
    return out, np.where(missing, -1, out * 100_000 + shift_day)


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
