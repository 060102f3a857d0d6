"""A hospital's privacy officer cannot open a case on another hospital's record to read it (SQLite and PostgreSQL)."""

from __future__ import annotations

from piguard.errors import AccessDenied
from piguard.identity import service as identity
from piguard.keys import load_secret
from piguard.oversight.cases import flows
from piguard.oversight.cases.schemas import CaseOpen
from piguard.oversight.common import local_principal
from piguard.records.models import DeathReport
from tests.integration.oversight.test_cases_service import PASSWORD, Office, _read
from tests.integration.oversight.test_cases_service import office as office  # the fixture


def _hospital_officer(office: Office, org_id: str, username: str) -> None:
    made = identity.create_account(
        session=office.session,
        secret=load_secret(office.guard.settings),
        username=username,
        display_name=username,
        role="privacy_officer",
        org_id=org_id,
        password=PASSWORD,
        demo=True,
    )
    identity.record_training(
        session=office.session,
        account_id=made.account.id,
        course_code="privacy-basics",
        score=95,
        completed_at=office.guard.clock(),
    )
    office.session.flush()
    office.people[username] = local_principal(session=office.session, username=username)


def test_cases_are_within_the_officers_jurisdiction(office: Office) -> None:
    report = office.session.get(DeathReport, office.report_a)
    assert report is not None
    hospital_a = report.hospital_org_id
    other = office.people["broker"].org_id  # hospital b
    _hospital_officer(office, other, "po.b")
    _hospital_officer(office, hospital_a, "po.a")
    outsider = office.people["po.b"]
    data = CaseOpen(
        title="curious",
        source="manual",
        assignee_id=outsider.account_id,
        subjects=[office.report_a],
        reason="just want to look at it",
    )
    refused = flows.open_case(session=office.session, guard=office.later(1), principal=outsider, data=data)
    assert isinstance(refused.error, AccessDenied)
    assert not _read(office, "po.b", office.report_a, office.later(2))
    # Hospital a's officer may, and the commission's officer (same district) may read it; hospital b's may not.
    own = flows.open_case(
        session=office.session,
        guard=office.later(3),
        principal=office.people["po.a"],
        data=data.model_copy(update={"assignee_id": office.people["po.a"].account_id}),
    ).unwrap()
    read = flows.get_case(
        session=office.session, guard=office.later(4), principal=office.people["second"], case_id=own.id
    )
    assert read.error is None
    foreign = flows.get_case(session=office.session, guard=office.later(4), principal=outsider, case_id=own.id)
    assert isinstance(foreign.error, AccessDenied)
    listed = flows.list_cases(session=office.session, guard=office.later(5), principal=outsider).unwrap()
    assert own.id not in {c.id for c in listed}
    # Nor can the case be handed to an officer outside its jurisdiction.
    handed = flows.assign(
        session=office.session,
        guard=office.later(6),
        principal=office.people["po.a"],
        case_id=own.id,
        assignee_id=outsider.account_id,
        reason="handing it to a colleague elsewhere",
    )
    assert isinstance(handed.error, AccessDenied) and handed.error.policy_ids == ("jurisdiction",)
