"""Canary records and the export of the service database to the interchange formats."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from piguard.errors import InputError
from piguard.interchange.context import read_context, write_context
from piguard.records import canaries, flows
from piguard.records import service as records
from piguard.records.export import context_tables, handle_rows, surname_of
from tests.integration.records.conftest import NOW, World


def test_canaries_look_ordinary_and_have_no_task(session: Session, world: World) -> None:
    planted = canaries.plant(
        session=session, count=3, now=NOW, certifiers={world.orgs["hosp_a"]: ["acc-cert"]}, seed=11
    )
    assert len(planted) == 3 == len(canaries.listing(session=session))
    for canary in planted:
        record = records.get_report_record(session=session, report_id=canary.report_id)
        assert record is not None and record.status == "coded" and record.relatives and record.certificate_no
        assert (
            records.relationships_for(
                session=session,
                account_id="acc-cert",
                resource_type="death_report",
                resource_id=canary.report_id,
                at=NOW,
            )
            == frozenset()
        )
        read = flows.read_report(
            session=session,
            guard=world.guard,
            principal=world.people["certifier"],
            report_id=canary.report_id,
            purpose="TREAT",
        )
        assert not read.allowed  # nobody has a workflow reason to open a canary
    with pytest.raises(InputError):
        canaries.plant(session=session, count=0, now=NOW, certifiers={})


def test_context_export_marks_canaries_and_relationships(session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    canaries.plant(session=session, count=2, now=NOW, certifiers={}, seed=5)
    tables = context_tables(session=session)
    flagged = [s for s in tables.subjects if s.is_canary]
    assert len(flagged) == 2 and len(tables.subjects) == 4
    kinds = {(r.user_id, r.kind) for r in tables.relationships}
    assert ("acc-cert", "certifier") in kinds and ("acc-coder", "coder") in kinds
    assert {o.org_type for o in tables.orgs} >= {"hospital", "cdc", "police", "funeral_home"}
    counts = write_context(tmp_path, tables)
    again = read_context(tmp_path)
    assert counts["subjects"] == 4 and sum(s.is_canary for s in again.subjects) == 2


def test_handle_register_names_the_viewer(session: Session, world: World) -> None:
    flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_a,
        purpose="TREAT",
    ).unwrap()
    rows = list(handle_rows(session=session))
    assert rows and all(row["user_id"] == "acc-cert" and row["subject_id"] == "subj-a" for row in rows)


def test_surnames() -> None:
    assert surname_of("欧阳修") == "欧阳"
    assert surname_of("李秀英") == "李"
    assert surname_of("John Smith") is None
