"""Investigation cases are decided within the officer's jurisdiction (resource-based, in Cedar)."""

from __future__ import annotations

import pytest

from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject

ENGINE = PolicyEngine.load()


def _officer(org: str, district: str = "310112", level: str = "district") -> Subject:
    return Subject(account_id=f"po-{org}", role="privacy_officer", org_id=org, district=district, org_level=level)


def _case(orgs: tuple[str, ...], districts: tuple[str, ...], *, body: bool, who: Subject, action: str) -> bool:
    request = AccessRequest(
        subject=who,
        action=action,
        resource=ResourceRef("Case", "c1", {"orgs": orgs, "districts": districts}),
        purpose="HOPERAT",
        display_context="oversight",
        relationships=frozenset({"oversight_body"}) if body else frozenset(),
    )
    return ENGINE.decide(request).allowed


@pytest.mark.parametrize("action", ["read_case", "manage_case"])
def test_a_hospital_officer_acts_only_on_cases_about_their_own_hospital(action: str) -> None:
    officer = _officer("h1")
    assert _case(("h1",), ("310112",), body=False, who=officer, action=action)
    assert not _case(("h2",), ("310112",), body=False, who=officer, action=action)
    assert not _case(("h1", "h2"), ("310112",), body=False, who=officer, action=action)


@pytest.mark.parametrize("action", ["read_case", "manage_case"])
def test_a_commission_covers_its_district_and_the_municipal_one_the_city(action: str) -> None:
    district = _officer("hc-mh", "310112")
    assert _case(("h1", "h2"), ("310112",), body=True, who=district, action=action)
    assert not _case(("h3",), ("310104",), body=True, who=district, action=action)
    assert not _case(("h1", "h3"), ("310112", "310104"), body=True, who=district, action=action)
    city = _officer("hc-city", "310000", "municipal")
    assert _case(("h1", "h3"), ("310112", "310104"), body=True, who=city, action=action)
    # The same org and district without being an oversight body: no city-wide reach.
    assert not _case(("h3",), ("310104",), body=False, who=city, action=action)
