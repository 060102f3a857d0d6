"""Who reviews a break-glass grant, decided by the real Cedar engine: the officers of the grantee's
organisation or of the record's institution, their districts' oversight bodies, the municipal level."""

from __future__ import annotations

import pytest

from piguard.policy import breakglass
from piguard.policy.pdp import AccessRequest, ResourceRef, Subject, default_engine

# A physician of hospital B (Pudong) broke the glass into a report of hospital A (Minhang).
GRANT = {"orgs": ("hosp-a", "hosp-b"), "districts": ("310112", "310115")}


def who(role: str, org: str, district: str, *, level: str = "district", kind: str = "human") -> Subject:
    return Subject(account_id=f"acc-{role}-{org}", role=role, org_id=org, district=district, org_level=level, kind=kind)


def reviews(subject: Subject, *relations: str, attrs: dict[str, object] | None = None) -> bool:
    request = breakglass.review_request(subject, frozenset(relations), "grant-1", GRANT if attrs is None else attrs)
    return default_engine().decide(request).allowed


@pytest.mark.parametrize(
    ("subject", "relations", "allowed"),
    [
        (who("privacy_officer", "hosp-a", "310112"), (), True),
        (who("admin", "hosp-b", "310115"), (), True),
        (who("privacy_officer", "hosp-c", "310112"), (), False),  # another hospital of the same district
        (who("privacy_officer", "hc-minhang", "310112"), ("oversight_body",), True),
        (who("privacy_officer", "cdc-pudong", "310115"), ("oversight_body",), True),
        (who("privacy_officer", "hc-xuhui", "310104"), ("oversight_body",), False),
        (who("privacy_officer", "hc-city", "310000", level="municipal"), ("oversight_body",), True),
        (who("physician", "hosp-a", "310112"), (), False),
        (who("service", "hosp-a", "310112", kind="service"), (), False),
    ],
)
def test_review_jurisdiction(subject: Subject, relations: tuple[str, ...], allowed: bool) -> None:
    assert reviews(subject, *relations) is allowed


def test_the_general_audit_policy_does_not_open_the_review() -> None:
    # Without the grant's attributes (as the review was asked before), no officer reviews anything.
    assert not reviews(who("privacy_officer", "hosp-c", "310112"), attrs={})
    assert not reviews(who("privacy_officer", "hc-city", "310000", level="municipal"), "oversight_body", attrs={})
    # Other audit data, in other display contexts, stays with the privacy-officer-audit policy.
    request = AccessRequest(
        subject=who("privacy_officer", "hosp-c", "310112"),
        action="read_audit",
        resource=ResourceRef("AuditLog", "ledger"),
        purpose="HOPERAT",
        display_context="audit",
    )
    decision = default_engine().decide(request)
    assert decision.allowed and decision.policy_ids == ("privacy-officer-audit",)
