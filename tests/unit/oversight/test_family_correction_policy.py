"""Who decides relatives' correction and deletion requests, in the real Cedar policies, and the field rules."""

from __future__ import annotations

import dataclasses

import pytest

from piguard.oversight.family import rules
from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject
from piguard.records.service import CORRECTABLE

ENGINE = PolicyEngine.load()
OWN = {"orgs": ("h1",), "districts": ("310112",)}


def _allowed(
    who: Subject,
    action: str,
    context: str,
    relations: frozenset[str] = frozenset(),
    attrs: dict[str, tuple[str, ...]] = OWN,
) -> bool:
    request = AccessRequest(
        subject=who,
        action=action,
        resource=ResourceRef("FamilyRequest", "r1", attrs),
        purpose="FAMRQT",
        display_context=context,
        relationships=relations,
    )
    return ENGINE.decide(request).allowed


def _person(role: str, org: str = "h1", district: str = "310112", trained: bool = True) -> Subject:
    return Subject(account_id=f"{role}-{org}", role=role, org_id=org, district=district, training_ok=trained)


CERTIFIER = frozenset({"family_correction"})  # the referral a correction request creates


@pytest.mark.parametrize("action", ["read_family_request", "manage_family_request"])
def test_only_the_records_certifier_in_its_institution_decides_a_correction(action: str) -> None:
    physician = _person("physician")
    assert _allowed(physician, action, "family_correction", CERTIFIER)
    assert not _allowed(physician, action, "family_correction", frozenset({"attending"}))  # not the certifier
    # The ordinary certifier relationship is not a referral: only the request's own opens it.
    assert not _allowed(physician, action, "family_correction", frozenset({"certifier"}))
    assert not _allowed(physician, action, "family_correction", CERTIFIER, {"orgs": ("h2",), "districts": ("310112",)})
    assert not _allowed(physician, action, "oversight", CERTIFIER)  # not the office's screen
    assert not _allowed(_person("nurse"), action, "family_correction", CERTIFIER)
    assert not _allowed(_person("physician", trained=False), action, "family_correction", CERTIFIER)
    # The office does not take the certifier's place, even with the relationship claimed.
    assert not _allowed(_person("privacy_officer"), action, "family_correction", CERTIFIER)


def test_officers_act_in_their_own_contexts_and_answer_deletions_within_their_jurisdiction() -> None:
    officer = _person("privacy_officer")
    assert _allowed(officer, "manage_family_request", "oversight")
    assert _allowed(officer, "manage_family_request", "family_erasure")
    far = {"orgs": ("h9",), "districts": ("310104",)}
    assert not _allowed(officer, "manage_family_request", "family_erasure", attrs=far)
    commission = _person("privacy_officer", org="hc", district="310104")
    assert _allowed(commission, "manage_family_request", "family_erasure", frozenset({"oversight_body"}), far)
    assert not _allowed(_person("physician"), "manage_family_request", "family_erasure", CERTIFIER)
    assert not _allowed(_person("admin"), "manage_family_request", "family_erasure")
    assert not _allowed(officer, "read_family_request", "some_other_screen")
    assert not _allowed(officer, "issue_family_copy", "family_erasure")


def test_the_fields_a_relative_may_ask_to_correct_are_the_workflows_and_the_rest_say_why() -> None:
    assert tuple(CORRECTABLE) == rules.FAMILY_CORRECTABLE
    for field in CORRECTABLE:
        assert rules.correctable(field) == ""
    assert "medical opinion" in rules.correctable("part1")
    assert "medical opinion" in rules.correctable("underlying_icd10")
    assert "their own personal information" in rules.correctable("relative.3.phone")
    assert "reissue" in rules.correctable("ethnicity")
    assert rules.correctable("nonsense").startswith("unknown field; a relative may ask to correct: name, ")


@pytest.mark.parametrize("action", ["read", "search"])
def test_the_referral_opens_no_record(action: str) -> None:
    """No record-read or search policy accepts the referral: it opens the request's items, not the report."""
    for context, purpose in (("hospital_certifier", "TREAT"), ("hospital_certifier", "HOPERAT")):
        request = AccessRequest(
            subject=_person("physician"),
            action=action,
            resource=ResourceRef("DeathReport", "d1", {"hospital": "h1", "district": "310112", "status": "certified"}),
            purpose=purpose,
            display_context=context,
            relationships=CERTIFIER,
        )
        assert not ENGINE.decide(request).allowed
        certified = dataclasses.replace(request, relationships=frozenset({"certifier"}))
        assert ENGINE.decide(certified).allowed  # the same request as the certifier is allowed: the test can fail
