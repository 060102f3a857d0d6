"""Correcting what the underlying cause was selected from (Part II, the manner) sends a coded
report back for coding: the stale code is withdrawn, kept in the history, and no longer counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.records import service as records
from piguard.records.models import DeathReport, ReportCorrection
from tests.integration.records.conftest import NOW, World


def _coded(session: Session, world: World) -> DeathReport:
    report = records.code_underlying_cause(
        session=session, report_id=world.report_a, coder_id="acc-coder", icd10="I21.9", at=NOW - timedelta(days=3)
    )
    assert (report.status, report.underlying_icd10) == ("coded", "I21.9")
    return report


def _correct(session: Session, world: World, field: str, value: str | None) -> DeathReport:
    return records.correct_report(
        session=session,
        report_id=world.report_a,
        account_id="acc-cert",
        field=field,
        value=value,
        reason="the police investigation found a fall",
        at=NOW - timedelta(days=2),
    )


@pytest.mark.parametrize(("field", "value"), [("manner", "accident"), ("part2", "骨质疏松 10年")])
def test_a_cause_correction_withdraws_the_code(session: Session, world: World, field: str, value: str) -> None:
    _coded(session, world)
    report = _correct(session, world, field, value)
    assert (report.status, report.underlying_icd10, report.coded_at) == ("reported", None, None)
    history = session.scalars(
        select(ReportCorrection).where(ReportCorrection.report_id == world.report_a).order_by(ReportCorrection.at)
    ).all()
    withdrawn = [c for c in history if c.field == "underlying_icd10"]
    assert len(withdrawn) == 1 and withdrawn[0].old_value == "I21.9" and withdrawn[0].new_value is None
    assert withdrawn[0].reason == f"withdrawn for re-coding: {field} was corrected"
    # The assigned coder codes it again.
    recoded = records.code_underlying_cause(
        session=session, report_id=world.report_a, coder_id="acc-coder", icd10="W19", at=NOW - timedelta(days=1)
    )
    assert (recoded.status, recoded.underlying_icd10) == ("coded", "W19")


def test_other_corrections_and_unchanged_values_keep_the_code(session: Session, world: World) -> None:
    report = _coded(session, world)
    _correct(session, world, "name", "李秀瑛")
    with pytest.raises(InputError, match="manner: already has this value"):
        _correct(session, world, "manner", report.manner)  # the same value: refused, nothing to re-select
    report = session.get(DeathReport, world.report_a)
    assert report is not None and (report.status, report.underlying_icd10) == ("coded", "I21.9")


def test_after_the_coders_window_the_coder_is_given_the_report_again(session: Session, world: World) -> None:
    _coded(session, world)
    # Reported four days before NOW: the 30-day assignment has run out 40 days on.
    later = NOW + timedelta(days=40)
    assert "coder" not in records.relationships_for(
        session=session, account_id="acc-coder", resource_type="death_report", resource_id=world.report_a, at=later
    )
    records.correct_report(
        session=session,
        report_id=world.report_a,
        account_id="acc-cert",
        field="manner",
        value="accident",
        reason="the police investigation found a fall",
        at=later,
    )
    assert "coder" in records.relationships_for(
        session=session, account_id="acc-coder", resource_type="death_report", resource_id=world.report_a, at=later
    )
    recoded = records.code_underlying_cause(
        session=session, report_id=world.report_a, coder_id="acc-coder", icd10="W19", at=later + timedelta(days=1)
    )
    assert (recoded.status, recoded.underlying_icd10) == ("coded", "W19")


def test_a_request_task_neither_opens_the_record_nor_makes_it_a_search_candidate(
    session: Session, world: World
) -> None:
    # A relative's correction request refers the certifier with a `family_correction` task; it
    # concerns the request, so the record screens and searches do not count it.
    records.add_relationship(
        session=session,
        account_id="acc-coll",
        resource_type="death_report",
        resource_id=world.report_a,
        subject_id="subj-a",
        kind="family_correction",
        valid_from=NOW - timedelta(days=1),
        valid_to=None,
        created_by="family_request:01JTEST0000000000000000000",
    )
    kinds = records.relationships_for(
        session=session, account_id="acc-coll", resource_type="death_report", resource_id=world.report_a, at=NOW
    )
    assert "family_correction" not in kinds
    candidates = records.related_ids_query(account_id="acc-coll", resource_type="death_report", at=NOW)
    assert world.report_a not in set(session.scalars(candidates))
