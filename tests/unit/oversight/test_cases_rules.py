"""The investigation rules on their own: the state machine, reasons, four-eyes, no backdated dispositions."""

from __future__ import annotations

from datetime import date

import pytest

from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.oversight.cases import rules
from piguard.oversight.cases.models import STATES

ALLOWED = {
    ("open", "investigating"),
    ("investigating", "substantiated"),
    ("investigating", "unsubstantiated"),
    ("substantiated", "closed"),
    ("unsubstantiated", "closed"),
    # A finding is reopened for more investigation (then found again), until the case is closed.
    ("substantiated", "investigating"),
    ("unsubstantiated", "investigating"),
}


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_only_the_transitions_of_the_state_machine_are_allowed(current: str, target: str) -> None:
    if (current, target) in ALLOWED:
        rules.check_transition(current, target)
    else:
        with pytest.raises(ConflictError):
            rules.check_transition(current, target)


def test_refusals_say_why() -> None:
    with pytest.raises(ConflictError, match="must first be investigated"):
        rules.check_transition("open", "closed")
    with pytest.raises(ConflictError, match="must first be investigated"):
        rules.check_transition("investigating", "closed")
    with pytest.raises(ConflictError, match="move it to investigating first"):
        rules.check_transition("open", "substantiated")
    with pytest.raises(ConflictError, match="history is final"):
        rules.check_transition("closed", "open")
    with pytest.raises(ConflictError, match="cannot go back"):
        rules.check_transition("investigating", "open")
    # The advice given for changing a finding is itself allowed.
    with pytest.raises(ConflictError, match="move it to investigating first"):
        rules.check_transition("substantiated", "unsubstantiated")
    rules.check_transition("substantiated", "investigating")
    rules.check_transition("investigating", "unsubstantiated")
    with pytest.raises(ConflictError, match="already open"):
        rules.check_transition("open", "open")
    with pytest.raises(InputError) as bad:
        rules.check_transition("open", "archived")
    assert bad.value.where == "to_state"


def test_a_reason_is_required() -> None:
    assert rules.require_reason("  enough words here  ") == "enough words here"
    for empty in (None, "", "   ", "too short"):
        with pytest.raises(InputError) as refused:
            rules.require_reason(empty)
        assert refused.value.where == "reason"


def test_pending_dispositions_block_closing() -> None:
    rules.check_close(0)
    with pytest.raises(ConflictError, match="await approval"):
        rules.check_close(2)


def test_four_eyes() -> None:
    rules.check_decision(decision="approved", proposer_id="a", decider_id="b", already=None, state="substantiated")
    with pytest.raises(AccessDenied) as same:
        rules.check_decision(decision="approved", proposer_id="a", decider_id="a", already=None, state="substantiated")
    assert same.value.policy_ids == (rules.FOUR_EYES,) and "cannot approve" in same.value.reason
    with pytest.raises(AccessDenied):  # the proposer cannot reject (and so re-propose past a colleague) either
        rules.check_decision(decision="rejected", proposer_id="a", decider_id="a", already=None, state="substantiated")
    with pytest.raises(ConflictError, match="already approved"):
        rules.check_decision(
            decision="approved", proposer_id="a", decider_id="b", already="approved", state="substantiated"
        )
    with pytest.raises(ConflictError, match="closed"):
        rules.check_decision(decision="approved", proposer_id="a", decider_id="b", already=None, state="closed")


def test_dispositions_only_on_substantiated_cases_and_not_backdated() -> None:
    opened = date(2025, 3, 1)
    rules.check_proposal("substantiated", "fine", date(2025, 3, 1), opened)
    for state in ("open", "investigating", "unsubstantiated", "closed"):
        with pytest.raises(ConflictError, match="only on substantiated"):
            rules.check_proposal(state, "warning", date(2025, 3, 2), opened)
    with pytest.raises(InputError) as early:
        rules.check_proposal("substantiated", "warning", date(2025, 2, 28), opened)
    assert early.value.where == "date" and "backdating" in early.value.reason
    with pytest.raises(InputError):
        rules.check_proposal("substantiated", "flogging", date(2025, 3, 2), opened)


def test_what_can_change_when() -> None:
    rules.check_can_change("open", "subject")
    rules.check_can_change("investigating", "assignment")
    rules.check_can_change("substantiated", "evidence")
    with pytest.raises(ConflictError, match="no longer under investigation"):
        rules.check_can_change("substantiated", "subject")
    with pytest.raises(ConflictError, match="closed"):
        rules.check_can_change("closed", "evidence")


def test_assignee_and_sources() -> None:
    rules.check_assignee("privacy_officer", False)
    with pytest.raises(InputError, match="privacy officer"):
        rules.check_assignee("physician", False)
    with pytest.raises(InputError, match="disabled"):
        rules.check_assignee("privacy_officer", True)
    rules.check_source(source="manual", source_ref=None, has_alert=False)
    with pytest.raises(InputError) as missing:
        rules.check_source(source="complaint", source_ref=None, has_alert=False)
    assert missing.value.where == "source_ref"
    with pytest.raises(InputError) as stray:
        rules.check_source(source="manual", source_ref=None, has_alert=True)
    assert stray.value.where == "alert"
    with pytest.raises(InputError) as unhashed:
        rules.check_evidence(kind="document", sha256=None)
    assert unhashed.value.where == "sha256"


def test_a_finding_with_dispositions_resting_on_it_is_not_reopened() -> None:
    rules.check_reopen(pending=0, approved=0)
    with pytest.raises(ConflictError, match="approved disposition"):
        rules.check_reopen(pending=0, approved=1)
    with pytest.raises(ConflictError, match="decide them first"):
        rules.check_reopen(pending=2, approved=0)


def test_the_suspect_is_never_the_investigator() -> None:
    rules.check_assignee_not_suspect(assignee_id="a", suspect_id=None)
    rules.check_assignee_not_suspect(assignee_id="a", suspect_id="b")
    with pytest.raises(AccessDenied) as refused:
        rules.check_assignee_not_suspect(assignee_id="a", suspect_id="a")
    assert refused.value.policy_ids == ("conflict-of-interest",)
    for role, disabled in (("physician", False), ("privacy_officer", True)):
        with pytest.raises(InputError) as bad:
            rules.check_assignee(role, disabled)
        assert bad.value.where == "assignee_id"
