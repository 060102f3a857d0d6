"""The Cedar policies decide need-to-know as the issue states, with reasons and policy ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from piguard.errors import ConfigError, UnknownPurposeError
from piguard.policy.pdp import AccessRequest, PolicyEngine, ResourceRef, Subject, default_engine
from piguard.policy.purposes import parse_purpose

HOSPITAL = "org-h1"
OTHER_HOSPITAL = "org-h2"


def report(hospital: str = HOSPITAL, district: str = "310112", rid: str = "r1") -> ResourceRef:
    return ResourceRef("DeathReport", rid, {"hospital": hospital, "district": district, "status": "certified"})


def dispatch(*, open_: bool = True, in_grace: bool = False, org: str = "org-ec") -> ResourceRef:
    return ResourceRef("Dispatch", "d1", {"org": org, "district": "310112", "open": open_, "in_grace": in_grace})


def who(
    role: str, org: str = HOSPITAL, *, district: str = "310112", level: str = "district", trained: bool = True
) -> Subject:
    return Subject(
        account_id=f"u-{role}", role=role, org_id=org, district=district, org_level=level, training_ok=trained
    )


def decide(
    subject: Subject, resource: ResourceRef, purpose: str, context: str, rels: set[str] = frozenset(), **kw: bool
):  # type: ignore[no-untyped-def]
    return default_engine().decide(
        AccessRequest(subject, kw.pop("action", "read"), resource, purpose, context, frozenset(rels), **kw)  # type: ignore[arg-type]
    )


def test_certifier_reads_own_hospital_report() -> None:
    decision = decide(who("physician"), report(), "TREAT", "hospital_certifier", {"certifier"})
    assert decision.allowed
    assert decision.policy_ids == ("physician-certifier-read",)
    assert "certifier" in decision.reason


def test_minhang_pattern_other_hospital_denied_even_with_relationship() -> None:
    decision = decide(who("physician"), report(hospital=OTHER_HOSPITAL), "TREAT", "hospital_certifier", {"attending"})
    assert not decision.allowed
    assert decision.policy_ids == ()


def test_physician_without_relationship_is_denied_with_a_reason() -> None:
    decision = decide(who("physician"), report(), "TREAT", "hospital_certifier")
    assert not decision.allowed
    assert "no task relationship" in decision.reason


def test_wrong_purpose_is_denied() -> None:
    assert not decide(who("physician"), report(), "HMARKT", "hospital_certifier", {"certifier"}).allowed


def test_lapsed_training_denies_and_says_so() -> None:
    decision = decide(who("physician", trained=False), report(), "TREAT", "hospital_certifier", {"certifier"})
    assert not decision.allowed
    assert decision.policy_ids == ("training-gate",)
    assert "training" in decision.reason


def test_emt_sees_assigned_open_call_and_grace_but_not_after() -> None:
    emt = who("emt", "org-ec")
    assert decide(emt, dispatch(), "TREAT", "ambulance_mdt", {"crew"}).allowed
    assert decide(emt, dispatch(open_=False, in_grace=True), "TREAT", "ambulance_mdt", {"crew"}).allowed
    assert not decide(emt, dispatch(open_=False, in_grace=False), "TREAT", "ambulance_mdt", {"crew"}).allowed
    assert not decide(emt, dispatch(), "TREAT", "ambulance_mdt").allowed


def test_coder_only_own_jurisdiction_and_assigned() -> None:
    coder = who("cdc_coder", "org-cdc", district="310112")
    assert decide(coder, report(), "PUBHLTH", "cdc_coding", {"coder"}).allowed
    assert not decide(coder, report(district="310104"), "PUBHLTH", "cdc_coding", {"coder"}).allowed
    assert not decide(coder, report(), "PUBHLTH", "cdc_coding").allowed
    # The coder cannot switch to the certifier's screen to see relatives.
    assert not decide(coder, report(), "PUBHLTH", "hospital_certifier", {"coder"}).allowed
    municipal = who("cdc_coder", "org-mcdc", district="310000", level="municipal")
    assert decide(municipal, report(district="310104"), "PUBHLTH", "cdc_coding", {"coder"}).allowed


def test_police_and_funeral_only_after_code_and_only_their_part() -> None:
    police = who("police_registrar", "org-ps")
    funeral = who("funeral_clerk", "org-fh")
    assert not decide(police, report(), "LEGAL", "police_household").allowed
    assert decide(police, report(), "LEGAL", "police_household", {"registrar"}).allowed
    assert not decide(police, report(), "LEGAL", "hospital_certifier", {"registrar"}).allowed
    assert not decide(funeral, report(), "FAMRQT", "funeral_permit").allowed
    assert decide(funeral, report(), "FAMRQT", "funeral_permit", {"funeral"}).allowed
    assert not decide(funeral, report(), "FAMRQT", "police_household", {"funeral"}).allowed


def test_privacy_officer_reads_content_only_in_open_investigation() -> None:
    officer = who("privacy_officer", "org-hc")
    assert not decide(officer, report(), "LEGAL", "privacy_review").allowed
    assert decide(officer, report(), "LEGAL", "privacy_review", {"investigator"}).allowed
    audit = ResourceRef("AuditLog", "ledger")
    assert decide(officer, audit, "HOPERAT", "audit", action="read_audit").allowed  # type: ignore[arg-type]
    assert not decide(who("physician"), audit, "HOPERAT", "audit", action="read_audit").allowed  # type: ignore[arg-type]


def test_statistics_are_the_only_city_wide_access() -> None:
    stats = ResourceRef("Statistics", "deaths")
    assert decide(
        who("cdc_epidemiologist", "org-cdc"), stats, "PUBHLTH", "cdc_statistics", action="read_statistics"
    ).allowed  # type: ignore[arg-type]
    assert not decide(who("physician"), stats, "PUBHLTH", "cdc_statistics", action="read_statistics").allowed  # type: ignore[arg-type]


def test_breakglass_needs_grant_and_emergency_purpose() -> None:
    doctor = who("physician")
    assert decide(doctor, report(OTHER_HOSPITAL), "BTG", "hospital_certifier", breakglass=True).allowed
    assert not decide(doctor, report(OTHER_HOSPITAL), "TREAT", "hospital_certifier", breakglass=True).allowed
    assert not decide(doctor, report(OTHER_HOSPITAL), "BTG", "hospital_certifier").allowed
    assert not decide(who("funeral_clerk", "org-fh"), report(), "BTG", "hospital_certifier", breakglass=True).allowed


def test_unknown_purpose_is_rejected() -> None:
    assert parse_purpose(" treat ") == "TREAT"
    with pytest.raises(UnknownPurposeError):
        parse_purpose("SELLING")
    with pytest.raises(UnknownPurposeError):
        parse_purpose(None)


def test_invalid_policy_refuses_to_load(tmp_path: Path) -> None:
    from importlib import resources

    (tmp_path / "policies").mkdir()
    schema = resources.files("piguard.policy").joinpath("schema.cedarschema").read_text(encoding="utf-8")
    (tmp_path / "schema.cedarschema").write_text(schema, encoding="utf-8")
    (tmp_path / "policies" / "bad.cedar").write_text(
        '@id("typo")\npermit (principal, action, resource) when { principal.rol == "x" };', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="do not validate"):
        PolicyEngine.load(tmp_path)
    (tmp_path / "policies" / "bad.cedar").write_text("permit (principal, action, resource", encoding="utf-8")
    with pytest.raises(ConfigError):
        PolicyEngine.load(tmp_path)


def test_batch_decisions_match_single() -> None:
    engine = default_engine()
    requests = [
        AccessRequest(
            who("physician"), "search", report(h, rid=f"r{i}"), "TREAT", "hospital_certifier", frozenset({"certifier"})
        )
        for i, h in enumerate((HOSPITAL, OTHER_HOSPITAL, HOSPITAL))
    ]
    batch = [d.allowed for d in engine.decide_many(requests)]
    assert batch == [engine.decide(r).allowed for r in requests] == [True, False, True]
    clash = [
        requests[0],
        AccessRequest(who("physician"), "search", report(OTHER_HOSPITAL, rid="r0"), "TREAT", "hospital_certifier"),
    ]
    with pytest.raises(ValueError, match="conflicting"):
        PolicyEngine.load().decide_many(clash)  # a fresh engine: nothing remembered, both evaluated together


def test_remembered_decisions_follow_every_input() -> None:
    engine = PolicyEngine.load()
    allowed = AccessRequest(who("physician"), "read", report(), "TREAT", "hospital_certifier", frozenset({"certifier"}))
    assert engine.decide(allowed).allowed
    assert engine.decide(allowed) == engine.decide(allowed)
    # Each input that changes the answer is part of what is remembered.
    lapsed = AccessRequest(
        who("physician", trained=False), "read", report(), "TREAT", "hospital_certifier", frozenset({"certifier"})
    )
    assert "training" in engine.decide(lapsed).reason
    assert not engine.decide(AccessRequest(who("physician"), "read", report(), "TREAT", "hospital_certifier")).allowed
    moved = AccessRequest(
        who("physician"), "read", report(OTHER_HOSPITAL), "TREAT", "hospital_certifier", frozenset({"certifier"})
    )
    assert not engine.decide(moved).allowed
    assert engine.decide(allowed).allowed
