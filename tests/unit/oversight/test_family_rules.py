"""The rules of a relative's request and the grouping of disclosed fields, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from piguard.errors import ConflictError, InputError
from piguard.interchange.events import AccessEvent
from piguard.oversight.family import disclosures, rules


def test_only_close_relatives_under_civil_code_article_1045() -> None:
    for relationship in ("spouse", "parent", "child", "sibling", "grandparent", "grandchild"):
        assert rules.check_relationship(relationship) == relationship
    with pytest.raises(InputError, match="close relative") as caught:
        rules.check_relationship("cousin")
    assert caught.value.where == "relationship"


def test_answer_due_in_30_days_and_overdue_only_while_unanswered() -> None:
    received = datetime(2026, 3, 1, 8, tzinfo=UTC)
    due = rules.due_date(received)
    assert due == received + timedelta(days=30)
    assert not rules.is_overdue("received", due, due)
    assert rules.is_overdue("received", due, due + timedelta(seconds=1))
    assert not rules.is_overdue("answered", due, due + timedelta(days=9))


def test_refusal_states_its_ground_and_answers_are_final() -> None:
    with pytest.raises(InputError, match="20 characters"):
        rules.require_refusal_reason("  not eligible  ")
    assert rules.require_refusal_reason("  the deceased's written instruction forbids it ") == (
        "the deceased's written instruction forbids it"
    )
    # The family is told the ground: no phone, ID or document number in it.
    with pytest.raises(InputError, match="six or more digits") as refused:
        rules.require_refusal_reason("the requester's phone 138 1234 5678 did not answer our calls")
    assert refused.value.where == "reason"
    rules.check_open("received")
    for state in ("answered", "refused"):
        with pytest.raises(ConflictError, match="final"):
            rules.check_open(state)


def test_a_request_asks_for_the_account_or_a_copy_and_gets_that_document() -> None:
    assert rules.check_kind("disclosures") == "disclosures" and rules.check_kind("copy") == "copy"
    with pytest.raises(InputError, match="disclosures, copy") as caught:
        rules.check_kind("photocopy")
    assert caught.value.where == "kind"
    rules.check_document("copy", "copy")
    with pytest.raises(ConflictError, match="asked for the copy of the deceased's data; it has no account"):
        rules.check_document("copy", "disclosures")
    with pytest.raises(ConflictError, match="asked for the account of accesses; it has no copy"):
        rules.check_document("disclosures", "copy")


def test_an_officer_who_read_the_record_is_in_conflict() -> None:
    rules.check_not_involved("officer-1", {"physician-7"})
    with pytest.raises(ConflictError, match="another privacy officer"):
        rules.check_not_involved("officer-1", {"physician-7", "officer-1"})


def test_field_names_become_what_a_family_understands() -> None:
    assert disclosures.disclosed(["relative.phone_handle", "relative.name", "deceased.name", "death.cause_part1"]) == [
        "cause and circumstances of death",
        "identity",
        "relatives' names and relationship",
        "relatives' phone (virtual number)",
    ]
    assert disclosures.disclosed(["contact.phone"]) == ["relatives' real phone number"]
    assert disclosures.disclosed(["deceased.id_number_masked", "pickup_address"]) == [
        "addresses",
        "identity number (masked, last 4)",
    ]
    assert disclosures.disclosed(["something_new"]) == ["record status"]
    assert disclosures.disclosed([]) == []


def _event(**fields: object) -> AccessEvent:
    base: dict[str, object] = {
        "event_id": "e1",
        "time": datetime(2026, 3, 1, tzinfo=UTC),
        "user_id": "u1",
        "role": "physician",
        "org_id": "o1",
        "action": "read",
    }
    return AccessEvent.model_validate(base | fields)


def test_an_event_concerns_the_deceased_by_subject_record_or_search_result() -> None:
    scope = disclosures.Scope("subj-1", frozenset({"rep-1", "disp-1"}), datetime(2026, 2, 28, tzinfo=UTC))
    assert scope.concerns(_event(subject_id="subj-1"))
    assert scope.concerns(_event(resource_type="dispatch", resource_id="disp-1"))  # the ambulance call
    assert scope.concerns(_event(action="print", resource_id="rep-1"))  # a certificate part printed
    assert scope.concerns(_event(action="search", result_subject_ids=["subj-9", "subj-1"]))
    assert not scope.concerns(_event(subject_id="subj-2", resource_id="rep-2"))
    assert not scope.concerns(_event(action="search", result_subject_ids=["subj-9"]))


def test_every_term_the_page_can_show_has_a_chinese_wording() -> None:
    # A new role, purpose, organisation type or kind of information must not reach a family
    # untranslated: the Chinese page is the default.
    from piguard.identity.models import ROLES
    from piguard.oversight.cases.models import STATES as CASE_STATES
    from piguard.oversight.family.models import RELATIONSHIPS
    from piguard.oversight.family.wording import term
    from piguard.policy.purposes import PURPOSES
    from piguard.records.service import MANNERS, ORG_TYPES, PLACES

    vocabularies = {
        "role": [*ROLES, "service"],
        "purpose": list(PURPOSES),
        "org_type": [*ORG_TYPES, "unknown"],
        "kind": sorted({kind for _, kind in disclosures.GROUPS} | {disclosures.OTHER}),
        "record": [*disclosures.RECORDS.values(), "search results", "record", "this request", disclosures.COPY_RECORD],
        "case_state": list(CASE_STATES),
        "relationship": list(RELATIONSHIPS),
        "outcome": ["allowed", "denied"],
        # FORMATS.md actions that concern a record (login and logout name no subject).
        "action": ["read", "search", "export", "print", "create", "update", "breakglass", "resolve_handle"],
        "review": ["awaiting review", "reviewed: justified", "reviewed: unjustified"],
        # The copy's page: the record's coded values.
        "sex": ["male", "female", "unknown"],
        "place": list(PLACES),
        "manner": list(MANNERS),
        "report_status": ["draft", "certified", "reported", "coded"],
    }
    untranslated = [
        (kind, value) for kind, values in vocabularies.items() for value in values if term("zh", kind, value) == value
    ]
    assert untranslated == []
    assert term("en", "role", "physician") == "physician"
