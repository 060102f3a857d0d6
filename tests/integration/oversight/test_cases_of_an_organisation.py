"""An organisation's cases are those about the records it certified, or naming it or its staff as the
suspect: ``cases list --org`` / ``?org=`` and its monthly report count them, though the case's own
``org_id`` is empty when it was opened from the records alone (SQLite and PostgreSQL)."""

from __future__ import annotations

from piguard.identity.models import Account
from piguard.localtime import beijing_date
from piguard.oversight.cases import flows
from piguard.oversight.cases.schemas import DispositionIn
from piguard.oversight.reports import data as report_data
from piguard.records.models import DeathReport
from tests.integration.oversight.test_cases_service import Office, _open, _step
from tests.integration.oversight.test_cases_service import office as office  # the fixture


def _orgs(office: Office) -> tuple[str, str]:
    """(the certifying hospital of the office's records, the suspect's hospital)."""
    report = office.session.get(DeathReport, office.report_a)
    broker = office.session.get(Account, office.people["broker"].account_id)
    assert report is not None and broker is not None and report.hospital_org_id != broker.org_id
    return report.hospital_org_id, str(broker.org_id)


def _listed(office: Office, org_id: str) -> set[str]:
    cases = flows.list_cases(
        session=office.session, guard=office.later(10), principal=office.people["admin"], org_id=org_id
    ).unwrap()
    return {case.id for case in cases}


def _about_records_only(office: Office) -> str:
    """A case opened from a record alone: no suspect, no organisation given (``org_id`` stays empty)."""
    return _open(office, source="manual", alert=None, title="Cold calls after a death", subjects=[office.report_a])


def test_a_case_about_an_organisation_s_records_is_listed_under_it(office: Office) -> None:
    certifier, suspects = _orgs(office)
    about_records = _about_records_only(office)
    about_suspect = _open(
        office, source="manual", alert=None, subjects=[], suspect_user_id=office.people["broker"].account_id
    )
    named_elsewhere = _open(
        office,
        source="manual",
        alert=None,
        subjects=[],
        suspect_user_id=office.people["broker"].account_id,
        org_id=certifier,
    )
    detail = flows.get_case(
        session=office.session, guard=office.guard, principal=office.people["admin"], case_id=about_records
    ).unwrap()
    assert detail.org_id is None  # nothing named an organisation: only the record says whose it is
    assert _listed(office, certifier) == {about_records, named_elsewhere}
    # The suspect's hospital sees the case about its staff member, even one that names another organisation.
    assert _listed(office, suspects) == {about_suspect, named_elsewhere}


def test_the_monthly_report_counts_the_cases_and_dispositions_about_its_records(office: Office) -> None:
    certifier, suspects = _orgs(office)
    case_id = _about_records_only(office)
    _step(office, case_id, "investigating", 1).unwrap()  # type: ignore[attr-defined]
    _step(office, case_id, "substantiated", 2).unwrap()  # type: ignore[attr-defined]
    proposal = flows.propose_disposition(
        session=office.session,
        guard=office.later(3),
        principal=office.people["officer"],
        case_id=case_id,
        item=DispositionIn(
            kind="retraining",
            target_user_id=office.people["certifier"].account_id,
            effective_date=beijing_date(office.guard.clock()),  # the case's opening day
            authority="Minhang District Health Commission",
            reason="shared the family's number with a broker",
        ),
    ).unwrap()
    flows.decide_disposition(
        session=office.session,
        guard=office.later(4),
        principal=office.people["second"],
        case_id=case_id,
        disposition_id=proposal.id,
        decision="approved",
        reason="retraining is proportionate",
    ).unwrap()
    month = office.later(4).clock().strftime("%Y-%m")
    mine = report_data.gather(session=office.session, org_id=certifier, month=month)
    assert (mine.cases_opened, mine.cases_by_state, mine.dispositions) == (
        1,
        [("substantiated", 1)],
        [("retraining", 1)],
    )
    theirs = report_data.gather(session=office.session, org_id=suspects, month=month)
    assert (theirs.cases_opened, theirs.dispositions) == (0, [])
