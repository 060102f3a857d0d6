"""A recommendation issued from outside the audited organisation is managed at the level that issued it
(in Cedar: ``managed_by``, ``issuer``, ``issuer_level``, ``assigning``): the audited organisation's
officer reads it and names the responsible person, never extends, corrects or verifies it."""

from __future__ import annotations

from typing import Any

import pytest

from piguard.oversight.inspections.issuer import ORGANISATION, OVERSIGHT, Issuer, classify, settled_source
from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject
from piguard.records.models import Organisation

ENGINE = PolicyEngine.load()
KINDS = ("Recommendation", "Rectification")
H1 = {"orgs": ("h1",), "districts": ("310112",)}  # an item of hospital h1, district 310112
BY_DISTRICT = Issuer("issuer", "hc-mh", "district")  # issued by the district health commission
BY_CITY = Issuer("issuer", "hc-city", "municipal")


def _person(org: str, district: str = "310112", level: str = "district", role: str = "privacy_officer") -> Subject:
    return Subject(account_id=f"{role}-{org}", role=role, org_id=org, district=district, org_level=level)


HOSPITAL_PO = _person("h1")
DISTRICT_HC = _person("hc-mh")
DISTRICT_CDC = _person("cdc-mh")
OTHER_DISTRICT_HC = _person("hc-pd", "310115")
CITY_HC = _person("hc-city", "310000", "municipal")
CITY_CDC = _person("cdc-city", "310000", "municipal")
BODIES = {DISTRICT_HC, DISTRICT_CDC, OTHER_DISTRICT_HC, CITY_HC, CITY_CDC}


def _allowed(kind: str, action: str, who: Subject, attrs: dict[str, Any], *relations: str) -> bool:
    body = {"oversight_body"} if who in BODIES else set()
    request = AccessRequest(
        subject=who,
        action=action,
        resource=ResourceRef(kind, "r1", attrs),
        purpose="HOPERAT",
        display_context="oversight",
        relationships=frozenset(body | set(relations)),
    )
    return ENGINE.decide(request).allowed


def _work(manager: Issuer, *, assigning: bool = False, adding_items: bool = False) -> dict[str, Any]:
    return H1 | manager.attrs(assigning=assigning, adding_items=adding_items)


@pytest.mark.parametrize("kind", KINDS)
def test_the_audited_organisation_reads_but_never_manages_what_a_commission_issued(kind: str) -> None:
    work = _work(BY_DISTRICT)
    assert _allowed(kind, "read_inspection", HOSPITAL_PO, work)
    assert not _allowed(kind, "manage_inspection", HOSPITAL_PO, work)
    assert _allowed(kind, "manage_inspection", DISTRICT_HC, work)  # the issuing body
    assert _allowed(kind, "manage_inspection", CITY_HC, work)  # above it: the municipal level
    assert _allowed(kind, "manage_inspection", CITY_CDC, work)
    # Within the jurisdiction, but neither the issuer nor above it: reads, never manages.
    assert _allowed(kind, "read_inspection", DISTRICT_CDC, work)
    assert not _allowed(kind, "manage_inspection", DISTRICT_CDC, work)
    assert not _allowed(kind, "read_inspection", OTHER_DISTRICT_HC, work)
    assert not _allowed(kind, "manage_inspection", OTHER_DISTRICT_HC, work)


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_municipal_level_issued_stays_with_it(kind: str) -> None:
    work = _work(BY_CITY)
    assert _allowed(kind, "manage_inspection", CITY_HC, work)
    assert _allowed(kind, "read_inspection", DISTRICT_HC, work)
    assert not _allowed(kind, "manage_inspection", DISTRICT_HC, work)  # below the issuer
    assert not _allowed(kind, "manage_inspection", CITY_CDC, work)  # the same level is not above
    assert not _allowed(kind, "manage_inspection", HOSPITAL_PO, work)


@pytest.mark.parametrize("kind", KINDS)
def test_an_outside_recommendation_the_organisation_recorded_itself_is_oversights(kind: str) -> None:
    work = _work(OVERSIGHT)
    assert _allowed(kind, "read_inspection", HOSPITAL_PO, work)
    assert not _allowed(kind, "manage_inspection", HOSPITAL_PO, work)
    for body in (DISTRICT_HC, DISTRICT_CDC, CITY_HC):
        assert _allowed(kind, "manage_inspection", body, work)
    assert not _allowed(kind, "manage_inspection", OTHER_DISTRICT_HC, work)  # outside its jurisdiction


@pytest.mark.parametrize("kind", KINDS)
def test_the_organisations_own_audit_keeps_the_jurisdiction_rules(kind: str) -> None:
    work = _work(ORGANISATION)
    for who in (HOSPITAL_PO, DISTRICT_HC, DISTRICT_CDC, CITY_HC):
        assert _allowed(kind, "manage_inspection", who, work)
    assert not _allowed(kind, "manage_inspection", OTHER_DISTRICT_HC, work)
    assert not _allowed(kind, "manage_inspection", _person("h2"), work)


def test_the_audited_organisations_officer_names_the_responsible_person_for_its_own_items() -> None:
    for manager in (BY_DISTRICT, BY_CITY, OVERSIGHT):
        assert _allowed("Rectification", "manage_inspection", HOSPITAL_PO, _work(manager, assigning=True))
        assert _allowed(
            "Rectification", "manage_inspection", _person("h1", role="admin"), _work(manager, assigning=True)
        )
        # Not for a recommendation, not for another hospital's item, not for a physician.
        assert not _allowed("Recommendation", "manage_inspection", HOSPITAL_PO, _work(manager, assigning=True))
        assert not _allowed("Rectification", "manage_inspection", _person("h2"), _work(manager, assigning=True))
        physician = _person("h1", role="physician")
        assert not _allowed("Rectification", "manage_inspection", physician, _work(manager, assigning=True))
        # A commission that did not issue it gains nothing by assigning either.
        assert not _allowed("Rectification", "manage_inspection", OTHER_DISTRICT_HC, _work(manager, assigning=True))


@pytest.mark.parametrize("kind", KINDS)
def test_work_without_its_manager_is_refused_any_change(kind: str) -> None:
    # Fail closed: a flow that forgot who manages the work gets no change through.
    for who in (HOSPITAL_PO, DISTRICT_HC, CITY_HC):
        assert not _allowed(kind, "manage_inspection", who, dict(H1))
    assert _allowed(kind, "read_inspection", HOSPITAL_PO, dict(H1))


def _org(org_type: str, level: str = "district") -> Organisation:
    return Organisation(id=f"{org_type}-1", name="x", org_type=org_type, district="310112", level=level)


def test_who_manages_follows_the_recorder_and_the_source() -> None:
    assert classify(source="internal_audit", recorder=_org("health_commission")) == Issuer(
        "issuer", "health_commission-1", "district"
    )
    assert classify(source="procuratorial_recommendation", recorder=_org("cdc", "municipal")) == Issuer(
        "issuer", "cdc-1", "municipal"
    )
    for source in ("procuratorial_recommendation", "health_commission_inspection", "external_audit", "other"):
        assert classify(source=source, recorder=_org("hospital")) == OVERSIGHT
        assert classify(source=source, recorder=None) == OVERSIGHT
    assert classify(source="internal_audit", recorder=_org("hospital")) == ORGANISATION


def test_items_are_added_to_the_organisations_own_audit_only_by_its_officers() -> None:
    # An oversight body's items there would be the organisation's to extend and verify: it records its own.
    adding = _work(ORGANISATION, adding_items=True)
    assert _allowed("Recommendation", "manage_inspection", HOSPITAL_PO, adding)
    for body in (DISTRICT_HC, DISTRICT_CDC, CITY_HC):
        assert not _allowed("Recommendation", "manage_inspection", body, adding)
        assert _allowed("Recommendation", "manage_inspection", body, _work(ORGANISATION))  # other changes: yes
    # Items of issued or outside work stay with their managers, as any other change.
    assert _allowed("Recommendation", "manage_inspection", DISTRICT_HC, _work(BY_DISTRICT, adding_items=True))
    assert not _allowed("Recommendation", "manage_inspection", HOSPITAL_PO, _work(OVERSIGHT, adding_items=True))


def test_once_outside_a_source_stays_outside() -> None:
    assert settled_source(["internal_audit"]) == "internal_audit"
    assert settled_source(["internal_audit", "procuratorial_recommendation"]) == "procuratorial_recommendation"
    # Handed back before the rule: still classified by the outside source it had.
    assert settled_source(["internal_audit", "procuratorial_recommendation", "internal_audit"]) != "internal_audit"
    assert settled_source(["external_audit", "internal_audit", "other", "internal_audit"]) == "other"
