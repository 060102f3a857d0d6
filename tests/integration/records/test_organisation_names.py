"""Organisation names are unique in their district, case and spacing aside: held by the database
(a unique (district, name_key)), also for two operators registering at the same moment, and by
migration 0004 for installations that already hold organisations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory, migrate
from piguard.db.registry import load_all_models
from piguard.errors import InputError
from piguard.records import service as records
from piguard.records.models import Organisation
from tests.conftest import private_database_url


def test_a_name_differing_in_case_or_spacing_is_refused_and_the_transaction_goes_on(session: Session) -> None:
    first = records.create_organisation(
        session=session, name="Minhang  Central Hospital", org_type="hospital", district="310112"
    )
    assert (first.name, first.name_key) == ("Minhang Central Hospital", "minhang central hospital")
    with pytest.raises(InputError) as refused:
        records.create_organisation(
            session=session, name=" minhang CENTRAL\thospital ", org_type="cdc", district="310112"
        )
    assert refused.value.where == "name"
    assert refused.value.reason == "'Minhang Central Hospital' already exists in district 310112"
    # Nothing failed in the database: the caller's transaction (PostgreSQL's too) is still usable.
    other = records.create_organisation(
        session=session, name="minhang central hospital", org_type="cdc", district="310115"
    )
    names = session.scalars(select(Organisation.name).where(Organisation.name_key == "minhang central hospital"))
    assert sorted(names) == ["Minhang Central Hospital", "minhang central hospital"] and other.district == "310115"


def test_the_database_itself_refuses_a_second_row_with_the_same_key(session: Session) -> None:
    records.create_organisation(session=session, name="Xuhui CDC", org_type="cdc", district="310104")
    session.add(Organisation(name="XUHUI  cdc", org_type="cdc", district="310104", level="district"))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.fixture(params=["sqlite", "postgresql"])
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own whose transactions really commit."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="org_names"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()


def test_two_operators_registering_one_name_at_once_get_one_organisation(committed: Engine) -> None:
    sessions = make_session_factory(committed)
    inserted, outcome = threading.Event(), {}

    def first() -> None:
        with sessions() as db, db.begin():
            records.create_organisation(
                session=db, name="Fengxian Funeral Home", org_type="funeral_home", district="310120"
            )
            inserted.set()
            # Still uncommitted while the second operator checks and inserts: a check in Python
            # could not see this row; the unique key makes the second insert wait, then conflict.
            threading.Event().wait(0.5)

    thread = threading.Thread(target=first)
    thread.start()
    assert inserted.wait(30)
    try:
        with sessions() as db, db.begin():
            records.create_organisation(
                session=db, name="fengxian funeral home", org_type="funeral_home", district="310120"
            )
    except InputError as exc:
        outcome["refused"] = exc
    thread.join(30)
    assert str(outcome.get("refused")) == "name: 'Fengxian Funeral Home' already exists in district 310120"
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Organisation)) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """A database migrated to revision 0003 (before name keys)."""
    for url in private_database_url(request.param, tmp_path, prefix="org_mig"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        migrate.upgrade(settings, revision="0003", url=url)
        yield settings, url


def _insert(url: str, *names: tuple[str, str]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for number, (name, district) in enumerate(names):
            conn.execute(
                text(
                    "INSERT INTO organisations (id, name, org_type, district, level)"
                    " VALUES (:id, :n, 'hospital', :d, 'district')"
                ),
                {"id": f"org-{number:02d}", "n": name, "d": district},
            )
    engine.dispose()


def _columns(url: str) -> tuple[set[str], list[str]]:
    engine = create_engine(url)
    found = inspect(engine)
    columns = {c["name"] for c in found.get_columns("organisations")}
    uniques = [str(u["name"]) for u in found.get_unique_constraints("organisations")]
    engine.dispose()
    return columns, uniques


def test_migration_0004_fills_the_key_of_existing_organisations(at_0003: tuple[Settings, str]) -> None:
    settings, url = at_0003
    _insert(url, ("Minhang  Central Hospital", "310112"), ("MINHANG CENTRAL HOSPITAL", "310115"), ("Straße", "310112"))
    migrate.upgrade(settings, url=url)
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = {str(row[0]): row[1] for row in conn.execute(text("SELECT id, name_key FROM organisations"))}
    engine.dispose()
    assert keys == {"org-00": "minhang central hospital", "org-01": "minhang central hospital", "org-02": "strasse"}
    assert "uq_organisations_district_name_key" in _columns(url)[1]


def test_migration_0004_stops_on_duplicates_naming_them_and_changes_nothing(at_0003: tuple[Settings, str]) -> None:
    settings, url = at_0003
    _insert(url, ("Minhang Central Hospital", "310112"), ("minhang  central hospital", "310112"), ("Other", "310112"))
    with pytest.raises(RuntimeError) as refused:
        migrate.upgrade(settings, url=url)
    message = str(refused.value)
    assert "same name" in message and "district 310112" in message and "'minhang  central hospital'" in message
    assert "Other" not in message and "piguard db upgrade" in message
    columns, uniques = _columns(url)
    assert "name_key" not in columns and "uq_organisations_district_name_key" not in uniques
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    engine.dispose()


@pytest.mark.parametrize(
    ("district", "reason"),
    [
        ("310199", "is not a GB/T 2260 area code"),
        ("3101", "must be a 6-digit"),
        ("310100", "is a province or prefecture code"),
        ("310000", "is a province or prefecture code"),
    ],
)
def test_a_district_must_be_a_real_area_code(session: Session, district: str, reason: str) -> None:
    before = session.scalar(select(func.count()).select_from(Organisation))
    with pytest.raises(InputError) as refused:
        records.create_organisation(session=session, name="Nowhere Hospital", org_type="hospital", district=district)
    assert refused.value.where == "district" and refused.value.reason.startswith(reason)
    assert session.scalar(select(func.count()).select_from(Organisation)) == before


def test_a_municipal_organisation_may_sit_at_the_city_code(session: Session) -> None:
    city = records.create_organisation(
        session=session, name="City Commission", org_type="health_commission", district="310000", level="municipal"
    )
    assert city.district == "310000" and city.level == "municipal"
