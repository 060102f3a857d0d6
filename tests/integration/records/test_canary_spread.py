"""Planted canaries spread like real deaths: over the month, over hospitals, and differ plant to plant."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy.orm import Session

from piguard.records import canaries
from piguard.records import service as records
from piguard.records.models import DeathReport
from tests.integration.records.conftest import NOW, World, report_data


def _more_hospitals(session: Session, world: World, n: int) -> list[str]:
    """``n`` more hospitals of the world's district, each with one real hospital death."""
    ids = []
    for i in range(n):
        org = records.create_organisation(session=session, name=f"hosp_{i}", org_type="hospital", district="310112")
        records.create_report(session=session, hospital_org_id=org.id, **report_data(f"subj-h{i}", "王建国"))  # type: ignore[arg-type]
        ids.append(org.id)
    session.flush()
    return ids


def _death_times(session: Session, planted: list[canaries.Canary]) -> list[DeathReport]:
    return [session.get_one(DeathReport, c.report_id) for c in planted]


def test_many_canaries_die_across_the_month_at_several_hospitals(session: Session, world: World) -> None:
    _more_hospitals(session, world, 4)
    planted = canaries.plant(session=session, count=60, now=NOW, certifiers={}, seed=3)
    reports = _death_times(session, planted)
    days = {r.death_time.date() for r in reports}
    assert len(days) >= 15  # not the first hours of one day
    assert max(r.death_time for r in reports) - min(r.death_time for r in reports) > timedelta(days=20)
    # Coded within a day of death, never in the future; and within the simulated month.
    assert all(NOW - timedelta(days=31) <= r.death_time and r.coded_at <= NOW for r in reports)  # type: ignore[operator]
    # The workflow's steps come at irregular times, in order, as real work does (no fixed +1 h / +6 h / +1 d).
    steps = {(r.certified_at - r.death_time, r.coded_at - r.death_time) for r in reports}  # type: ignore[operator]
    assert len(steps) == len(reports)
    assert all(r.death_time < r.certified_at < r.reported_at < r.coded_at for r in reports)  # type: ignore[operator]
    hospitals = Counter(c.hospital_id for c in planted)
    assert len(hospitals) >= 4
    assert max(hospitals.values()) < 30  # no one hospital takes them all


def test_a_hospital_without_real_deaths_gets_no_canary(session: Session, world: World) -> None:
    empty = records.create_organisation(session=session, name="empty", org_type="hospital", district="310112")
    planted = canaries.plant(session=session, count=40, now=NOW, certifiers={}, seed=4)
    held = {c.hospital_id for c in planted}
    assert empty.id not in held
    assert held == {world.orgs["hosp_a"], world.orgs["hosp_b"]}  # the two that hold real deaths


def test_successive_single_plants_differ(session: Session, world: World) -> None:
    _more_hospitals(session, world, 4)
    single = [canaries.plant(session=session, count=1, now=NOW, certifiers={})[0] for _ in range(12)]
    reports = _death_times(session, single)
    assert len({r.death_time for r in reports}) == 12
    assert len({r.death_time.date() for r in reports}) > 1
    assert len({c.hospital_id for c in single}) > 1  # not always the district's first hospital


def test_the_certifier_is_any_of_the_hospitals_physicians(session: Session, world: World) -> None:
    doctors = [f"acc-doc{i}" for i in range(5)]
    hosp = world.orgs["hosp_a"]
    planted = canaries.plant(
        session=session, count=30, now=NOW, certifiers={hosp: doctors, world.orgs["hosp_b"]: doctors}, seed=9
    )
    certifiers = Counter(r.certifier_id for r in _death_times(session, planted))
    assert set(certifiers) <= set(doctors) and len(certifiers) >= 3
