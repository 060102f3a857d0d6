"""A relative's request's ledger events list exactly what was handed over, on SQLite and PostgreSQL: an
account names the deceased and the time of death, a letter the deceased; a refused step discloses nothing."""

from __future__ import annotations

import pytest

from piguard.errors import AccessDenied, ConflictError
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger
from piguard.oversight.common import Outcome
from piguard.oversight.family import disclosures, flows
from piguard.oversight.family.schemas import DeletionLetter, DisclosureAccount, FamilyDocument
from tests.integration.oversight.test_family_requests import Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture

ACCOUNT_FIELDS = ["audit.disclosures", "death.time", "deceased.name"]
# The names the record's screens give the same data (``deceased.name``, ``death.time``).
ACCOUNT_KEYS = {"deceased.name": "deceased_name", "death.time": "death_time"}


def _last(family: Family) -> AccessEvent:
    return list(ledger.iter_events(session=family.session))[-1]


def _request(family: Family, who: str = "officer", **extra: object) -> str:
    return str(family.register(who=who, **extra).unwrap().id)  # type: ignore[arg-type]


def _answer(family: Family, request_id: str, who: str = "second", seconds: float = 120) -> object:
    return flows.answer(
        session=family.session, guard=family.at(seconds), principal=family.people[who], request_id=request_id
    ).unwrap()


def _reissue(family: Family, kind: str, request_id: str, who: str = "third") -> Outcome[FamilyDocument]:
    return flows.reissue(
        kind, session=family.session, guard=family.at(180), principal=family.people[who], request_id=request_id
    )


def test_answering_and_reprinting_an_account_lists_the_deceased_s_name_and_time_of_death(family: Family) -> None:
    request_id = _request(family)
    account = _answer(family, request_id)
    assert isinstance(account, DisclosureAccount)
    answered = _last(family)
    assert (answered.action, answered.outcome, list(answered.fields)) == ("export", "allowed", ACCOUNT_FIELDS)
    shown = account.model_dump()
    for field, key in ACCOUNT_KEYS.items():
        assert shown[key], f"the account holds {key}, which its event lists as {field}"
    assert shown["deceased_name"] == "李秀英"
    reprint = _reissue(family, "account", request_id).unwrap()
    assert isinstance(reprint, DisclosureAccount) and reprint.deceased_name == account.deceased_name
    printed = _last(family)
    assert (printed.action, printed.outcome, list(printed.fields)) == ("read", "allowed", ACCOUNT_FIELDS)


def test_the_officer_of_an_account_is_still_no_reader_of_the_record(family: Family) -> None:
    # Naming the deceased in an account is not reading the record: the officer may still decide its requests.
    request_id = _request(family)
    _answer(family, request_id, who="second")
    _reissue(family, "account", request_id, who="second").unwrap()
    assert family.people["second"].account_id not in disclosures.record_readers(family.session, family.report)
    later = _answer(family, _request(family, requester_name="王小红", relationship="sibling"), seconds=240)
    assert isinstance(later, DisclosureAccount)
    earlier = [line for line in later.lines if line.action == "export"]
    assert [line.record for line in earlier] == ["a relative's request"]  # not "a copy of the record"
    assert earlier[0].disclosed == ["access records", "date and time of death", "identity"]


def test_a_letter_s_events_name_the_deceased(family: Family) -> None:
    request_id = _request(family, kind="deletion", erase=["report"])
    letter = _answer(family, request_id)
    assert isinstance(letter, DeletionLetter) and letter.deceased_name
    answered = _last(family)
    assert list(answered.fields) == ["deceased.name", "family_request.deletion_letter"]
    _reissue(family, "letter", request_id).unwrap()
    printed = _last(family)
    assert (printed.action, printed.outcome, list(printed.fields)) == (
        "read",
        "allowed",
        ["deceased.name", "family_request.letter"],
    )


@pytest.mark.parametrize(
    ("asked", "kind", "wanted"),
    [({}, "disclosures", "letter"), ({"kind": "copy"}, "copy", "account"), ({}, "disclosures", "copy")],
    ids=["letter-of-an-account", "account-of-a-copy", "copy-of-an-account"],
)
def test_a_document_the_request_does_not_have_is_refused_with_no_fields(
    family: Family, asked: dict[str, str], kind: str, wanted: str
) -> None:
    request_id = _request(family, **asked)
    _answer(family, request_id)
    refused = _reissue(family, wanted, request_id)
    assert isinstance(refused.error, ConflictError), kind
    event = _last(family)
    assert (event.outcome, event.resource_id, event.subject_id) == ("denied", request_id, family.subject)
    assert event.fields == () and event.result_count is None


@pytest.mark.parametrize("wanted", ["account", "letter"])
def test_a_reprint_the_policy_refuses_carries_no_fields(family: Family, wanted: str) -> None:
    request_id = _request(family) if wanted == "account" else _request(family, kind="deletion", erase=["report"])
    _answer(family, request_id)
    refused = _reissue(family, wanted, request_id, who="broker")  # a physician elsewhere
    assert isinstance(refused.error, AccessDenied)
    event = _last(family)
    assert (event.outcome, event.action, event.fields) == ("denied", "read", ())


def test_an_unanswered_request_s_account_is_refused_with_no_fields(family: Family) -> None:
    request_id = _request(family)
    refused = _reissue(family, "account", request_id)
    assert isinstance(refused.error, ConflictError)
    event = _last(family)
    assert (event.outcome, event.fields) == ("denied", ())
