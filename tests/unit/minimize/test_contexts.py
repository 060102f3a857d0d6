"""Each display context discloses only its fields; contacts leave only as handles."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piguard.errors import UnknownContextError
from piguard.identity.schemas import Principal
from piguard.minimize.contexts import REPORT_CONTEXTS, disclosed_fields, parse_context, project
from piguard.records.schemas import DispatchRecord, RelativeRecord, ReportRecord

KEY = b"k" * 32
VIEWER = Principal(account_id="u1", username="dr.wang", role="physician", org_id="h1")
PHONE = "13812345678"
ID_NUMBER = "31011219450307002X"

# What each screen may show, as dotted field names (ARCHITECTURE: fields outside never leave).
ALLOWED = {
    "hospital_certifier": {
        "report_id",
        "status",
        "certificate_no",
        "institution_id",
        "certifier_id",
        "deceased.name",
        "deceased.sex",
        "deceased.id_number_masked",
        "deceased.birth_date",
        "deceased.ethnicity",
        "deceased.marital_status",
        "deceased.occupation",
        "deceased.usual_address",
        "deceased.household_address",  # the certifier corrects it (POST /death-reports/{id}/corrections)
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
        "relative.name",
        "relative.relationship",
        "relative.phone_handle",
    },
    "cdc_coding": {
        "report_id",
        "status",
        "subject_pseudonym",
        "sex",
        "age_at_death",
        "district",
        "death_date",
        "place",
        "cause_part1.line",
        "cause_part1.text",
        "cause_part1.icd10",
        "cause_part1.interval",
        "cause_part2",
        "manner",
        "underlying_icd10",
    },
    "police_household": {
        "report_id",
        "certificate_no",
        "deceased.name",
        "deceased.sex",
        "deceased.id_number",
        "deceased.birth_date",
        "deceased.household_address",
        "death_date",
    },
    "funeral_permit": {
        "report_id",
        "certificate_no",
        "deceased.name",
        "deceased.sex",
        "deceased.age_at_death",
        "deceased.id_number_masked",
        "death_date",
    },
}
ALLOWED["privacy_review"] = {
    "report_id",
    "subject_id",
    "status",
    "certificate_no",
    "institution_id",
    "certifier_id",
    "dispatch_id",
    "deceased.name",
    "deceased.sex",
    "deceased.id_number_masked",
    "deceased.birth_date",
    "deceased.usual_address",
    "deceased.household_address",
    "relative.name",
    "relative.relationship",
    "relative.phone_masked",
} | {f for f in ALLOWED["hospital_certifier"] if f.startswith("death.")}


def fake_handles(*, target: str, phone: str | None) -> str | None:
    return None if phone is None else "95" + str(abs(hash(target)) % 10**10).zfill(10)


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
reports = st.builds(
    ReportRecord,
    id=st.just("r1"),
    subject_id=st.just("s1"),
    status=st.sampled_from(["draft", "certified", "reported", "coded"]),
    certificate_no=st.one_of(st.none(), st.just("DC123")),
    name=texts,
    sex=st.sampled_from(["male", "female"]),
    id_number=st.one_of(st.none(), st.just(ID_NUMBER)),
    birth_date=st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 1, 1))),
    household_address=st.one_of(st.none(), texts),
    usual_address=st.one_of(st.none(), texts),
    district=st.just("310112"),
    death_time=st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)),
    place_of_death=st.sampled_from(["hospital", "home"]),
    part1=st.lists(
        st.fixed_dictionaries({"line": st.just("a"), "text": texts, "icd10": st.just("I21.9")}), min_size=1, max_size=3
    ),
    part2=st.one_of(st.none(), texts),
    manner=st.just("natural"),
    hospital_org_id=st.just("h1"),
    relatives=st.lists(
        st.builds(
            RelativeRecord,
            id=st.just("rel1"),
            name=texts,
            relationship_to_deceased=st.just("son"),
            phone=st.one_of(st.none(), st.just(PHONE)),
            address=st.one_of(st.none(), texts),
        ),
        max_size=3,
    ),
)


def _dumped_names(value: object, prefix: str) -> list[str]:
    """The reference: dotted names of the non-empty values in a view's dump (lists named singular)."""
    if isinstance(value, dict):
        return [n for key, item in value.items() for n in _dumped_names(item, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list):
        singular = prefix.removesuffix("s")
        return [n for item in value for n in (_dumped_names(item, singular) if isinstance(item, dict) else [singular])]
    return [prefix]


@settings(max_examples=60, deadline=None)
@given(record=reports, context=st.sampled_from(REPORT_CONTEXTS))
def test_no_field_outside_its_context(record: ReportRecord, context: str) -> None:
    view = project(record, context=context, viewer=VIEWER, handles=fake_handles, pseudonym_key=KEY)
    assert view.model_dump()["context"] == context
    assert set(disclosed_fields(view)) <= ALLOWED[context]
    assert disclosed_fields(view) == sorted(set(_dumped_names(view.model_dump(exclude_none=True), "")) - {"context"})
    body = json.dumps(view.model_dump(mode="json"), ensure_ascii=False)
    assert PHONE not in body, "a relative's real number left the server"
    if context != "police_household":
        assert ID_NUMBER not in body, "a full ID number left outside the police part"


def dispatch(**overrides: object) -> DispatchRecord:
    data: dict[str, object] = {
        "id": "d1",
        "incident_no": "INC1",
        "org_id": "ec",
        "district": "310112",
        "priority": "P1",
        "pickup_address": "No. 5, Lane 100, Xinzhen Road",
        "access_notes": "gate code at the guard",
        "chief_complaint": "unresponsive",
        "patient_age": 83,
        "patient_sex": "male",
        "caller_phone": PHONE,
        "status": "en_route",
        "assigned_at": datetime(2025, 3, 1, tzinfo=UTC),
    }
    data.update(overrides)
    return DispatchRecord.model_validate(data)


def test_mdt_shows_handle_and_age_band_only() -> None:
    view = project(dispatch(), context="ambulance_mdt", viewer=VIEWER, handles=fake_handles, pseudonym_key=KEY)
    body = view.model_dump()
    assert body["caller_handle"].startswith("95") and PHONE not in json.dumps(body)
    assert body["age_band"] == "80-89"
    assert "patient_age" not in body and "relatives" not in body
    assert body["dispatch_id"] == "d1"  # the opaque id, so the list can open the display
    assert set(disclosed_fields(view)) == {
        "dispatch_id",
        "incident_id",
        "status",
        "priority",
        "pickup_address",
        "access_notes",
        "chief_complaint",
        "age_band",
        "sex",
        "hazards",
        "destination",
        "caller_handle",
    } - {"hazards", "destination"}


def test_context_parsing() -> None:
    assert parse_context(None, role="cdc_coder") == "cdc_coding"
    assert parse_context(None, role="funeral_clerk") == "funeral_permit"
    assert parse_context("police_household", role="physician") == "police_household"
    with pytest.raises(UnknownContextError):
        parse_context("everything", role="physician")
    with pytest.raises(UnknownContextError):
        project(dispatch(), context="hospital_certifier", viewer=VIEWER, handles=fake_handles, pseudonym_key=KEY)


def test_a_death_after_four_in_the_afternoon_utc_is_dated_the_next_day_on_the_certificate_parts() -> None:
    # 16:50 UTC on 29 November is 00:50 on 30 November in Beijing, the deceased's 80th birthday.
    record = ReportRecord(
        id="r1",
        subject_id="s1",
        status="coded",
        certificate_no="DC123",
        name="李秀英",
        sex="female",
        id_number=ID_NUMBER,
        birth_date=date(1946, 11, 30),
        district="310112",
        death_time=datetime(2026, 11, 29, 16, 50, tzinfo=UTC),
        place_of_death="home",
        part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        manner="natural",
        hospital_org_id="h1",
    )
    for context in ("police_household", "funeral_permit", "cdc_coding"):
        body = project(record, context=context, viewer=VIEWER, handles=fake_handles, pseudonym_key=KEY).model_dump()
        assert body["death_date"] == date(2026, 11, 30), context
    funeral = project(record, context="funeral_permit", viewer=VIEWER, handles=fake_handles, pseudonym_key=KEY)
    assert funeral.model_dump()["deceased"]["age_at_death"] == 80
