"""The training and report policies, decided by the real Cedar engine (no database)."""

from __future__ import annotations

import pytest

from piguard.policy.pdp import AccessRequest, ResourceRef, Subject, default_engine


def subject(role: str, *, org: str = "hosp", trained: bool = True, kind: str = "human") -> Subject:
    return Subject(
        account_id=f"acc-{role}-{org}", role=role, org_id=org, district="310112", training_ok=trained, kind=kind
    )


def ask(who: Subject, action: str, resource: ResourceRef, *relations: str) -> tuple[bool, tuple[str, ...]]:
    decision = default_engine().decide(
        AccessRequest(
            subject=who,
            action=action,
            resource=resource,
            purpose="HOPERAT",
            display_context="oversight",
            relationships=frozenset(relations),
        )
    )
    return decision.allowed, decision.policy_ids


RECORD = ResourceRef("TrainingRecord", "acc-x", {"org": "hosp"})
CATALOGUE = ResourceRef("TrainingCourse", "catalogue")


@pytest.mark.parametrize(
    ("who", "action", "relations", "allowed"),
    [
        (subject("physician"), "read_training", ("self",), True),
        (subject("physician"), "read_training", ("same_org",), False),
        (subject("physician"), "manage_training", ("self", "same_org"), False),
        (subject("privacy_officer"), "manage_training", ("same_org",), True),
        (subject("admin"), "read_training", ("same_org",), True),
        (subject("privacy_officer", org="other"), "manage_training", (), False),
        (subject("privacy_officer", org="hc"), "manage_training", ("health_commission",), True),
        (subject("physician"), "attest_training", ("self",), True),
        (subject("privacy_officer"), "attest_training", ("same_org",), False),  # nobody attests for another
        (subject("service", kind="service"), "read_training", ("self",), False),
    ],
)
def test_training_records(who: Subject, action: str, relations: tuple[str, ...], allowed: bool) -> None:
    assert ask(who, action, RECORD, *relations)[0] is allowed


def test_the_gate_spares_only_one_s_own_status_and_attestation() -> None:
    lapsed = subject("privacy_officer", trained=False)
    assert ask(lapsed, "read_training", RECORD, "self", "same_org")[0]
    assert ask(lapsed, "attest_training", RECORD, "self")[0]
    allowed, ids = ask(lapsed, "manage_training", RECORD, "same_org")
    assert not allowed and ids == ("training-gate",)
    assert ask(lapsed, "read_training", RECORD, "same_org") == (False, ("training-gate",))
    report = ResourceRef("PrivacyReport", "hosp:2025-03", {"org": "hosp", "city": False})
    assert ask(lapsed, "read_report", report, "self") == (False, ("training-gate",))


def test_catalogue() -> None:
    optional = ResourceRef("TrainingCourse", "ethics", {"mandatory": False})
    assert ask(subject("nurse"), "read_training", CATALOGUE)[0]
    assert not ask(subject("nurse"), "manage_training", optional)[0]
    assert ask(subject("privacy_officer"), "manage_training", optional)[0]
    # A mandatory course is the municipal health commission's (tests/unit/policy/test_training_course_policy.py).
    mandatory = ResourceRef("TrainingCourse", "ethics", {"mandatory": True})
    assert not ask(subject("privacy_officer"), "manage_training", mandatory)[0]


@pytest.mark.parametrize(
    ("who", "org", "city", "relations", "allowed"),
    [
        (subject("privacy_officer"), "hosp", False, (), True),
        (subject("admin"), "hosp", False, (), True),
        (subject("physician"), "hosp", False, (), False),
        (subject("privacy_officer", org="other"), "hosp", False, (), False),
        (subject("privacy_officer"), "city", True, (), False),
        (subject("privacy_officer", org="hc"), "city", True, ("health_commission",), True),
        (subject("privacy_officer", org="hc"), "hosp", False, ("health_commission",), True),
        (subject("physician", org="hc"), "city", True, ("health_commission",), False),
    ],
)
def test_reports(who: Subject, org: str, city: bool, relations: tuple[str, ...], allowed: bool) -> None:
    resource = ResourceRef("PrivacyReport", f"{org}:2025-03", {"org": org, "city": city})
    assert ask(who, "read_report", resource, *relations)[0] is allowed
