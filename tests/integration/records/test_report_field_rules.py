"""One rule per report field (``ReportFields``): opening a report and correcting it apply the same one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.ledger import service as ledger
from piguard.records import service as records
from piguard.records import workflow_flows
from piguard.records.models import DeathReport
from tests.integration.records.conftest import NOW, World, report_data

BAD: list[tuple[str, Any]] = [
    ("sex", "banana"),
    ("manner", "alien"),
    ("id_number", "x"),
    ("name", "名" * 101),
    ("name", None),
    ("birth_date", "yesterday"),
    ("place_detail", "路" * 301),
    ("birth_date", (NOW - timedelta(days=2)).date().isoformat()),  # after the death (NOW - 5 days)
    ("id_number", "310112194503070041"),  # the world's number with a wrong check character
    ("id_number", "310112202503080049"),  # born after the death
    ("birth_date", "1950-01-01"),  # the world's number says 1945-03-07
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_opening_a_report_refuses_what_a_correction_refuses(
    session: Session, world: World, field: str, value: Any
) -> None:
    data = {**report_data("subj-rule", "李秀英"), field: value}
    with pytest.raises(InputError) as refused:
        records.create_report(session=session, hospital_org_id=world.orgs["hosp_a"], **data)  # type: ignore[arg-type]
    assert refused.value.where == field and refused.value.reason.startswith(f"{field}: ")
    with pytest.raises(InputError) as corrected:
        records.correct_report(
            session=session,
            report_id=world.report_a,
            account_id="acc-cert",
            field=field,
            value=value,
            reason="x" * 12,
            at=world.guard.clock(),
        )
    assert corrected.value.where == "value" and corrected.value.reason == refused.value.reason


def test_a_refused_correction_is_a_denied_event_and_changes_nothing(session: Session, world: World) -> None:
    report = session.get(DeathReport, world.report_a)
    assert report is not None
    version, sex = report.version, report.sex
    before = ledger.count(session=session)
    outcome = workflow_flows.correct_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_a,
        field="sex",
        value="banana",
        reason="the family says otherwise",
    )
    assert isinstance(outcome.error, InputError) and outcome.error.where == "value"
    assert outcome.event is not None and outcome.event.outcome == "denied" and "sex" in outcome.event.reason
    assert ledger.count(session=session) == before + 1
    session.expire_all()
    report = session.get(DeathReport, world.report_a)
    assert report is not None and (report.version, report.sex) == (version, sex)


def test_opening_a_report_stores_the_checked_values(session: Session, world: World) -> None:
    data = {**report_data("subj-ok", "  张桂兰 "), "birth_date": "1945-03-07", "id_number": "31011219450307002x"}
    report = records.create_report(session=session, hospital_org_id=world.orgs["hosp_a"], **data)  # type: ignore[arg-type]
    assert (report.name, str(report.birth_date), report.id_number) == ("张桂兰", "1945-03-07", "31011219450307002X")
    assert report.manner == "natural"
