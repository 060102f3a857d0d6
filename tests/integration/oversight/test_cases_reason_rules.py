"""Every reason a case stores has 10 to 1000 characters, whichever door it came through: the service
enforces it for assignment, decisions and corrections too, not only the HTTP schemas (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from piguard.errors import InputError
from piguard.localtime import beijing_date
from piguard.oversight.cases import flows
from piguard.oversight.cases.models import CaseEvent
from piguard.oversight.cases.schemas import DispositionIn
from piguard.oversight.common import Outcome
from tests.integration.oversight.test_cases_service import Office, _open, _step
from tests.integration.oversight.test_cases_service import office as office  # the fixture

TOO_LONG = "y" * 100_000


def _substantiated_with_proposal(office: Office) -> tuple[str, str]:
    case_id = _open(office)
    _step(office, case_id, "investigating", 1).unwrap()  # type: ignore[attr-defined]
    _step(office, case_id, "substantiated", 2).unwrap()  # type: ignore[attr-defined]
    proposal = flows.propose_disposition(
        session=office.session,
        guard=office.later(3),
        principal=office.people["officer"],
        case_id=case_id,
        item=DispositionIn(
            kind="warning",
            target_user_id=office.people["broker"].account_id,
            effective_date=beijing_date(office.guard.clock()),  # the case's opening day
            authority="Minhang District Health Commission",
            reason="looked up deaths at another hospital",
        ),
    ).unwrap()
    return case_id, proposal.id


def _entries(office: Office, case_id: str) -> int:
    return int(office.session.scalar(select(func.count()).where(CaseEvent.case_id == case_id)) or 0)


def _refused_naming_reason(outcome: Outcome[object]) -> None:
    assert isinstance(outcome.error, InputError), outcome.error
    assert outcome.error.where == "reason"


@pytest.mark.parametrize("reason", ["x", "  short   ", TOO_LONG])
def test_a_decision_needs_a_reason_of_10_to_1000_characters(office: Office, reason: str) -> None:
    case_id, proposal = _substantiated_with_proposal(office)
    before = _entries(office, case_id)
    outcome = flows.decide_disposition(
        session=office.session,
        guard=office.later(4),
        principal=office.people["second"],
        case_id=case_id,
        disposition_id=proposal,
        decision="approved",
        reason=reason,
    )
    _refused_naming_reason(outcome)
    assert _entries(office, case_id) == before


@pytest.mark.parametrize("reason", ["y", TOO_LONG])
@pytest.mark.parametrize("change", ["assign", "transition", "correct"])
def test_assignment_transition_and_correction_need_a_reason_of_10_to_1000_characters(
    office: Office, change: str, reason: str
) -> None:
    case_id = _open(office)
    before = _entries(office, case_id)
    act: dict[str, Callable[[], Outcome[object]]] = {
        "assign": lambda: flows.assign(
            session=office.session,
            guard=office.later(1),
            principal=office.people["officer"],
            case_id=case_id,
            assignee_id=office.people["second"].account_id,
            reason=reason,
        ),
        "transition": lambda: flows.transition(
            session=office.session,
            guard=office.later(1),
            principal=office.people["officer"],
            case_id=case_id,
            to_state="investigating",
            reason=reason,
        ),
        "correct": lambda: flows.correct(
            session=office.session,
            guard=office.later(1),
            principal=office.people["officer"],
            case_id=case_id,
            corrects_seq=1,
            reason=reason,
        ),
    }
    _refused_naming_reason(act[change]())
    assert _entries(office, case_id) == before


def test_a_reason_of_exactly_1000_characters_is_stored_stripped(office: Office) -> None:
    case_id = _open(office)
    text = "z" * 1000
    detail = flows.assign(
        session=office.session,
        guard=office.later(1),
        principal=office.people["officer"],
        case_id=case_id,
        assignee_id=office.people["second"].account_id,
        reason=f"  {text}  ",
    ).unwrap()
    assert detail.history[-1].reason == text
