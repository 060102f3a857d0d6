"""Canary records: decoy deceased people nobody has a task for, so any access to one is a leak signal.

A canary is an ordinary death report in every field a screen shows (identity, causes, relatives,
certifier); only ``is_canary`` (never projected into any view) marks it. No task relationship is
created, so no legitimate workflow ever reaches it; detection (``is_canary=1`` in the exported
subjects table) and leak tracing (calls to its relatives) turn any touch into a high-severity
alert.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.records import service as records
from piguard.records.models import DeathReport, Organisation

if TYPE_CHECKING:
    from piguard.simulate.city import Death

MAX_PLANT = 1000
SEX = {"M": "male", "F": "female"}
WINDOW = timedelta(days=30)  # decoys die over the last month, as real deaths do
CODED_AFTER = timedelta(days=1)  # plant_death codes a decoy within a day of its death


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
    """Plant ``count`` decoys at hospitals of the database; ``certifiers`` maps hospital id to physician ids.

    Each decoy is a random hospital death of the last 30 days (not the last day: a coded report
    of a death hours old would stand out) at a hospital drawn as real deaths fall, certified by
    one of that hospital's physicians at random: nothing in the choice follows the planting order.
    """
    from piguard.simulate.city import SHANGHAI, build_city  # the simulator's identities: valid in form, not real

    if not 1 <= count <= MAX_PLANT:
        raise InputError(f"count must be between 1 and {MAX_PLANT}", where="--count")
    hospitals = list(session.scalars(select(Organisation).where(Organisation.org_type == "hospital")))
    if not hospitals:
        raise InputError("no hospital in the database to plant canaries at", where="--count")
    # An unpredictable seed: an insider who knows the simulator must not be able to regenerate them.
    rng_seed = seed if seed is not None else secrets.randbits(31)
    rng = random.Random(rng_seed)  # seeded from ``secrets``: which decoys, not a key
    # Built in the simulator's own zone, so that its hours of death are local hours like the real ones.
    city = build_city(seed=rng_seed, scale="demo", start=(now - WINDOW).astimezone(SHANGHAI), days=WINDOW.days)
    remaining = [d for d in city.deaths if d.place_of_death == "hospital" and d.death_time + CODED_AFTER <= now]
    if len(remaining) < count:
        raise InputError(f"could only generate {len(remaining)} canaries; ask for fewer", where="--count")
    rng.shuffle(remaining)
    weights = _hospital_weights(session, hospitals)
    planted: list[Canary] = []
    for hospital in rng.choices(hospitals, weights=weights, k=count):
        death = _take(remaining, hospital.district)
        doctors: Sequence[str | None] = certifiers.get(hospital.id) or [None]
        planted.append(
            plant_death(
                session=session,
                death=death,
                hospital_id=hospital.id,
                district=hospital.district,
                certifier_id=rng.choice(doctors),
                now=now,
            )
        )
    return planted


def _hospital_weights(session: Session, hospitals: Sequence[Organisation]) -> list[int]:
    """How many real (not canary) hospital deaths each hospital holds; all equal when there are none."""
    rows = session.execute(
        select(DeathReport.hospital_org_id, func.count())
        .where(DeathReport.is_canary.is_(False), DeathReport.place_of_death == "hospital")
        .group_by(DeathReport.hospital_org_id)
    )
    counts: dict[str, int] = {org_id: n for org_id, n in rows}
    weights = [counts.get(h.id, 0) for h in hospitals]
    # A fresh database has no real deaths to copy: every hospital is then as likely.
    return weights if any(weights) else [1] * len(hospitals)


def _take(remaining: list[Death], district: str) -> Death:
    """Remove and return the next (shuffled) death of ``district``, else of any district."""
    index = next((i for i, death in enumerate(remaining) if death.district == district), 0)
    return remaining.pop(index)


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
    # Irregular, like real work (a fixed +1 h, +6 h, +1 d would mark every decoy); coded within
    # CODED_AFTER of the death, so a decoy planted a day after its death is never coded in the future.
    draw = secrets.SystemRandom()
    report.certified_at = death.death_time + timedelta(minutes=draw.uniform(20, 6 * 60))
    report.reported_at = report.certified_at + timedelta(minutes=draw.uniform(30, 10 * 60))
    left = death.death_time + CODED_AFTER - report.reported_at
    report.coded_at = report.reported_at + draw.uniform(0.1, 1.0) * left
    report.underlying_icd10 = death.underlying_cause
    report.certificate_no = "DC" + secrets.token_hex(6).upper()
    return Canary(report.id, report.subject_id, hospital_id, district, now)


def listing(*, session: Session) -> list[Canary]:
    """Every planted canary, oldest first (privacy officers only: the CLI is the door)."""
    rows = session.scalars(select(DeathReport).where(DeathReport.is_canary.is_(True)).order_by(DeathReport.created_at))
    return [Canary(r.id, r.subject_id, r.hospital_org_id, r.district, r.created_at) for r in rows]
