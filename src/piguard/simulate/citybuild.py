"""Builders behind ``build_city``: districts, organisations, staff, deaths and dispatches.

Draws are vectorised with numpy where counts are large (deaths, relatives) so the city of
Shanghai's size builds in seconds. Every distribution used here is listed in docs/simulator.md.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np

from piguard.simulate import data, lifecourse, people
from piguard.simulate.calls import Crews, crew_for, crew_index, day_calls, materialise
from piguard.simulate.city import (
    DEPARTMENTS,
    CauseLine,
    Death,
    Dispatch,
    District,
    Organisation,
    Relative,
    Staff,
    Transfer,
    Vehicle,
)
from piguard.simulate.roster import Roster, shift_on
from piguard.simulate.scales import Scale

# Hour-of-death weights (0..23): deaths cluster slightly in the early morning.
HOUR_WEIGHTS = np.array(
    [1.1, 1.1, 1.15, 1.2, 1.25, 1.25, 1.2, 1.1, 1.0, 1.0, 0.95, 0.95,
     0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.95, 0.95, 1.0, 1.0, 1.05]
)
SEASONAL_AMPLITUDE = 0.18  # winter peak, summer trough (Shanghai monthly death counts)
BEDS_SIGMA = 0.35  # spread of hospital sizes around the scale's median (lognormal)
TRANSFER_SHARE = 0.02  # hospital clinicians who move to another hospital during the period
TRANSFERRED_PATIENTS = 0.02  # hospital deaths of patients transferred in from another hospital
DISPATCH_SHARE_HOME = 0.7  # home and care-home deaths for which 120 was called


def districts(rng: np.random.Generator, scale: Scale) -> tuple[District, ...]:
    """The scale's districts with their residential compounds."""
    rows = [row for row in data.DISTRICTS if row[0] in data.SCALE_DISTRICTS[scale.name]]
    total = sum(row[2] for row in rows)
    return tuple(
        District(
            adcode=code, name=name, population_share=share / total, lat=lat, lon=lon,
            compounds=tuple(
                people.compounds(rng, district=code, district_name=name,
                                 n=scale.compounds_per_district)
            ),
        )
        for code, name, share, lat, lon in rows
    )


def organisations(
    rng: np.random.Generator, scale: Scale, dists: tuple[District, ...]
) -> tuple[Organisation, ...]:
    """Hospitals sized by beds, the emergency centre, CDCs, police, funeral homes, offices."""
    orgs: list[Organisation] = []
    for d in dists:
        for k in range(scale.hospitals_per_district):
            municipal = k == 0 and d.population_share > 0.05
            beds = round(scale.beds_median * float(rng.lognormal(0.0, BEDS_SIGMA))
                             * (1.6 if municipal else 1.0))
            orgs.append(Organisation(
                org_id=f"org-h-{d.adcode}-{k + 1:02d}",
                name=f"{d.name}{'中心医院' if k == 0 else f'第{k + 1}人民医院'}",
                org_type="hospital", district=d.adcode,
                level="municipal" if municipal else "district", beds=max(beds, 80),
            ))
    seat = dists[0].adcode
    orgs.append(Organisation("org-ems", "上海市医疗急救中心", "emergency_center", seat, "municipal"))
    orgs.append(Organisation("org-cdc-sh", "上海市疾病预防控制中心", "cdc", seat, "municipal"))
    for d in dists:
        orgs.append(Organisation(f"org-cdc-{d.adcode}", f"{d.name}疾病预防控制中心", "cdc",
                                 d.adcode, "district"))
        orgs.append(Organisation(f"org-psb-{d.adcode}", f"{d.name}公安分局户政科", "police",
                                 d.adcode, "district"))
    for k in range(scale.funeral_homes):
        d = dists[k % len(dists)]
        orgs.append(Organisation(f"org-fh-{k + 1:02d}", f"{d.name}殡仪馆{k + 1}",
                                 "funeral_home", d.adcode, "municipal" if k == 0 else "district"))
    orgs.append(Organisation("org-mca-sh", "上海市民政局", "civil_affairs", seat, "municipal"))
    orgs.append(Organisation("org-hc-sh", "上海市卫生健康委员会", "health_commission", seat,
                             "municipal"))
    return tuple(orgs)


def vehicles(scale: Scale, dists: tuple[District, ...]) -> tuple[Vehicle, ...]:
    """Ambulances, ``vehicles_per_district`` per district, each with its own MDT."""
    out: list[Vehicle] = []
    for d in dists:
        for k in range(scale.vehicles_per_district):
            number = len(out) + 1
            out.append(Vehicle(f"veh-{number:04d}", f"mdt-{number:04d}",
                               f"{d.name}急救站{k % 3 + 1}", d.adcode))
    return tuple(out)


class _StaffMaker:
    # Draws come from pre-drawn blocks: per-person numpy calls made a city-size build slow.
    BLOCK = 8192

    def __init__(self, rng: np.random.Generator, dists: tuple[District, ...]) -> None:
        self.rng = rng
        self.dists = dists
        self.out: list[Staff] = []
        self._u: list[float] = []
        self._names: list[tuple[str, str]] = []

    def _uniform(self) -> float:
        if not self._u:
            self._u = self.rng.random(self.BLOCK).tolist()
        return self._u.pop()

    def add(self, *, role: str, org: Organisation, department: str, roster: Roster,
            terminal: str | None = None, supervisor: bool = False) -> Staff:
        if not self._names:
            flags = self.rng.random(self.BLOCK) < 0.5
            family, full = people.full_names(self.rng, flags)
            self._names = list(zip(family, full, strict=True))
        surname, name = self._names.pop()
        home = next(d for d in self.dists if d.adcode == org.district)
        if self._uniform() > 0.7:  # 30% commute from another district
            home = self.dists[int(self._uniform() * len(self.dists))]
        compound = home.compounds[int(self._uniform() * len(home.compounds))]
        staff = Staff(
            staff_id=f"u{len(self.out) + 1:06d}", display_name=name, surname=surname, role=role,
            org_id=org.org_id, department=department, home_district=home.adcode,
            home_compound=compound, roster=roster, vehicle_terminal=terminal,
            supervisor=supervisor,
        )
        self.out.append(staff)
        return staff


def _leave(rng: np.random.Generator, days: int) -> tuple[int, ...]:
    # About a third of staff take one block of 3-10 days' leave in the period.
    if days < 20 or rng.random() > 0.33:
        return ()
    length = int(rng.integers(3, 11))
    begin = int(rng.integers(0, days - length))
    return tuple(range(begin, begin + length))


def staff(
    rng: np.random.Generator, scale: Scale, dists: tuple[District, ...],
    orgs: tuple[Organisation, ...], vehs: tuple[Vehicle, ...], *, start: datetime, days: int,
) -> tuple[Staff, ...]:
    """Everyone with an account: clinicians, crews, dispatchers, coders, registrars, clerks."""
    maker = _StaffMaker(rng, dists)
    hospitals = [o for o in orgs if o.org_type == "hospital"]
    for hospital in hospitals:
        for role, per_100 in (("physician", scale.physicians_per_100_beds),
                              ("nurse", scale.nurses_per_100_beds)):
            count = max(len(DEPARTMENTS), round(hospital.beds * per_100 / 100))
            for k in range(count):
                dept = DEPARTMENTS[k % len(DEPARTMENTS)]
                night = rng.random() < (0.2 if role == "physician" else 0.35)
                roster = Roster("night" if night else "day5", int(rng.integers(0, 7)),
                                _leave(rng, days))
                maker.add(role=role, org=hospital, department=dept, roster=roster,
                          supervisor=role == "physician" and k < len(DEPARTMENTS))
    ems = next(o for o in orgs if o.org_type == "emergency_center")
    # Offsets run on across districts so every phase of the 4-day rota is staffed.
    for j, _d in enumerate(dists):
        for k in range(scale.dispatchers_per_district):
            maker.add(role="dispatcher", org=ems, department="调度科",
                      roster=Roster("dispatch12", (j * scale.dispatchers_per_district + k) % 4))
    for vehicle in vehs:
        for phase in range(3):
            for _ in range(2):  # a 120 physician and a nurse/EMT use the MDT
                maker.add(role="emt", org=ems, department=vehicle.station,
                          roster=Roster("ems24", phase), terminal=vehicle.terminal_id)
    for org in orgs:
        if org.org_type == "cdc" and org.level == "district":
            for _ in range(scale.coders_per_district):
                maker.add(role="cdc_coder", org=org, department="死因监测科",
                          roster=Roster("office", 0, _leave(rng, days)))
        elif org.org_type == "cdc":
            for _ in range(scale.epidemiologists):
                maker.add(role="cdc_epidemiologist", org=org, department="生命统计科",
                          roster=Roster("office", 0, _leave(rng, days)))
        elif org.org_type == "police":
            for _ in range(scale.registrars_per_district):
                maker.add(role="police_registrar", org=org, department="户政科",
                          roster=Roster("office", 0, _leave(rng, days)))
        elif org.org_type == "funeral_home":
            for k in range(scale.clerks_per_funeral_home):
                maker.add(role="funeral_clerk", org=org, department="业务科",
                          roster=Roster("day5", k % 7, _leave(rng, days)))
        elif org.org_type == "health_commission":
            for role in ("privacy_officer", "privacy_officer", "admin"):
                maker.add(role=role, org=org, department="信息安全处", roster=Roster("office", 0))
    # Some clinicians move to another hospital part-way through the period.
    by_id = {h.org_id: h for h in hospitals}
    out: list[Staff] = []
    for person in maker.out:
        if person.org_id in by_id and len(hospitals) > 1 and rng.random() < TRANSFER_SHARE:
            others = [h for h in hospitals if h.org_id != person.org_id]
            target = others[int(rng.integers(0, len(others)))]
            when = start + timedelta(days=int(rng.integers(max(1, days // 10), max(2, days))))
            person = dataclasses.replace(person, transfer=Transfer(when, target.org_id))
        out.append(person)
    return tuple(out)


def _department_for(code: str) -> str:
    if code.startswith("I6"):
        return "神经内科"
    if code[0] == "I":
        return "心内科"
    if code[0] == "J":
        return "呼吸科"
    if code[0] in "CD":
        return "肿瘤科"
    if code[0] in "STVWXY":
        return "急诊科"
    return "老年科" if code[0] in "GEFN" else "重症医学科"


def deaths(
    rng: np.random.Generator, scale: Scale, dists: tuple[District, ...],
    orgs: tuple[Organisation, ...], staff_list: tuple[Staff, ...], vehs: tuple[Vehicle, ...],
    *, start: datetime, days: int, life: np.random.Generator,
) -> tuple[tuple[Death, ...], tuple[Dispatch, ...]]:
    """Deaths over the period (with seasonality), their certifiers, relatives and dispatches.

    ``life`` is the stream ``lifecourse`` uses to make ages, marital status, occupations and
    next of kin agree with each other; ``rng`` alone decides everything the events depend on.
    """
    day_index = np.arange(days)
    doy = np.array([(start + timedelta(days=int(d))).timetuple().tm_yday for d in day_index])
    seasonal = 1 + SEASONAL_AMPLITUDE * np.cos(2 * math.pi * (doy - 15) / 365.25)
    per_day = rng.poisson(scale.deaths_per_year / 365.25 * seasonal)
    n_real = int(per_day.sum())
    n_canary = max(3, n_real // 400)
    n = n_real + n_canary
    death_day = np.concatenate([np.repeat(day_index, per_day), rng.integers(0, days, n_canary)])
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = death_day * 86400 + hours * 3600 + rng.integers(0, 3600, size=n)
    # Subject ids follow the time of death, canaries included, so a planted record's id looks
    # like its real neighbours' (they used to take the highest ids).
    number = np.empty(n, np.int64)
    number[np.lexsort((np.arange(n), seconds))] = np.arange(1, n + 1)
    male = rng.random(n) < 0.52
    # Age at death: most deaths in old age (Shanghai life expectancy about 84), some younger.
    old = rng.normal(82.0, 9.0, size=n)
    young = rng.uniform(0.0, 70.0, size=n)
    age_years = np.clip(np.where(rng.random(n) < 0.85, old, young), 0.1, 104.0)
    district_idx = rng.choice(len(dists), size=n, p=[d.population_share for d in dists])
    cause_p = np.array([row[0] for row in data.CAUSES])
    cause_idx = rng.choice(len(data.CAUSES), size=n, p=cause_p / cause_p.sum())
    age_years = lifecourse.fit_ages(life, age_years, cause_idx)
    place_p = np.array([share for _, share in data.PLACES])
    place_idx = rng.choice(len(data.PLACES), size=n, p=place_p / place_p.sum())
    compound_pick = rng.integers(0, 10**9, size=n)
    surnames, names = people.full_names(rng, male)
    n_rel = rng.integers(1, 4, size=n)
    rel_male = rng.random(int(n_rel.sum())) < 0.5
    _, rel_names = people.full_names(rng, rel_male)
    rel_phones = people.mobiles(rng, int(n_rel.sum()))
    compounds = [
        dists[d].compounds[compound_pick[i] % len(dists[d].compounds)]
        for i, d in enumerate(district_idx)
    ]
    addresses = people.addresses(rng, district_names=[dists[i].name for i in district_idx],
                                 compound_ids=compounds)
    stay_hours = rng.lognormal(math.log(7 * 24), 0.9, size=n)  # hospital stay before death
    transferred = rng.random(n) < TRANSFERRED_PATIENTS
    ethnicity = _picks(rng, data.ETHNICITIES, n)
    marital = _picks(rng, data.MARITAL, n)
    id_seq = rng.integers(0, 500, size=n) * 2 + male.astype(np.int64)

    hospitals = [o for o in orgs if o.org_type == "hospital"]
    by_district: dict[str, list[Organisation]] = defaultdict(list)
    for h in hospitals:
        by_district[h.district].append(h)
    team: dict[tuple[str, str, str], list[Staff]] = defaultdict(list)
    for s in staff_list:
        if s.role in ("physician", "nurse"):
            team[(s.org_id, s.department, s.role)].append(s)
    funeral = [o for o in orgs if o.org_type == "funeral_home"]
    vehicles_by_district: dict[str, list[Vehicle]] = defaultdict(list)
    for v in vehs:
        vehicles_by_district[v.district].append(v)
    crews = crew_index(staff_list)

    out: list[Death] = []
    hospital_staff: dict[str, list[Staff]] = {}
    dispatches: list[Dispatch] = []
    rel_pos = 0
    for i in range(n):
        district = dists[district_idx[i]]
        canary = i >= n_real
        death_time = start + timedelta(seconds=int(seconds[i]))
        birth = (death_time - timedelta(days=float(age_years[i]) * 365.25)).date()
        _, manner, part1_raw, part2_raw = data.CAUSES[cause_idx[i]]
        part1 = tuple(CauseLine(*line) for line in part1_raw)
        part2 = tuple(CauseLine(*line) for line in part2_raw)
        place = "home" if canary else data.PLACES[place_idx[i]][0]
        if manner != "natural" and place in ("hospital", "care_home") and not canary:
            place = "en_route"
        local = by_district[district.adcode] or hospitals
        hospital = local[int(compound_pick[i] // 7) % len(local)]
        hospital_id: str | None = None
        department: str | None = None
        admission: datetime | None = None
        moved_from: str | None = None
        certifier: str | None = None
        attending: tuple[str, ...] = ()
        dispatch_id: str | None = None
        if not canary and place in ("hospital", "en_route"):
            hospital_id = hospital.org_id
            department = "急诊科" if place == "en_route" else _department_for(part1[-1].code)
            doctors = _working(team, hospital.org_id, department, "physician", death_time)
            nurses = _working(team, hospital.org_id, department, "nurse", death_time)
            if place == "hospital":
                admission = death_time - timedelta(seconds=int(max(2.0, float(stay_hours[i])) * 3600))
                pick_n = [doctors[(i + k) % len(doctors)] for k in range(min(3, len(doctors)))]
                pick_u = [nurses[(i + k) % len(nurses)] for k in range(min(3, len(nurses)))]
                attending = tuple(dict.fromkeys(s.staff_id for s in pick_n + pick_u))
                if transferred[i] and len(local) > 1:
                    moved_from = next(h.org_id for h in local if h.org_id != hospital.org_id)
            certifier = _on_duty(doctors, i, death_time, start, _staff_of(
                hospital_staff, team, hospital.org_id)).staff_id
        elif not canary:
            community = min(local, key=lambda h: h.beds)
            doctors = _working(team, community.org_id, "老年科", "physician", death_time)
            # The family reaches the community hospital within hours; whoever is on duty then.
            certifier = _on_duty(doctors, i, death_time + timedelta(hours=1), start, _staff_of(
                hospital_staff, team, community.org_id)).staff_id
        needs_call = place == "en_route" or (place in ("home", "care_home")
                                              and (i * 7919) % 100 < DISPATCH_SHARE_HOME * 100)
        if not canary and needs_call:
            dispatch = _death_dispatch(
                i, len(dispatches) + 1, death_time, place, addresses[i], age=int(age_years[i]),
                male=bool(male[i]), district=district.adcode,
                vehicles=vehicles_by_district[district.adcode] or list(vehs), crews=crews,
                destination=hospital_id or "scene", caller=rel_phones[rel_pos],
                subject_id=f"s{number[i]:07d}", start=start,
            )
            dispatches.append(dispatch)
            dispatch_id = dispatch.dispatch_id
        age = float(age_years[i])
        sex = "M" if male[i] else "F"
        marital_status = lifecourse.marital_status(life, marital[i], age=age, sex=sex)
        drawn = [
            data.RELATIONSHIPS[(i + k) % len(data.RELATIONSHIPS)] if k else ("配偶" if i % 3 else "儿子")
            for k in range(int(n_rel[i]))
        ]
        relatives = []
        kin_male = [bool(rel_male[rel_pos + k]) for k in range(len(drawn))]
        kinds = lifecourse.next_of_kin(drawn, age=age, marital=marital_status, male=kin_male)
        for k, kind in enumerate(kinds):
            name = rel_names[rel_pos + k]
            if lifecourse.spouse_is_misnamed(kind, relative_male=kin_male[k], decedent_male=bool(male[i])):
                name = people.full_names(life, np.array([not male[i]]))[1][0]  # content only: own stream
            if lifecourse.shares_surname(kind, decedent_age=age, decedent_male=bool(male[i])):
                name = surnames[i] + name[1:]
            relatives.append(Relative(name, kind, rel_phones[rel_pos + k], addresses[i]))
        rel_pos += int(n_rel[i])
        out.append(Death(
            subject_id=f"s{number[i]:07d}", report_id=f"dr{number[i]:07d}", full_name=names[i],
            surname=surnames[i], sex=sex,
            resident_id=people.resident_id_from(adcode=district.adcode, birth=birth,
                                                sequence=int(id_seq[i])),
            birth_date=birth, ethnicity=ethnicity[i], marital_status=marital_status,
            occupation=lifecourse.occupation(data.OCCUPATIONS[i % len(data.OCCUPATIONS)], age=age, index=i),
            household_address=addresses[i], usual_address=addresses[i], district=district.adcode,
            compound=compounds[i], death_time=death_time, place_of_death=place,
            hospital_org_id=hospital_id, department=department, admission_time=admission,
            transferred_from=moved_from, certifier_id=certifier, attending_ids=attending,
            part1=part1, part2=part2, manner=manner, underlying_cause=part1[-1].code,
            relatives=tuple(relatives), dispatch_id=dispatch_id,
            funeral_home_id=funeral[int(compound_pick[i] % len(funeral))].org_id,
            is_canary=canary,
        ))
    out.sort(key=lambda d: (d.death_time, d.subject_id))
    return tuple(out), tuple(dispatches)


def _picks(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> list[str]:
    p = np.array([share for _, share in table])
    return [table[k][0] for k in rng.choice(len(table), size=n, p=p / p.sum())]


def _staff_of(cache: dict[str, list[Staff]], team: dict[tuple[str, str, str], list[Staff]],
              org_id: str) -> list[Staff]:
    # Every physician of a hospital who never transfers (cached per hospital).
    if org_id not in cache:
        cache[org_id] = [s for (org, _, r), group in team.items() if org == org_id and r == "physician"
                         for s in group if s.transfer is None]
    return cache[org_id]


def _on_duty(doctors: list[Staff], i: int, when: datetime, start: datetime,
             hospital: list[Staff]) -> Staff:
    # The first of the department's ``doctors`` (rotating from ``i``), else of the hospital's
    # physicians, on shift at ``when`` certifies a hospital death; when nobody is on duty, the
    # one whose next shift starts first does.
    offset = int((when - start).total_seconds())
    candidates = [doctors[(i + k) % len(doctors)] for k in range(len(doctors))] + hospital
    best, best_start = candidates[0], 2**62
    for doctor in candidates:
        begin = _shift_start(doctor, offset, start)
        if begin <= offset:
            return doctor
        if begin < best_start:
            best, best_start = doctor, begin
    return best


def _shift_start(doctor: Staff, offset: int, start: datetime) -> int:
    # Start (seconds from ``start``) of the shift ``doctor`` works at ``offset`` (after the
    # login settles), else of their next shift within a week; 2**62 when none.
    day = offset // 86400
    for shift_day in range(day - 1, day + 8):
        found = shift_on(doctor.roster, day=shift_day, start=start.date())
        if found is None or shift_day < 0:
            continue
        begin = shift_day * 86400 + found[0] * 60
        if begin + 600 <= offset < begin + found[1] * 60:
            return offset
        if begin >= offset:
            return begin
    return 2**62


def _working(
    team: dict[tuple[str, str, str], list[Staff]], org_id: str, department: str, role: str,
    when: datetime,
) -> list[Staff]:
    # Staff of the department who work there at ``when`` (transfers respected); falls back to
    # the whole hospital when a small demo department has nobody of that role.
    found = [s for s in team.get((org_id, department, role), [])
             if s.transfer is None or s.org_at(when) == org_id]
    if found:
        return found
    found = [s for (org, _, r), group in team.items() if org == org_id and r == role
             for s in group if s.org_at(when) == org_id]
    return found or [s for group in team.values() for s in group if s.role == role]


def _death_dispatch(
    i: int, number: int, death_time: datetime, place: str, address: str, *, age: int,
    male: bool, district: str, vehicles: list[Vehicle], crews: Crews, destination: str,
    caller: str, subject_id: str, start: datetime,
) -> Dispatch:
    # En-route deaths: the call comes before death; home deaths: the family calls after finding
    # the person (the recorded death time is the estimated time).
    if place == "en_route":
        call = death_time - timedelta(minutes=25 + i % 20)
    else:
        call = death_time + timedelta(minutes=10 + i % 50)
    vehicle = vehicles[i % len(vehicles)]
    assigned = call + timedelta(seconds=60 + i % 90)
    en_route = assigned + timedelta(seconds=50 + i % 60)
    on_scene = en_route + timedelta(minutes=8 + i % 12)
    closed = on_scene + timedelta(minutes=40 + i % 40)
    return Dispatch(
        dispatch_id=f"dp{number:07d}", time=call, priority=1 if place == "en_route" else 2,
        pickup_address=address, access_notes=data.ACCESS_NOTES[i % len(data.ACCESS_NOTES)],
        chief_complaint="心跳骤停" if place != "en_route" else data.CHIEF_COMPLAINTS[i % 3],
        patient_age=age, patient_sex="M" if male else "F",
        hazards=(data.HAZARDS[i % len(data.HAZARDS)],),
        destination=destination if place == "en_route" else "scene", caller_phone=caller,
        crew_ids=crew_for(crews, vehicle.terminal_id, when=assigned, start=start),
        terminal_id=vehicle.terminal_id, assigned=assigned, en_route=en_route,
        on_scene=on_scene, closed=closed, subject_id=subject_id, district=district,
    )


def other_dispatches(
    *, seed: int, scale: Scale, dists: tuple[District, ...], orgs: tuple[Organisation, ...],
    vehicles: tuple[Vehicle, ...], staff: tuple[Staff, ...], start: datetime, days: int,
) -> tuple[Dispatch, ...]:
    """The non-fatal calls of every day, materialised (the same ones the engine streams)."""
    hospitals = [o for o in orgs if o.org_type == "hospital"]
    crews = crew_index(staff)
    out: list[Dispatch] = []
    for day in range(days):
        calls = day_calls(seed=seed, scale=scale, dists=dists, hospitals=hospitals,
                          vehicles=vehicles, day=day)
        out.extend(materialise(calls, seed=seed, dists=dists, hospitals=hospitals,
                               vehicles=vehicles, crews=crews, start=start))
    return tuple(out)
