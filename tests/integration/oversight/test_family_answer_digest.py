"""A family answer is checked against the SHA-256 in its ledger event, not only the one in its own row."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from piguard.errors import ConflictError
from piguard.ledger import service as ledger
from piguard.oversight.family import flows
from piguard.oversight.family import service as family_service
from piguard.oversight.family.models import FamilyRequest
from tests.integration.oversight.test_family_requests import Family
from tests.integration.oversight.test_family_requests import family as family  # the fixture


def _answered(family: Family) -> FamilyRequest:
    made = family.register().unwrap()
    flows.answer(
        session=family.session, guard=family.at(120), principal=family.people["officer"], request_id=made.id
    ).unwrap()
    row = family.session.get(FamilyRequest, made.id)
    assert row is not None and row.answer is not None
    return row


def test_the_answered_event_carries_the_accounts_sha256(family: Family) -> None:
    row = _answered(family)
    events = [e for e in ledger.iter_events(session=family.session) if e.resource_id == row.id]
    assert any(e.action == "export" and f"sha256={row.answer_sha256}" in (e.reason or "") for e in events)


def test_an_answer_rewritten_with_a_matching_row_hash_is_refused_and_recorded(family: Family) -> None:
    row = _answered(family)
    assert row.answer is not None
    row.answer = row.answer.replace("李秀英", "X")
    row.answer_sha256 = hashlib.sha256(row.answer.encode("utf-8")).hexdigest()  # the row is consistent again
    family.session.flush()
    before = ledger.count(session=family.session)
    changed = flows.issued_account(
        session=family.session, guard=family.at(150), principal=family.people["second"], request_id=row.id
    )
    assert isinstance(changed.error, ConflictError) and "ledger event" in str(changed.error)
    last = list(ledger.iter_events(session=family.session))[before:]
    assert [e.outcome for e in last] == ["denied"]


def test_an_answer_whose_event_has_no_digest_is_served_on_the_row_check(family: Family) -> None:
    # An account answered before the event carried the digest: the row as that version kept it,
    # and its event recorded through the same path without the `sha256=` note.
    made = family.register().unwrap()
    row = family.session.get(FamilyRequest, made.id)
    assert row is not None
    text = '{"format":"piguard-family-account/1","note":"answered by an earlier version"}'
    decided_at = row.received_at + timedelta(minutes=5)
    row.answer, row.answer_sha256 = text, hashlib.sha256(text.encode("utf-8")).hexdigest()
    row.state, row.decided_by, row.decided_at = "answered", family.people["officer"].account_id, decided_at
    family.session.flush()
    family_service._record(  # the recording path itself, as the earlier version called it
        family.session, family.people["officer"], row, action="export", fields=["audit.disclosures"], at=decided_at
    )
    served = family_service._kept(family.session, row)  # the check that serving applies
    assert served == text
    row.answer = text.replace("earlier", "later")
    with pytest.raises(ConflictError, match="does not match its SHA-256"):
        family_service._kept(family.session, row)
