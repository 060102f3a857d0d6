"""A search's text is matched as typed: % and _ are characters, not wildcards to probe with."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.records import service as records
from piguard.records.models import DeathReport
from tests.integration.records.conftest import World


def _found(session: Session, q: str) -> set[str]:
    everyone = select(DeathReport.id)
    return {r.id for r in records.search_reports(session=session, candidate_ids=everyone, q=q)}


def test_wildcards_are_literal(session: Session, world: World) -> None:
    assert world.report_a in _found(session, "秀英")  # 李秀英: a plain substring still matches
    assert world.report_a not in _found(session, "李_英")
    assert _found(session, "%") == set()
    assert _found(session, "_") == set()
    assert world.report_a not in _found(session, "李%英")
