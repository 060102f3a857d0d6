"""Who adds courses to the city's catalogue, decided by the real Cedar engine: a mandatory course
closes every account's training gate, so only the municipal health commission adds one."""

from __future__ import annotations

import pytest

from piguard.policy.pdp import AccessRequest, Decision, ResourceRef, Subject, default_engine


def officer(role: str, org: str, *, level: str = "district", trained: bool = True, kind: str = "human") -> Subject:
    return Subject(
        account_id=f"acc-{role}-{org}",
        role=role,
        org_id=org,
        district="310000" if level == "municipal" else "310112",
        org_level=level,
        training_ok=trained,
        kind=kind,
    )


def add(who: Subject, *, mandatory: bool | None, commission: bool) -> Decision:
    attrs = {} if mandatory is None else {"mandatory": mandatory}
    return default_engine().decide(
        AccessRequest(
            subject=who,
            action="manage_training",
            resource=ResourceRef("TrainingCourse", "lockout", attrs),
            purpose="HOPERAT",
            display_context="oversight",
            relationships=frozenset({"health_commission"} if commission else ()),
        )
    )


HOSPITAL_PO = officer("privacy_officer", "hosp-a")
CITY_PO = officer("privacy_officer", "hc-city", level="municipal")


@pytest.mark.parametrize(
    ("who", "commission", "mandatory_allowed"),
    [
        (HOSPITAL_PO, False, False),
        (officer("admin", "hosp-a"), False, False),
        (officer("privacy_officer", "hc-minhang"), True, False),  # a district commission: its district only
        (officer("privacy_officer", "cdc-city", level="municipal"), False, False),  # a CDC is no commission
        (CITY_PO, True, True),
        (officer("admin", "hc-city", level="municipal"), True, True),
        (officer("physician", "hc-city", level="municipal"), True, False),
    ],
)
def test_a_mandatory_course_is_the_municipal_commission_s(
    who: Subject, commission: bool, mandatory_allowed: bool
) -> None:
    assert add(who, mandatory=True, commission=commission).allowed is mandatory_allowed
    # Every officer and administrator adds optional courses (no effect on the gate); staff add none.
    assert add(who, mandatory=False, commission=commission).allowed is (who.role != "physician")


def test_an_addition_that_does_not_say_whether_it_is_mandatory_is_refused() -> None:
    assert not add(HOSPITAL_PO, mandatory=None, commission=False).allowed
    assert not add(CITY_PO, mandatory=None, commission=True).allowed


def test_the_gate_still_applies_to_the_commission() -> None:
    lapsed = officer("privacy_officer", "hc-city", level="municipal", trained=False)
    decision = add(lapsed, mandatory=True, commission=True)
    assert not decision.allowed and decision.policy_ids == ("training-gate",)
