"""The relative's copy (``family_copy``) without a database: exactly its fields, nobody else's data, and
never reachable as a staff screen."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from piguard.errors import UnknownContextError
from piguard.identity.schemas import Principal
from piguard.minimize.contexts import disclosed_fields, parse_context, project, project_family_copy
from piguard.oversight.family import disclosures
from piguard.records.schemas import RelativeRecord, ReportRecord

PHONE = "13812345678"
ID_NUMBER = "31011219450307002X"
ALLOWED = {
    "report_id",
    "deceased.name",
    "deceased.sex",
    "deceased.id_number",
    "deceased.birth_date",
    "deceased.ethnicity",
    "deceased.marital_status",
    "deceased.occupation",
    "deceased.household_address",
    "deceased.usual_address",
    "death.time",
    "death.place",
    "death.place_detail",
    "death.cause_part1.line",
    "death.cause_part1.text",
    "death.cause_part1.icd10",
    "death.cause_part1.interval",
    "death.cause_part2",
    "death.manner",
    "death.underlying_icd10",
    "certificate.number",
    "certificate.status",
    "certificate.institution",
}


def _no_handles(*, target: str, phone: str | None) -> str | None:
    raise AssertionError("a copy issues no virtual numbers")


def _record() -> ReportRecord:
    return ReportRecord(
        id="rep-1",
        subject_id="subj-secret-1",
        status="coded",
        certificate_no="DC0A1B2C3D4E5F",
        name="李秀英",
        sex="female",
        id_number=ID_NUMBER,
        birth_date=date(1945, 3, 7),
        ethnicity="汉族",
        marital_status="丧偶",
        occupation="离退休人员",
        household_address="江川路1号",
        usual_address="都市路2号",
        district="310112",
        compound="七莘小区",
        death_time=datetime(2026, 3, 1, 8, tzinfo=UTC),
        place_of_death="hospital",
        place_detail="心内科5床",
        part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9", "interval": "2小时"}],
        part2="2型糖尿病",
        manner="natural",
        underlying_icd10="I21.9",
        investigation_record="据邻居陈述",
        hospital_org_id="org-h1",
        certifier_id="acct-certifier-1",
        dispatch_id="disp-1",
        relatives=[
            RelativeRecord(id="rel-1", name="王小红", relationship_to_deceased="女儿", phone=PHONE, address="x")
        ],
    )


def test_the_copy_discloses_exactly_its_fields_and_nobody_elses_data() -> None:
    view = project_family_copy(_record(), institution="闵行区中心医院")
    assert set(disclosed_fields(view)) == ALLOWED
    text = json.dumps(view.model_dump(mode="json"), ensure_ascii=False)
    for absent in (
        PHONE,
        "王小红",
        "女儿",
        "据邻居陈述",
        "acct-certifier-1",
        "subj-secret-1",
        "org-h1",
        "disp-1",
        "七莘小区",
    ):
        assert absent not in text, absent
    assert view.deceased.id_number == ID_NUMBER and view.certificate.institution == "闵行区中心医院"
    # What a later account of accesses says the copy showed.
    assert disclosures.disclosed(disclosed_fields(view)) == [
        "addresses",
        "cause and circumstances of death",
        "date and time of death",
        "death certificate",
        "identity",
        "identity number",
        "record status",
    ]


def test_absent_values_are_not_listed_as_disclosed() -> None:
    bare = _record().model_copy(update={"id_number": None, "ethnicity": None, "certificate_no": None})
    fields = set(disclosed_fields(project_family_copy(bare, institution="h")))
    assert fields == ALLOWED - {"deceased.id_number", "deceased.ethnicity", "certificate.number"}


def test_the_copy_is_not_a_staff_screen() -> None:
    with pytest.raises(UnknownContextError):
        parse_context("family_copy", role="privacy_officer")
    viewer = Principal(account_id="u1", username="sun.li", role="privacy_officer", org_id="hc")
    with pytest.raises(UnknownContextError):
        project(
            _record(),
            context="family_copy",
            viewer=viewer,
            handles=_no_handles,
            pseudonym_key=b"k" * 32,
        )
