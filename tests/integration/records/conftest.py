"""A small world in the real database: organisations, reports, a call, and the people around them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.identity.schemas import Principal
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.policy.pdp import default_engine
from piguard.records import service as records
from piguard.records.guard import Guard

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
RELATIVE_PHONE = "13912345678"
CALLER_PHONE = "13787654321"


@dataclass
class World:
    """Ids and principals of the test world."""

    guard: Guard
    people: dict[str, Principal]
    orgs: dict[str, str]
    report_a: str
    report_b: str
    dispatch: str
    codes: dict[str, str]

    def at(self, moment: datetime) -> Guard:
        """The same guard with another clock."""
        return Guard(engine=self.guard.engine, settings=self.guard.settings, secret=self.guard.secret, now=moment)


def person(
    account: str, role: str, org: str, *, trained: bool = True, kind: str = "human", scopes: tuple[str, ...] = ()
) -> Principal:
    return Principal(
        account_id=account,
        username=account,
        role=role,
        org_id=org,
        kind=kind,  # type: ignore[arg-type]
        terminal_id=f"ws-{account}",
        training_valid_until=NOW + timedelta(days=100) if trained else NOW - timedelta(days=1),
        scopes=scopes,
    )


def report_data(subject: str, name: str) -> dict[str, object]:
    return {
        "subject_id": subject,
        "name": name,
        "sex": "female",
        "id_number": "310112194503070046",
        "death_time": NOW - timedelta(days=5),
        "place_of_death": "hospital",
        "district": "310112",
        "part1": [{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9", "interval": "2小时"}],
        "relatives": [{"name": "王小明", "relationship": "儿子", "phone": RELATIVE_PHONE, "address": "闵行区某路1号"}],
        "usual_address": "上海市闵行区莘庄镇某路1号",
        "household_address": "上海市闵行区莘庄镇某路1号",
    }


@pytest.fixture
def world(session: Session, tmp_path_factory: pytest.TempPathFactory) -> World:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    orgs = {}
    for key, org_type, district, level in (
        ("hosp_a", "hospital", "310112", "district"),
        ("hosp_b", "hospital", "310112", "district"),
        ("cdc", "cdc", "310112", "district"),
        ("cdc_other", "cdc", "310104", "district"),
        ("police", "police", "310112", "district"),
        ("funeral", "funeral_home", "310112", "district"),
        ("centre", "emergency_center", "310000", "municipal"),
        ("commission", "health_commission", "310000", "municipal"),
    ):
        orgs[key] = records.create_organisation(
            session=session, name=key, org_type=org_type, district=district, level=level
        ).id
    people = {
        "certifier": person("acc-cert", "physician", orgs["hosp_a"]),
        "colleague": person("acc-coll", "physician", orgs["hosp_a"]),
        "broker": person("acc-broker", "physician", orgs["hosp_b"]),
        "coder": person("acc-coder", "cdc_coder", orgs["cdc"]),
        "coder_other": person("acc-coder2", "cdc_coder", orgs["cdc_other"]),
        "epi": person("acc-epi", "cdc_epidemiologist", orgs["cdc"]),
        "police": person("acc-police", "police_registrar", orgs["police"]),
        "clerk": person("acc-clerk", "funeral_clerk", orgs["funeral"]),
        "emt": person("acc-emt", "emt", orgs["centre"]),
        "dispatcher": person("acc-disp", "dispatcher", orgs["centre"]),
        "officer": person("acc-po", "privacy_officer", orgs["commission"]),
        "bridge": person("acc-bridge", "service", orgs["centre"], kind="service", scopes=("handles:resolve",)),
    }
    a = records.create_report(session=session, hospital_org_id=orgs["hosp_a"], **report_data("subj-a", "李秀英"))  # type: ignore[arg-type]
    b = records.create_report(session=session, hospital_org_id=orgs["hosp_b"], **report_data("subj-b", "张桂兰"))  # type: ignore[arg-type]
    records.certify(session=session, report_id=a.id, certifier_id="acc-cert", at=NOW - timedelta(days=5))
    records.certify(session=session, report_id=b.id, certifier_id="acc-broker", at=NOW - timedelta(days=5))
    records.report_to_cdc(session=session, report_id=a.id, coder_id="acc-coder", at=NOW - timedelta(days=4))
    codes = records.issue_parts(session=session, report_id=a.id, at=NOW - timedelta(days=4))
    vehicle = records.create_vehicle(session=session, org_id=orgs["centre"], call_sign="Minhang 1", terminal_id="mdt-1")
    call = records.create_dispatch(
        session=session,
        org_id=orgs["centre"],
        district="310112",
        priority="P1",
        pickup_address="莘庄镇某路1号",
        chief_complaint="意识丧失",
        at=NOW - timedelta(minutes=20),
        patient_age=81,
        patient_sex="female",
        caller_phone=CALLER_PHONE,
        access_notes="门禁找保安",
    )
    records.assign_crew(
        session=session,
        dispatch_id=call.id,
        vehicle_id=vehicle.id,
        crew_ids=["acc-emt"],
        at=NOW - timedelta(minutes=19),
    )
    session.flush()
    guard = Guard(engine=default_engine(), settings=settings, secret=b"s" * 32, now=NOW)
    return World(guard, people, orgs, a.id, b.id, call.id, codes)
