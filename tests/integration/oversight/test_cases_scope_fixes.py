"""Cases outside the officer's jurisdiction (SQLite and PostgreSQL): the refusal names the jurisdiction
(not "no policy permits") without the case's content, and the list keeps to it before its limit."""

from __future__ import annotations

import pytest

from piguard.errors import AccessDenied, InputError
from piguard.ledger import service as ledger
from piguard.oversight import scope
from piguard.oversight.cases import flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.records.models import DeathReport
from tests.integration.oversight.test_cases_jurisdiction import _hospital_officer
from tests.integration.oversight.test_cases_service import Office
from tests.integration.oversight.test_cases_service import office as office  # the fixture

TITLE = "Broker looked up deaths at another hospital"


def _hospitals(office: Office) -> tuple[str, str]:
    report = office.session.get(DeathReport, office.report_a)
    assert report is not None
    return report.hospital_org_id, office.people["broker"].org_id


def _case_of(office: Office, who: str, *, at: float, **data: object) -> str:
    fields: dict[str, object] = {
        "title": TITLE,
        "source": "manual",
        "assignee_id": office.people[who].account_id,
        "reason": "a colleague reported the lookups",
        **data,
    }
    outcome = flows.open_case(
        session=office.session, guard=office.later(at), principal=office.people[who], data=CaseOpen(**fields)
    )
    return outcome.unwrap().id


@pytest.fixture
def two_cases(office: Office) -> tuple[str, str]:
    """A case about hospital A's record (older) and one about hospital B (newer), with both officers."""
    hospital_a, hospital_b = _hospitals(office)
    _hospital_officer(office, hospital_a, "po.a")
    _hospital_officer(office, hospital_b, "po.b")
    case_a = _case_of(office, "po.a", at=1, subjects=[office.report_a])
    case_b = _case_of(office, "officer", at=2, org_id=hospital_b)  # the district commission's
    return case_a, case_b


def test_a_refusal_outside_the_jurisdiction_says_so_and_names_nothing_of_the_case(
    office: Office, two_cases: tuple[str, str]
) -> None:
    case_a, case_b = two_cases
    outsider = office.people["po.a"]
    refusals = [
        flows.get_case(session=office.session, guard=office.later(3), principal=outsider, case_id=case_b).error,
        flows.transition(
            session=office.session,
            guard=office.later(4),
            principal=outsider,
            case_id=case_b,
            to_state="investigating",
            reason="taking a look at it myself",
        ).error,
        flows.add_subjects(
            session=office.session,
            guard=office.later(5),
            principal=office.people["po.b"],
            case_id=case_a,
            subjects=[office.report_b],
            reason="adding a record of hospital A",
        ).error,
    ]
    hospital_a, hospital_b = _hospitals(office)
    for error in refusals:
        assert isinstance(error, AccessDenied)
        assert error.policy_ids == ("jurisdiction",) and "outside your jurisdiction" in error.reason
        assert "no policy permits" not in error.reason
        assert not any(secret in error.reason for secret in (TITLE, hospital_a, hospital_b, case_a, case_b))
    events = [e for e in ledger.iter_events(session=office.session) if e.resource_id in (case_a, case_b)]
    assert [e.outcome for e in events if e.outcome == "denied"] == ["denied"] * 3
    # A physician is still told that no policy lets their role do it.
    physician = flows.get_case(
        session=office.session, guard=office.later(6), principal=office.people["broker"], case_id=case_a
    ).error
    assert isinstance(physician, AccessDenied) and "no policy permits role 'physician'" in physician.reason


def test_the_case_list_keeps_to_the_jurisdiction_before_its_limit(office: Office, two_cases: tuple[str, str]) -> None:
    case_a, case_b = two_cases

    def listed(who: str, limit: int) -> list[str]:
        found = flows.list_cases(
            session=office.session, guard=office.later(10), principal=office.people[who], limit=limit
        )
        return [case.id for case in found.unwrap()]

    assert listed("po.a", 1) == [case_a]  # the newer case (hospital B's) does not use up the limit
    assert listed("po.b", 1) == [case_b]
    assert listed("second", 2) == [case_b, case_a]  # the district commission: both, newest first


def test_an_unknown_organisation_is_bad_input_not_a_jurisdiction_refusal(office: Office) -> None:
    hospital_a, _ = _hospitals(office)
    _hospital_officer(office, hospital_a, "po.a")
    outcome = flows.open_case(
        session=office.session,
        guard=office.later(1),
        principal=office.people["po.a"],
        data=CaseOpen(
            title=TITLE,
            source="manual",
            assignee_id=office.people["po.a"].account_id,
            org_id="01JNOSUCHORGANISATION00000",
            reason="a colleague reported the lookups",
        ),
    )
    assert isinstance(outcome.error, InputError) and outcome.error.where == "org_id"


def test_work_about_an_organisation_that_does_not_exist_is_in_no_district(office: Office) -> None:
    hospital_a, _ = _hospitals(office)
    attrs = scope.of_orgs(office.session, [hospital_a, "01JNOSUCHORGANISATION00000"])
    # Without a district of its own it would lie within every district commission's jurisdiction.
    assert attrs == {
        "orgs": tuple(sorted([hospital_a, "01JNOSUCHORGANISATION00000"])),
        "districts": ("310112", "unknown"),
    }
    assert scope.of_orgs(office.session, [hospital_a]) == {"orgs": (hospital_a,), "districts": ("310112",)}
