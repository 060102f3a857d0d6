"""The relatives' request list filters by jurisdiction in the query (SQLite and PostgreSQL): its cost does not
grow with the number of requests, the limit is spent only on requests the officer may see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.oversight.common import local_principal
from piguard.oversight.family import flows
from piguard.oversight.family.schemas import FamilyRequestIn
from piguard.records import service as records
from tests.integration.oversight.test_family_requests import PASSWORD, Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture


@contextmanager
def _statements(family: Family) -> Iterator[list[str]]:
    seen: list[str] = []
    connection = family.session.connection()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _officer_of(family: Family, org_id: str, username: str) -> Principal:
    now = family.guard.now
    assert now is not None
    made = identity.create_account(
        session=family.session, secret=family.guard.secret, username=username, display_name=username,
        role="privacy_officer", org_id=org_id, password=PASSWORD, demo=True,
    )  # fmt: skip
    identity.record_training(
        session=family.session, account_id=made.account.id, course_code="privacy-basics", score=95,
        completed_at=now - timedelta(days=3),
    )  # fmt: skip
    family.session.flush()
    return local_principal(session=family.session, username=username)


def _listed(family: Family, who: Principal, limit: int = 100) -> list[str]:
    found = flows.list_requests(session=family.session, guard=family.at(600), principal=who, limit=limit)
    return [item.id for item in found.unwrap()]


def test_the_list_costs_the_same_whatever_the_number_of_requests(family: Family) -> None:
    officer = family.people["officer"]
    made = [family.register().unwrap().id for _ in range(2)]  # type: ignore[attr-defined]
    with _statements(family) as few:
        assert _listed(family, officer) == made
    made += [family.register(report_id=family.other_report).unwrap().id for _ in range(6)]  # type: ignore[attr-defined]
    with _statements(family) as many:
        assert sorted(_listed(family, officer)) == sorted(made)
    assert len(many) == len(few)


def test_the_limit_is_spent_on_requests_within_the_jurisdiction(family: Family) -> None:
    certifying = family.people["certifier"].org_id
    other = records.create_organisation(
        session=family.session, name="Xuhui Hospital", org_type="hospital", district="310104"
    ).id
    elsewhere = records.create_report(
        session=family.session,
        hospital_org_id=other,
        subject_id="subj-xh",
        name="孙美玲",
        sex="female",
        death_time=(family.guard.now or family.at(0).now) - timedelta(days=2),  # type: ignore[operator]
        place_of_death="hospital",
        district="310104",
        part1=[{"line": "a", "text": "脑梗死", "icd10": "I63.9"}],
    )
    family.session.flush()
    city = _officer_of(family, records.create_organisation(
        session=family.session, name="Shanghai Health Commission", org_type="health_commission", district="310000",
        level="municipal",
    ).id, "po.city")  # fmt: skip
    outside = family.register(who="officer", report_id=elsewhere.id)
    assert outside.error is not None  # the Minhang commission may not even register it
    first = flows.register(
        session=family.session,
        guard=family.at(10),  # due first
        principal=city,
        data=FamilyRequestIn.model_validate(
            {"report_id": elsewhere.id, "requester_name": "孙小军", "relationship": "child", "proof": "ID card"}
        ),
    ).unwrap()
    own = family.register().unwrap().id  # type: ignore[attr-defined]
    hospital_officer = _officer_of(family, certifying, "po.hospital")
    assert _listed(family, hospital_officer, limit=1) == [own]
    assert _listed(family, family.people["officer"], limit=1) == [own]
    assert _listed(family, city, limit=1) == [first.id]
    assert sorted(_listed(family, city)) == sorted([first.id, own])
