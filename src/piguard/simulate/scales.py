"""Size parameters of the three city scales (documented in docs/simulator.md)."""

from __future__ import annotations

from dataclasses import dataclass

from piguard.errors import InputError


@dataclass(frozen=True, slots=True)
class Scale:
    """How big the city is and how busy its systems are."""

    name: str
    default_days: int
    deaths_per_year: float          # Shanghai: about 110,000 a year
    hospitals_per_district: int
    beds_median: int                # hospital beds, lognormal around this median
    physicians_per_100_beds: float  # staff who use the death-information system
    nurses_per_100_beds: float
    vehicles_per_district: int
    dispatchers_per_district: int
    coders_per_district: int
    epidemiologists: int
    registrars_per_district: int
    funeral_homes: int
    clerks_per_funeral_home: int
    compounds_per_district: int
    other_calls_per_day: float      # 120 calls that do not end in a death
    ward_share: float               # share of occupied beds whose records are simulated
    events_per_bed_day: float       # clinical record accesses per simulated occupied bed-day


SCALES: dict[str, Scale] = {
    "demo": Scale(
        name="demo", default_days=60, deaths_per_year=12_000, hospitals_per_district=2,
        beds_median=600, physicians_per_100_beds=1.6, nurses_per_100_beds=1.6,
        vehicles_per_district=2, dispatchers_per_district=3, coders_per_district=2,
        epidemiologists=3, registrars_per_district=2, funeral_homes=2, clerks_per_funeral_home=3,
        compounds_per_district=25, other_calls_per_day=30, ward_share=0.05,
        events_per_bed_day=6.0,
    ),
    "small": Scale(
        name="small", default_days=90, deaths_per_year=30_000, hospitals_per_district=3,
        beds_median=700, physicians_per_100_beds=3.0, nurses_per_100_beds=3.5,
        vehicles_per_district=4, dispatchers_per_district=4, coders_per_district=3,
        epidemiologists=6, registrars_per_district=4, funeral_homes=3, clerks_per_funeral_home=5,
        compounds_per_district=80, other_calls_per_day=150, ward_share=0.1,
        events_per_bed_day=4.0,
    ),
    "city": Scale(
        name="city", default_days=365, deaths_per_year=110_000, hospitals_per_district=6,
        beds_median=1_300, physicians_per_100_beds=14.0, nurses_per_100_beds=20.0,
        vehicles_per_district=25, dispatchers_per_district=12, coders_per_district=10,
        epidemiologists=40, registrars_per_district=30, funeral_homes=12,
        clerks_per_funeral_home=20, compounds_per_district=400, other_calls_per_day=3_000,
        ward_share=1.0, events_per_bed_day=2.8,
    ),
}


def get_scale(name: str) -> Scale:
    """The scale called ``name``; raises ``InputError`` naming the choices."""
    try:
        return SCALES[name]
    except KeyError:
        raise InputError(
            f"unknown scale {name!r}; expected one of {', '.join(SCALES)}", where="--scale"
        ) from None
