"""What the family's account says the police registrar and the funeral clerk saw: their screens'
own fields, grouped (a date of death is no cause of death; a masked ID number is not the number)."""

from __future__ import annotations

from datetime import date

from piguard.minimize.contexts import disclosed_fields
from piguard.minimize.views import FuneralDeceased, FuneralPermitView, PoliceDeceased, PoliceHouseholdView
from piguard.oversight.family import disclosures

CAUSES = "cause and circumstances of death"


def test_the_funeral_clerk_saw_a_date_and_a_masked_id_number_not_causes() -> None:
    view = FuneralPermitView(
        report_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        certificate_no="SH-2025-000123",
        deceased=FuneralDeceased(name="李秀英", sex="female", age_at_death=80, id_number_masked="**************0046"),
        death_date=date(2025, 6, 13),
    )
    assert disclosures.disclosed(disclosed_fields(view)) == [
        "date of death",
        "death certificate",
        "identity",
        "identity number (masked, last 4)",
        "record status",  # the report id
    ]


def test_the_police_registrar_saw_the_full_id_number_and_a_date_not_causes() -> None:
    view = PoliceHouseholdView(
        report_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        certificate_no="SH-2025-000123",
        deceased=PoliceDeceased(
            name="李秀英",
            sex="female",
            id_number="310112194503070046",
            birth_date=date(1945, 3, 7),
            household_address="上海市闵行区莘庄镇某路1号",
        ),
        death_date=date(2025, 6, 13),
    )
    kinds = disclosures.disclosed(disclosed_fields(view))
    assert CAUSES not in kinds
    assert {"date of death", "identity number", "addresses"} <= set(kinds)
    assert "identity number (masked, last 4)" not in kinds


def test_the_certifier_s_time_of_death_and_causes_are_both_named() -> None:
    kinds = disclosures.disclosed(["death.time", "death.cause_part1.text", "deceased.id_number_masked"])
    assert kinds == [CAUSES, "date and time of death", "identity number (masked, last 4)"]
