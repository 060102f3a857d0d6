"""Workflow steps decided outside Cedar (corrections, presented codes) pass the training gate too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from piguard.errors import AccessDenied
from piguard.ledger import service as ledger
from piguard.records import workflow_flows
from piguard.records.models import DeathReport
from tests.integration.records.conftest import World, person


def test_a_lapsed_certifier_cannot_correct_and_learns_nothing(session: Session, world: World) -> None:
    lapsed = person("acc-cert", "physician", world.orgs["hosp_a"], trained=False)
    before = ledger.count(session=session)
    outcome = workflow_flows.correct_report(
        session=session,
        guard=world.guard,
        principal=lapsed,
        report_id=world.report_a,
        field="birth_date",
        value="1945-03-08",  # disagrees with the ID number: a validation answer would confirm it
        reason="typing error on the form",
    )
    assert isinstance(outcome.error, AccessDenied)
    assert outcome.error.policy_ids == ("training-gate",) and "training has lapsed" in outcome.error.reason
    assert ledger.count(session=session) == before + 1 and outcome.event is not None
    assert outcome.event.outcome == "denied"
    report = session.get(DeathReport, world.report_a)
    assert report is not None and report.birth_date is None


def test_a_lapsed_registrar_cannot_present_a_code(session: Session, world: World) -> None:
    lapsed = person("acc-police", "police_registrar", world.orgs["police"], trained=False)
    outcome = workflow_flows.present_code(
        session=session, guard=world.guard, principal=lapsed, code=world.codes["police"]
    )
    assert isinstance(outcome.error, AccessDenied) and outcome.error.policy_ids == ("training-gate",)
    trained = workflow_flows.present_code(
        session=session, guard=world.guard, principal=world.people["police"], code=world.codes["police"]
    )
    assert trained.error is None  # the code was not used up by the refused attempt
