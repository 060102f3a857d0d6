"""Insider-misuse scenarios: who misbehaves, when and how, with ground-truth labels.

Each scenario picks its insiders from the city with its own random stream and returns the
events of the misuse (``scenario`` column set), the labelled users and, for the broker,
the complaints of families who were then called. Scenarios are generated once for the whole
period and merged into the day-by-day stream by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from piguard.errors import InputError
from piguard.interchange.events import ROLES
from piguard.simulate.calls import day_calls
from piguard.simulate.columns import (
    CALLER_BASE,
    F_CLINICAL_DEATH,
    F_CONTACT,
    F_DISPATCH,
    F_FULL,
    F_NONE,
    FIELDSETS,
    OTHER_CALL_BASE,
    A,
    Block,
    P,
    R,
    W,
    block,
)
from piguard.simulate.names import SCENARIOS as SCENARIOS  # re-exported
from piguard.simulate.roster import shift_on
from piguard.simulate.workflows import DAY, HOUR, Deaths
from piguard.simulate.world import World

# Insiders per scenario at each scale (the broker ring is larger).
INSIDERS = {"demo": 1, "small": 2, "city": 8}
BROKERS = {"demo": 2, "small": 3, "city": 10}
COMPLAINT_SHARE = 0.8     # broker victims who receive a marketing call and complain
DECOY_SHARE = 0.3         # share of complaints unrelated to any insider


@dataclass
class Outcome:
    """What the scenarios produced."""

    blocks: list[Block] = field(default_factory=list)
    extras: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)
    insiders: list[tuple[int, str]] = field(default_factory=list)  # (staff index, scenario)
    complaints: list[tuple[str, int, str]] = field(default_factory=list)  # subject, t, caller
    touched: set[int] = field(default_factory=set)  # death indices a scenario accessed


@dataclass
class Ctx:
    """Inputs the scenario functions share."""

    w: World
    d: Deaths
    rng: np.random.Generator
    code: int
    name: str
    out: Outcome
    excluded: set[int]  # staff already used by another scenario

    def event(self, **cols: object) -> None:
        """Append one malicious event."""
        self.out.blocks.append(block(1, scenario=self.code, **{
            k: np.array([v]) for k, v in cols.items()}))

    def shift_window(self, user: int, day: int) -> tuple[int, int] | None:
        """(start, end) seconds of ``user``'s shift on ``day``, or None."""
        staff = self.w.city.staff[user]
        found = shift_on(staff.roster, day=day, start=self.w.city.start.date())
        if found is None:
            return None
        start = day * DAY + found[0] * 60
        return start, start + found[1] * 60

    def listing(self, query: str, found: np.ndarray, fields: int = F_NONE) -> int:
        """Keep a search's or export's result list; returns its ``extra`` index.

        When the listed ``fields`` include relatives' phones, every listed family counts as
        touched by an insider (so no decoy complaint is drawn among them).
        """
        first = len(self.out.extras)
        self.out.extras.append((query, len(found), tuple(self.w.death_ids[int(v)] for v in found)))
        if "relative.phone" in FIELDSETS[fields]:
            self.out.touched.update(int(v) for v in found)
        return first

    def pick_users(self, candidates: np.ndarray, n: int) -> list[int]:
        """``n`` distinct candidates not used by another scenario."""
        pool = [int(c) for c in candidates if int(c) not in self.excluded]
        chosen = [pool[int(k)] for k in self.rng.permutation(len(pool))[:n]]
        self.excluded.update(chosen)
        for user in chosen:
            self.out.insiders.append((user, self.name))
        return chosen


def parse_scenarios(text: str | None) -> tuple[str, ...]:
    """Scenario names from a comma list ('all' or None = every scenario, 'none' = none)."""
    if text is None or text.strip() in ("", "all"):
        return SCENARIOS
    if text.strip() == "none":
        return ()
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise InputError(
            f"unknown scenario {unknown[0]!r}; expected any of {', '.join(SCENARIOS)}",
            where="--scenarios",
        )
    return names


def run_scenarios(w: World, d: Deaths, names: tuple[str, ...], *, seed: int) -> Outcome:
    """Generate every requested scenario; deterministic per seed."""
    out = Outcome()
    excluded: set[int] = set()
    for name in names:
        code = SCENARIOS.index(name) + 1
        rng = np.random.default_rng(np.random.SeedSequence([seed, 300, code]))
        _RUNNERS[name](Ctx(w, d, rng, code, name, out, excluded))
    _decoy_complaints(w, d, out, seed=seed)
    return out


def _clinicians(w: World, district: str | None = None) -> np.ndarray:
    mask = np.isin(w.role, [ROLES.index("physician"), ROLES.index("nurse")])
    mask &= w.transfer_t > 2**61
    if district is not None:
        mask &= np.array([w.org_district[int(o)] == district for o in w.org])
    return np.flatnonzero(mask)


def _fresh_elsewhere(c: Ctx, user: int, t: int, within: int, *, listed: bool = False) -> np.ndarray:
    d = c.d
    own = int(c.w.org[user])
    # "Elsewhere" is another institution's report (the certifier's hospital), as the context
    # and the policy see it, not the place of death: a home death belongs to its certifier's.
    # A listing (a search's results) shows the canaries that match like any other record: they
    # are indistinguishable on screen; a record picked without a listing is a real one. Either
    # way only a report that exists can be found or opened (``d.created``; a canary's exists from
    # the death on): searches used to list deaths whose report was still unwritten.
    mask = (d.t <= t - 600) & (d.t >= t - within) & (d.institution != own) & (d.created <= t)
    if not listed:
        mask &= ~d.canary
    return np.flatnonzero(mask)


def _read_record(c: Ctx, user: int, t: int, death: int, *, contact: bool, purpose: str = "TREAT",
                 reason: str = "policy:care-team") -> None:
    c.event(t=t, user=user, action=A["read"], rtype=R["death_report"], subj=death, res=death,
            fields=F_FULL, purpose=P[purpose], reason=W[reason])
    if contact:
        c.event(t=t + int(c.rng.integers(20, 240)), user=user, action=A["read"],
                rtype=R["contact"], subj=death, res=death, fields=F_CONTACT, purpose=P[purpose],
                reason=W[reason])
    c.out.touched.add(death)


def minhang_broker(c: Ctx) -> None:
    """Over-broad scope in Minhang: fresh deaths elsewhere, within hours, then marketing calls."""
    days = c.w.city.days
    callers = [f"021{int(x):08d}" for x in c.rng.integers(0, 10**8, 3)]
    for user in c.pick_users(_clinicians(c.w, "310112"), BROKERS[c.w.city.scale]):
        begin = int(c.rng.integers(0, max(1, days // 5)))
        for day in range(begin, days):
            window = c.shift_window(user, day)
            if window is None or c.rng.random() > 0.5:
                continue
            t = int(c.rng.integers(window[0], window[1]))
            victims = _fresh_elsewhere(c, user, t, 6 * HOUR, listed=True)
            if not len(victims):
                continue
            chosen = c.rng.choice(victims, size=min(len(victims), int(c.rng.integers(1, 4))),
                                  replace=False)
            first = c.listing("died_within=6h", victims)
            c.event(t=t, user=user, action=A["search"], rtype=R["death_report"],
                    purpose=P["TREAT"], reason=W["policy:care-team"], extra=first)
            for k, victim in enumerate(chosen):
                _read_record(c, user, t + 60 + 300 * k, int(victim), contact=True)
                if c.rng.random() < COMPLAINT_SHARE:
                    call = _office_call(c.rng, int(c.d.t[victim]) + int(c.rng.integers(DAY, 5 * DAY)))
                    c.out.complaints.append((c.w.death_ids[int(victim)], call,
                                             callers[int(c.rng.integers(0, len(callers)))]))


def mdt_harvest(c: Ctx) -> None:
    """Crew members read calls not assigned to them, or their own long after close."""
    w = c.w
    emts = np.flatnonzero(w.role == ROLES.index("emt"))
    hospitals = [o for o in w.city.organisations if o.org_type == "hospital"]
    for user in c.pick_users(emts, INSIDERS[w.city.scale]):
        own_terminal = w.city.staff[user].vehicle_terminal
        for day in range(int(c.rng.integers(0, max(1, w.city.days // 4))), w.city.days):
            window = c.shift_window(user, day)
            if window is None or c.rng.random() > 0.6:
                continue
            calls = day_calls(seed=w.city.seed, scale=w.scale, dists=w.city.districts,
                              hospitals=hospitals, vehicles=w.city.vehicles, day=day)
            others = np.flatnonzero(
                np.array([w.city.vehicles[int(v)].terminal_id != own_terminal
                          for v in calls.vehicle], bool)
                & (calls.call >= window[0]) & (calls.call < window[1] - HOUR))
            for k in c.rng.permutation(others)[: int(c.rng.integers(2, 6))]:
                t = int(calls.call[k] + calls.on_scene[k]) + int(c.rng.integers(60, 3 * HOUR))
                subj = CALLER_BASE + day * 100_000 + int(k)
                c.event(t=t, user=user, action=A["read"], rtype=R["dispatch"], subj=subj,
                        res=OTHER_CALL_BASE + day * 100_000 + int(k), fields=F_DISPATCH,
                        purpose=P["ETREAT"], reason=W["policy:crew-assignment"])


def credential_sharing(c: Ctx) -> None:
    """One account used from a second workstation while its owner is logged in elsewhere."""
    w = c.w
    for user in c.pick_users(_clinicians(w), INSIDERS[w.city.scale]):
        other = int(c.rng.integers(0, len(w.terminals)))
        while other == int(w.workstation[user]) or w.terminals[other].startswith("mdt"):
            other = int(c.rng.integers(0, len(w.terminals)))
        begin = int(c.rng.integers(0, max(1, w.city.days - 28)))
        for day in range(begin, min(w.city.days, begin + 28)):
            window = c.shift_window(user, day)
            if window is None or c.rng.random() > 0.4:
                continue
            t = int(c.rng.integers(window[0] + HOUR, max(window[0] + HOUR + 1, window[1] - HOUR)))
            session = int(user) * 100_000 + day + 50_000
            c.event(t=t, user=user, action=A["login"], rtype=R[""], terminal=other,
                    session=session)
            recent = np.flatnonzero((c.d.t < t) & (c.d.t > t - 3 * DAY) & ~c.d.canary
                                    & (c.d.institution == w.org[user]))
            for k, death in enumerate(c.rng.permutation(recent)[:3]):
                c.event(t=t + 120 * (k + 1), user=user, action=A["read"],
                        rtype=R["death_report"], subj=int(death), res=int(death), fields=F_FULL,
                        purpose=P["TREAT"], reason=W["policy:care-team"], terminal=other,
                        session=session)
                c.out.touched.add(int(death))
            c.event(t=t + 900, user=user, action=A["logout"], rtype=R[""], terminal=other,
                    session=session)


def bulk_export(c: Ctx) -> None:
    """A coder exports identifiable lists with relatives' phones, beyond their district."""
    w = c.w
    coders = np.flatnonzero(w.role == ROLES.index("cdc_coder"))
    for user in c.pick_users(coders, INSIDERS[w.city.scale]):
        done = 0
        for day in c.rng.permutation(np.arange(min(7, w.city.days - 1), w.city.days)):
            window = c.shift_window(user, int(day))
            if window is None or done >= 4:
                continue
            t = int(c.rng.integers(window[0], window[1]))
            # The export lists every death of the week, canaries included (they match the filter).
            found = np.flatnonzero((c.d.t < t) & (c.d.t > t - 7 * DAY) & (c.d.created <= t))
            if not len(found):
                continue
            done += 1
            first = c.listing("died_within=7d district=* fields=relatives", found, F_FULL)
            c.event(t=t, user=user, action=A["export"], rtype=R["death_report"], fields=F_FULL,
                    purpose=P["PUBHLTH"], reason=W["policy:jurisdiction"], extra=first)


def _snoop(c: Ctx, same_family: bool) -> None:
    w, d = c.w, c.d
    by_compound: dict[str, list[int]] = {}
    for k, death in enumerate(w.city.deaths):
        if not death.is_canary:
            by_compound.setdefault(death.compound, []).append(k)
    candidates: dict[int, np.ndarray] = {}
    for user in _clinicians(w):
        s = w.city.staff[int(user)]
        found = [k for k in by_compound.get(s.home_compound, ())
                 if d.institution[k] != w.org[user]
                 and (not same_family or w.city.deaths[k].surname == s.surname)]
        if found:
            candidates[int(user)] = np.array(found, np.int64)
    chosen = c.pick_users(np.array(sorted(candidates), np.int64), INSIDERS[w.city.scale])
    for user in chosen:
        for victim in candidates[user][:3]:
            for repeat in range(2 if same_family else 1):
                t = int(d.t[victim]) + int(c.rng.integers(2 * HOUR, 5 * DAY)) + repeat * 3 * DAY
                _read_record(c, user, t, int(victim), contact=same_family)


def neighbour_snoop(c: Ctx) -> None:
    """Staff read the records of people who died in their own residential compound."""
    _snoop(c, same_family=False)


def family_snoop(c: Ctx) -> None:
    """Staff read their own relatives' records (same surname, same compound)."""
    _snoop(c, same_family=True)


def slow_and_low(c: Ctx) -> None:
    """One record every few weeks, hidden among covering reads of the user's own patients."""
    w, d = c.w, c.d
    own_cases: dict[int, list[int]] = {}
    for i in np.flatnonzero(d.team[:, 0] >= 0):
        for member in d.team[i]:
            if member >= 0:
                own_cases.setdefault(int(member), []).append(int(i))
    pool = np.array([u for u, cases in own_cases.items() if len(cases) >= 3
                     and w.role[u] == ROLES.index("physician")], np.int64)
    for user in c.pick_users(pool, INSIDERS[w.city.scale]):
        day = int(c.rng.integers(0, 14))
        while day < w.city.days:
            window = c.shift_window(user, day)
            if window is not None:
                t = int(c.rng.integers(window[0], window[1] - HOUR))
                victims = _fresh_elsewhere(c, user, t, 2 * DAY)
                if len(victims):
                    _read_record(c, user, t, int(c.rng.choice(victims)), contact=True)
                    # Covering reads: the user's own (explained) cases around the same time.
                    cases = [k for k in own_cases[user] if d.t[k] < t]
                    for k in cases[-3:]:
                        c.out.blocks.append(block(
                            1, t=np.array([t + int(c.rng.integers(-1800, 1800))]),
                            user=np.array([user]), action=A["read"], rtype=R["death_report"],
                            subj=np.array([k]), res=np.array([k]), fields=F_CLINICAL_DEATH,
                            purpose=P["TREAT"], reason=W["policy:care-team"]))
                    day += int(c.rng.integers(14, 36))
                    continue
            day += 1


def breakglass_abuse(c: Ctx) -> None:
    """Break-glass on records outside one's care, with no clinical activity afterwards."""
    w = c.w
    for user in c.pick_users(_clinicians(w), INSIDERS[w.city.scale]):
        done = 0
        for day in c.rng.permutation(w.city.days):
            window = c.shift_window(user, int(day))
            if window is None or done >= 3:
                continue
            t = int(c.rng.integers(window[0], window[1]))
            victims = _fresh_elsewhere(c, user, t, 3 * DAY)
            if not len(victims):
                continue
            done += 1
            victim = int(c.rng.choice(victims))
            c.event(t=t, user=user, action=A["breakglass"], rtype=R["death_report"], subj=victim,
                    res=victim, purpose=P["BTG"], reason=W["policy:breakglass"])
            _read_record(c, user, t + 45, victim, contact=True, purpose="BTG",
                         reason="policy:breakglass")


def canary_hit(c: Ctx) -> None:
    """Someone looks up planted decoy records."""
    w, d = c.w, c.d
    canaries = np.flatnonzero(d.canary)
    roles = [ROLES.index(r) for r in ("police_registrar", "funeral_clerk", "physician")]
    for user in c.pick_users(np.flatnonzero(np.isin(w.role, roles)), INSIDERS[w.city.scale]):
        for victim in c.rng.permutation(canaries)[:2]:
            earliest = max(int(d.t[victim]) + HOUR, 0)
            latest = max(earliest + 1, w.city.days * DAY - HOUR)  # inside the period
            t = min(earliest + int(c.rng.integers(0, 5 * DAY)), latest)
            first = c.listing(f"name_prefix={w.city.deaths[int(victim)].surname}",
                              np.array([victim]))
            c.event(t=t, user=user, action=A["search"], rtype=R["death_report"],
                    purpose=P["TREAT"], reason=W["policy:care-team"], extra=first)
            _read_record(c, user, t + 90, int(victim), contact=False)


def _office_call(rng: np.random.Generator, t: int) -> int:
    # Marketing calls happen between 09:00 and 20:00.
    return (t // DAY) * DAY + 9 * HOUR + int(rng.integers(0, 11 * HOUR))


def _decoy_complaints(w: World, d: Deaths, out: Outcome, *, seed: int) -> None:
    # Families called by marketers who got their number elsewhere (no insider involved).
    rng = np.random.default_rng(np.random.SeedSequence([seed, 399]))
    real = len(out.complaints)
    n = max(2, round(real * DECOY_SHARE / (1 - DECOY_SHARE)))
    pool = np.array([i for i in np.flatnonzero(~d.canary) if int(i) not in out.touched])
    for victim in rng.choice(pool, size=min(n, len(pool)), replace=False):
        call = _office_call(rng, int(d.t[victim]) + int(rng.integers(DAY, 10 * DAY)))
        out.complaints.append((w.death_ids[int(victim)], call,
                               f"021{int(rng.integers(0, 10**8)):08d}"))


_RUNNERS: dict[str, Callable[[Ctx], None]] = {
    "minhang_broker": minhang_broker, "mdt_harvest": mdt_harvest,
    "credential_sharing": credential_sharing, "bulk_export": bulk_export,
    "neighbour_snoop": neighbour_snoop, "family_snoop": family_snoop,
    "slow_and_low": slow_and_low, "breakglass_abuse": breakglass_abuse,
    "canary_hit": canary_hit,
}
