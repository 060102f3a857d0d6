"""Recommendations and rectification items are decided within the officer's jurisdiction (in Cedar),
and a responsible person submits evidence only for an item of their own organisation."""

from __future__ import annotations

import pytest

from piguard.oversight.inspections.issuer import ORGANISATION
from piguard.oversight.inspections.jurisdiction import recommendation_orgs
from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject

ENGINE = PolicyEngine.load()
ACTIONS = ("read_inspection", "manage_inspection")
KINDS = [(kind, action) for kind in ("Recommendation", "Rectification") for action in ACTIONS]


def _person(org: str, district: str = "310112", level: str = "district", role: str = "privacy_officer") -> Subject:
    return Subject(account_id=f"{role}-{org}", role=role, org_id=org, district=district, org_level=level)


def _allowed(
    kind: str,
    action: str,
    orgs: tuple[str, ...],
    districts: tuple[str, ...],
    who: Subject,
    *relations: str,
) -> bool:
    request = AccessRequest(
        subject=who,
        action=action,
        # The organisation's own audit: the jurisdiction rules alone (see test_recommendation_issuer_policy).
        resource=ResourceRef(kind, "r1", {"orgs": orgs, "districts": districts, **ORGANISATION.attrs()}),
        purpose="HOPERAT",
        display_context="oversight",
        relationships=frozenset(relations),
    )
    return ENGINE.decide(request).allowed


@pytest.mark.parametrize(("kind", "action"), KINDS)
def test_a_hospital_officer_acts_only_on_its_own_organisations_items(kind: str, action: str) -> None:
    officer = _person("h1")
    assert _allowed(kind, action, ("h1",), ("310112",), officer)
    assert not _allowed(kind, action, ("h2",), ("310112",), officer)  # same district, another hospital
    assert not _allowed(kind, action, ("h1", "h2"), ("310112",), officer)  # not wholly its own


@pytest.mark.parametrize(("kind", "action"), KINDS)
def test_a_commission_covers_its_district_and_the_municipal_one_the_city(kind: str, action: str) -> None:
    district = _person("hc-mh", "310112")
    assert _allowed(kind, action, ("h1", "h2"), ("310112",), district, "oversight_body")
    assert not _allowed(kind, action, ("h1", "h3"), ("310112", "310104"), district, "oversight_body")
    assert not _allowed(kind, action, ("h1",), ("310112",), district)  # not an oversight body: its own org only
    city = _person("hc-city", "310000", "municipal")
    assert _allowed(kind, action, ("h3",), ("310104",), city, "oversight_body")
    # An organisation that does not exist lies in no district: only the municipal level covers it.
    assert not _allowed(kind, action, ("nowhere",), ("unknown",), district, "oversight_body")
    assert _allowed(kind, action, ("nowhere",), ("unknown",), city, "oversight_body")


def test_others_are_not_inspectors_whatever_the_organisation() -> None:
    physician = _person("h1", role="physician")
    for kind, action in KINDS:
        assert not _allowed(kind, action, ("h1",), ("310112",), physician)


def test_the_responsible_person_reads_and_submits_for_items_of_their_own_organisation() -> None:
    owner = _person("h1", role="physician")
    for action in ("read_inspection", "submit_evidence"):
        assert _allowed("Rectification", action, ("h1",), ("310112",), owner, "responsible")
        assert not _allowed("Rectification", action, ("h2",), ("310112",), owner, "responsible")
        assert not _allowed("Rectification", action, ("h1",), ("310112",), owner)  # not responsible for it
    # An inspector of the owner organisation is not the responsible person: no evidence from them.
    assert not _allowed("Rectification", "submit_evidence", ("h1",), ("310112",), _person("h1"))


def test_a_recommendation_is_about_its_addressee_and_owners_else_its_author() -> None:
    assert recommendation_orgs("h1", ["h2", "h1"], "hc") == ["h1", "h2"]
    assert recommendation_orgs(None, ["h2"], "hc") == ["h2"]
    assert recommendation_orgs(None, [], "hc-city") == ["hc-city"]  # addressed to nobody: the author's own
