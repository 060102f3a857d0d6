"""Spot checks and relatives' requests are decided within the officer's jurisdiction (in Cedar)."""

from __future__ import annotations

import pytest

from piguard.oversight.inspections.issuer import ORGANISATION
from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject

ENGINE = PolicyEngine.load()
SPOT = ("SpotCheck", "read_inspection", "manage_inspection")
FAMILY = ("FamilyRequest", "read_family_request", "manage_family_request", "issue_family_copy")


def _officer(org: str, district: str = "310112", level: str = "district", role: str = "privacy_officer") -> Subject:
    return Subject(account_id=f"po-{org}-{role}", role=role, org_id=org, district=district, org_level=level)


def _allowed(
    kind: str, action: str, orgs: tuple[str, ...], districts: tuple[str, ...], who: Subject, body: bool
) -> bool:
    family = kind == "FamilyRequest"
    request = AccessRequest(
        subject=who,
        action=action,
        resource=ResourceRef(kind, "r1", {"orgs": orgs, "districts": districts}),
        purpose="FAMRQT" if family else "HOPERAT",
        display_context="family_copy" if action == "issue_family_copy" else "oversight",
        relationships=frozenset({"oversight_body"}) if body else frozenset(),
    )
    return ENGINE.decide(request).allowed


CASES = [(SPOT[0], action) for action in SPOT[1:]] + [(FAMILY[0], action) for action in FAMILY[1:]]


@pytest.mark.parametrize(("kind", "action"), CASES)
def test_a_hospital_officer_acts_only_on_its_own_organisations_work(kind: str, action: str) -> None:
    officer = _officer("h1")
    assert _allowed(kind, action, ("h1",), ("310112",), officer, body=False)
    assert not _allowed(kind, action, ("h2",), ("310112",), officer, body=False)  # same district, other hospital


@pytest.mark.parametrize(("kind", "action"), CASES)
def test_a_commission_covers_its_district_and_the_municipal_one_the_city(kind: str, action: str) -> None:
    district = _officer("hc-mh", "310112")
    assert _allowed(kind, action, ("h1",), ("310112",), district, body=True)
    assert not _allowed(kind, action, ("h3",), ("310104",), district, body=True)
    city = _officer("hc-city", "310000", "municipal")
    assert _allowed(kind, action, ("h3",), ("310104",), city, body=True)
    assert not _allowed(kind, action, ("h3",), ("310104",), city, body=False)  # not an oversight body


def test_administrators_run_spot_checks_in_their_jurisdiction_but_never_answer_relatives() -> None:
    admin = _officer("h1", role="admin")
    assert _allowed("SpotCheck", "manage_inspection", ("h1",), ("310112",), admin, body=False)
    assert not _allowed("SpotCheck", "manage_inspection", ("h2",), ("310112",), admin, body=False)
    assert not _allowed("FamilyRequest", "manage_family_request", ("h1",), ("310112",), admin, body=False)


def test_recommendations_and_items_are_scoped_by_jurisdiction_too() -> None:
    officer = _officer("h1")
    for kind in ("Recommendation", "Rectification"):
        internal = ORGANISATION.attrs()  # the organisation's own audit
        own = ResourceRef(kind, "x", {"orgs": ("h1",), "districts": ("310112",), **internal})
        other = ResourceRef(kind, "x", {"orgs": ("h2",), "districts": ("310112",), **internal})
        assert ENGINE.decide(AccessRequest(officer, "manage_inspection", own, "HOPERAT", "oversight")).allowed
        assert not ENGINE.decide(AccessRequest(officer, "manage_inspection", other, "HOPERAT", "oversight")).allowed
