"""Canary records: decoy deceased people nobody has a task for, so any access to one is a leak signal.

A canary is an ordinary death report in every field a screen shows (identity, causes, relatives,
certifier); only ``is_canary`` (never projected into any view) marks it. No task relationship is
created, so no legitimate workflow ever reaches it; detection (``is_canary=1`` in the exported
subjects table) and leak tracing (calls to its relatives) turn any touch into a high-severity
alert.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.records import service as records
from piguard.records.models import DeathReport, Organisation

if TYPE_CHECKING:
    from piguard.simulate.city import Death

MAX_PLANT = 1000
SEX = {"M": "male", "F": "female"}


@dataclass(frozen=True, slots=True)
class Canary:
    """A planted decoy, as listed for the privacy officer."""

    report_id: str
    subject_id: str
    hospital_id: str
    district: str
    planted_at: datetime


def plant(
    *, session: Session, count: int, now: datetime, certifiers: Mapping[str, Sequence[str]], seed: int | None = None
) -> list[Canary]:
    """Plant ``count`` decoys at hospitals of the database; ``certifiers`` maps hospital id to physician ids."""
    from piguard.simulate.city import build_city  # the simulator's identities: valid in form, not real

    if not 1 <= count <= MAX_PLANT:
        raise InputError(f"count must be between 1 and {MAX_PLANT}", where="--count")
    hospitals = list(session.scalars(select(Organisation).where(Organisation.org_type == "hospital")))
    if not hospitals:
        raise InputError("no hospital in the database to plant canaries at", where="--count")
    # An unpredictable seed: an insider who knows the simulator must not be able to regenerate them.
    rng_seed = seed if seed is not None else secrets.randbits(31)
    city = build_city(seed=rng_seed, scale="demo", start=now - timedelta(days=30), days=30)
    by_district: dict[str, list[Organisation]] = {}
    for org in hospitals:
        by_district.setdefault(org.district, []).append(org)
    candidates = [d for d in city.deaths if d.place_of_death == "hospital" and d.death_time < now]
    planted: list[Canary] = []
    for index, death in enumerate(candidates[:count]):
        pool = by_district.get(death.district) or hospitals
        hospital = pool[index % len(pool)]
        doctors: Sequence[str | None] = certifiers.get(hospital.id) or [None]
        planted.append(
            plant_death(
                session=session,
                death=death,
                hospital_id=hospital.id,
                district=hospital.district,
                certifier_id=doctors[index % len(doctors)],
                now=now,
            )
        )
    if len(planted) < count:
        raise InputError(f"could only generate {len(planted)} canaries; ask for fewer", where="--count")
    return planted


def plant_death(
    *, session: Session, death: Death, hospital_id: str, district: str, certifier_id: str | None, now: datetime
) -> Canary:
    """Store one simulated death as a canary: complete, certified and coded, with no task relationship."""
    report = records.create_report(
        session=session,
        hospital_org_id=hospital_id,
        subject_id="s" + secrets.token_hex(8),
        name=death.full_name,
        sex=SEX.get(death.sex, "unknown"),
        id_number=death.resident_id,
        birth_date=death.birth_date,
        ethnicity=death.ethnicity,
        marital_status=death.marital_status,
        occupation=death.occupation,
        household_address=death.household_address,
        usual_address=death.usual_address,
        district=district,
        compound=death.compound,
        death_time=death.death_time,
        place_of_death="hospital",
        part1=[
            {"line": "abcd"[i], "text": c.text, "icd10": c.code, "interval": c.interval}
            for i, c in enumerate(death.part1[:4])
        ],
        part2="；".join(c.text for c in death.part2) or None,
        relatives=[
            {"name": r.name, "relationship": r.relationship, "phone": r.phone, "address": r.address}
            for r in death.relatives
        ],
        is_canary=True,
    )
    report.status = "coded"
    report.certifier_id = certifier_id
    report.certified_at = death.death_time + timedelta(hours=1)
    report.reported_at = death.death_time + timedelta(hours=6)
    report.coded_at = death.death_time + timedelta(days=1)
    report.underlying_icd10 = death.underlying_cause
    report.certificate_no = "DC" + secrets.token_hex(6).upper()
    return Canary(report.id, report.subject_id, hospital_id, district, now)


def listing(*, session: Session) -> list[Canary]:
    """Every planted canary, oldest first (privacy officers only: the CLI is the door)."""
    rows = session.scalars(select(DeathReport).where(DeathReport.is_canary.is_(True)).order_by(DeathReport.created_at))
    return [Canary(r.id, r.subject_id, r.hospital_org_id, r.district, r.created_at) for r in rows]
