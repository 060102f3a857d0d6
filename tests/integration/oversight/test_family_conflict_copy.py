"""The conflict-of-interest rule counts a copy issued to a relative as the issuing officer's access to the
record (on SQLite and PostgreSQL): that officer answers no later request about it, while an officer who only
registered a request stays free to; a later account shows the copy as the privacy office's disclosure."""

from __future__ import annotations

from piguard.errors import ConflictError
from piguard.ledger import service as ledger
from piguard.oversight.family import disclosures, flows
from piguard.oversight.family.schemas import DeletionLetter, DisclosureAccount, FamilyCopy
from tests.integration.oversight.test_family_copy import Copying
from tests.integration.oversight.test_family_copy import copying as copying  # the fixture
from tests.integration.oversight.test_family_requests import family as family  # the fixture under ``copying``

CONFLICT = "you accessed this record"


def _deletion(copying: Copying, who: str = "officer") -> str:
    made = copying.family.register(who=who, report_id=copying.report, kind="deletion", erase=["report"])
    return str(made.unwrap().id)  # type: ignore[attr-defined]


def _issue_copy(copying: Copying) -> str:
    """The officer registers a copy request and the second officer issues the copy; the request id."""
    request_id = copying.request(who="officer")
    assert isinstance(copying.answer(request_id, who="second", seconds=100).unwrap(), FamilyCopy)
    return request_id


def test_the_officer_who_issued_a_copy_does_not_answer_a_later_deletion_request(copying: Copying) -> None:
    _issue_copy(copying)
    later = _deletion(copying)
    conflicted = copying.answer(later, who="second", seconds=130)
    assert isinstance(conflicted.error, ConflictError) and CONFLICT in str(conflicted.error)
    refused = list(ledger.iter_events(session=copying.family.session))[-1]
    assert (refused.outcome, refused.action, refused.resource_id, refused.user_id) == (
        "denied",
        "export",
        later,
        copying.family.people["second"].account_id,
    )
    assert isinstance(copying.answer(later, who="third", seconds=140).unwrap(), DeletionLetter)


def test_the_officer_who_issued_a_copy_does_not_answer_a_later_account_or_copy(copying: Copying) -> None:
    _issue_copy(copying)
    account_request = copying.request(who="officer", kind="disclosures")
    conflicted = copying.answer(account_request, who="second", seconds=130)
    assert isinstance(conflicted.error, ConflictError) and CONFLICT in str(conflicted.error)
    copy_again = copying.request(who="officer")
    again = copying.answer(copy_again, who="second", seconds=140)
    assert isinstance(again.error, ConflictError) and CONFLICT in str(again.error)


def test_printing_the_copy_again_is_an_access_too(copying: Copying) -> None:
    request_id = _issue_copy(copying)
    people = copying.family.people
    reprint = flows.issued_copy(
        session=copying.family.session, guard=copying.family.at(110), principal=people["third"], request_id=request_id
    )
    assert isinstance(reprint.unwrap(), FamilyCopy)
    later = _deletion(copying)
    third = copying.answer(later, who="third", seconds=130)
    assert isinstance(third.error, ConflictError) and CONFLICT in str(third.error)


def test_registering_or_answering_with_an_account_is_not_an_access_to_the_record(copying: Copying) -> None:
    _issue_copy(copying)  # registered by the officer, issued by the second officer
    session = copying.family.session
    people = copying.family.people
    readers = disclosures.record_readers(session, copying.report)
    assert people["second"].account_id in readers
    assert people["officer"].account_id not in readers  # registration shows no record data
    account_request = copying.request(who="officer", kind="disclosures")
    assert isinstance(copying.answer(account_request, who="officer", seconds=130).unwrap(), DisclosureAccount)
    assert people["officer"].account_id not in disclosures.record_readers(session, copying.report)
    later = _deletion(copying, who="third")
    assert isinstance(copying.answer(later, who="officer", seconds=140).unwrap(), DeletionLetter)


def test_a_later_account_shows_the_copy_as_the_privacy_offices_disclosure(copying: Copying) -> None:
    _issue_copy(copying)
    account_request = copying.request(who="officer", kind="disclosures")
    account = copying.answer(account_request, who="third", seconds=130).unwrap()
    assert isinstance(account, DisclosureAccount)
    issued = [line for line in account.lines if line.record == disclosures.COPY_RECORD]
    assert [(line.role, line.action, line.outcome, line.organisation) for line in issued] == [
        ("privacy_officer", "export", "allowed", "Minhang Health Commission")
    ]
    line = issued[0]
    assert {"identity", "identity number", "addresses", "cause and circumstances of death"} <= set(line.disclosed)
    assert line.staff.startswith("staff ")  # anonymised, like every other line
    text = account.model_dump_json()
    for person in copying.family.people.values():
        assert person.account_id not in text
    # Counted as an access by the office, next to the office's own request events.
    office = {o.organisation: o.allowed for o in account.by_organisation}
    assert office["Minhang Health Commission"] == sum(
        1 for line in account.lines if line.organisation == "Minhang Health Commission" and line.outcome == "allowed"
    )
    assert account.accesses == sum(1 for line in account.lines if line.outcome == "allowed")
