"""Break-glass review within the reviewer's jurisdiction (SQLite and PostgreSQL, real Cedar).

A physician of hospital B breaks the glass into a report certified by hospital A. The grant is
reviewed by the officers of A or B, by the oversight bodies of A's or B's district, and by the
municipal level; another hospital's officer, or another district's commission, neither sees it in
the queue nor reviews it (403, policy id ``jurisdiction``); the grantee never reviews their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccessDenied, ConflictError, NotFoundError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.oversight.common import local_principal
from piguard.policy.pdp import default_engine
from piguard.records import service as records
from piguard.records import support_flows
from piguard.records.guard import Guard, Guarded

NOW = datetime(2025, 6, 15, 9, 0, tzinfo=UTC)
MINHANG, PUDONG, XUHUI = "310112", "310115", "310104"
REASON = "patient in arrest, prior history needed now"
ORGS = (
    ("a", "hospital", MINHANG, "district"),
    ("b", "hospital", PUDONG, "district"),
    ("c", "hospital", MINHANG, "district"),  # same district as A, but not A
    ("hc_minhang", "health_commission", MINHANG, "district"),
    ("cdc_pudong", "cdc", PUDONG, "district"),
    ("hc_xuhui", "health_commission", XUHUI, "district"),
    ("hc_city", "health_commission", "310000", "municipal"),
)
PEOPLE = (
    ("certifier", "physician", "a"),
    ("broker", "physician", "b"),
    ("po_a", "privacy_officer", "a"),
    ("po_b", "privacy_officer", "b"),
    ("po_c", "privacy_officer", "c"),
    ("admin_c", "admin", "c"),
    ("po_minhang", "privacy_officer", "hc_minhang"),
    ("po_pudong", "privacy_officer", "cdc_pudong"),
    ("po_xuhui", "privacy_officer", "hc_xuhui"),
    ("po_city", "privacy_officer", "hc_city"),
)


@dataclass
class City:
    guard: Guard
    report: str
    grant: str

    def who(self, session: Session, key: str) -> Principal:
        return local_principal(session=session, username=key.replace("_", "."))


@pytest.fixture
def city(session: Session, tmp_path_factory: pytest.TempPathFactory) -> City:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    orgs = {
        key: records.create_organisation(session=session, name=key, org_type=kind, district=district, level=level).id
        for key, kind, district, level in ORGS
    }
    ids = {}
    for key, role, org in PEOPLE:
        ids[key] = identity.create_account(
            session=session,
            secret=b"s" * 32,
            username=key.replace("_", "."),
            display_name=key,
            role=role,
            org_id=orgs[org],
            password="correct horse battery",
            demo=True,
            now=NOW - timedelta(days=400),
        ).account.id
        identity.record_training(
            session=session,
            account_id=ids[key],
            course_code="privacy-basics",
            score=90,
            completed_at=NOW - timedelta(days=10),
        )
    report = records.create_report(
        session=session,
        hospital_org_id=orgs["a"],
        subject_id="subj-1",
        name="李秀英",
        sex="female",
        death_time=NOW - timedelta(days=2),
        place_of_death="hospital",
        district=MINHANG,
        part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
    )
    records.certify(session=session, report_id=report.id, certifier_id=ids["certifier"], at=NOW - timedelta(days=2))
    session.flush()
    guard = Guard(engine=default_engine(), settings=settings, secret=b"s" * 32, now=NOW)
    broker = local_principal(session=session, username="broker")
    grant = support_flows.request_breakglass(
        session=session, guard=guard, principal=broker, report_id=report.id, purpose="BTG", reason=REASON
    ).unwrap()
    return City(guard, report.id, grant.grant_id)


def _pending(session: Session, city: City, key: str) -> list[str]:
    listed = support_flows.pending_breakglass(session=session, guard=city.guard, principal=city.who(session, key))
    return [item.grant_id for item in listed.unwrap()]


def _review(session: Session, city: City, key: str, grant: str | None = None) -> Guarded[support_flows.ReviewItem]:
    return support_flows.review_breakglass(
        session=session,
        guard=city.guard,
        principal=city.who(session, key),
        grant_id=grant or city.grant,
        outcome="justified",
        note="arrest confirmed in the ED record",
    )


@pytest.mark.parametrize("key", ["po_a", "po_b", "po_minhang", "po_pudong", "po_city"])
def test_the_grant_is_in_the_queue_of_its_organisations_and_their_overseers(
    session: Session, city: City, key: str
) -> None:
    assert _pending(session, city, key) == [city.grant]
    reviewed = _review(session, city, key)
    assert reviewed.error is None and reviewed.event is not None and reviewed.event.outcome == "allowed"


@pytest.mark.parametrize("key", ["po_c", "admin_c", "po_xuhui"])
def test_outside_the_jurisdiction_the_grant_is_neither_listed_nor_reviewable(
    session: Session, city: City, key: str
) -> None:
    before = ledger.count(session=session)
    assert _pending(session, city, key) == []  # the list is allowed, and holds nothing of A's or B's
    refused = _review(session, city, key)
    assert isinstance(refused.error, AccessDenied) and refused.error.policy_ids == ("jurisdiction",)
    assert "outside your jurisdiction" in str(refused.error)
    assert city.grant not in str(refused.error) and REASON not in str(refused.error)
    events = list(ledger.iter_events(session=session))[before:]
    assert [(e.action, e.outcome) for e in events] == [("read", "allowed"), ("update", "denied")]
    # An unknown grant is refused the same way: the refusal says nothing about which grants exist.
    unknown = _review(session, city, key, grant="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert isinstance(unknown.error, AccessDenied) and unknown.error.policy_ids == ("jurisdiction",)
    # Still pending: the grant's own organisation reviews it afterwards.
    assert _pending(session, city, "po_a") == [city.grant]


def test_staff_are_no_reviewers_and_nobody_reviews_their_own(session: Session, city: City) -> None:
    for key in ("broker", "certifier"):
        listed = support_flows.pending_breakglass(session=session, guard=city.guard, principal=city.who(session, key))
        assert isinstance(listed.error, AccessDenied) and "jurisdiction" not in listed.error.policy_ids
        refused = _review(session, city, key)
        assert isinstance(refused.error, AccessDenied) and "jurisdiction" not in refused.error.policy_ids
    # The grantee does not review their own grant.
    own = support_flows.request_breakglass(
        session=session,
        guard=city.guard,
        principal=city.who(session, "certifier"),
        report_id=city.report,
        purpose="BTG",
        reason=REASON,
    ).unwrap()
    assert own.grant_id in _pending(session, city, "po_a")
    self_review = support_flows.review_breakglass(
        session=session,
        guard=city.guard,
        principal=city.who(session, "certifier"),
        grant_id=own.grant_id,
        outcome="justified",
        note="it was me, and it was fine",
    )
    assert isinstance(self_review.error, AccessDenied)  # a physician reviews nothing
    # The municipal level is told an unknown grant does not exist (it would see every grant).
    missing = _review(session, city, "po_city", grant="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert isinstance(missing.error, NotFoundError)
    assert _review(session, city, "po_a").error is None
    again = _review(session, city, "po_b")
    assert isinstance(again.error, ConflictError)
