"""A case's subjects, evidence and dispositions are bound to the ledger, not only its history entries:
edited in an exported bundle or in the database, they no longer match (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from piguard.errors import TamperError
from piguard.ledger import evidence
from piguard.localtime import beijing_date
from piguard.oversight.cases import flows, integrity, service
from piguard.oversight.cases.models import CaseEvidence, CaseSubject, Disposition
from piguard.oversight.cases.schemas import DispositionIn, EvidenceIn
from tests.integration.oversight.test_cases_service import Office, _open, _step
from tests.integration.oversight.test_cases_service import office as office  # the fixture


def _full_case(office: Office) -> str:
    """A substantiated case with a record, an alert, a document and an approved disposition."""
    case_id = _open(office)
    flows.attach_evidence(
        session=office.session,
        guard=office.later(1),
        principal=office.people["officer"],
        case_id=case_id,
        item=EvidenceIn(kind="document", reference="notes.pdf", sha256="a" * 64, reason="signed interview notes"),
    ).unwrap()
    _step(office, case_id, "investigating", 2).unwrap()  # type: ignore[attr-defined]
    _step(office, case_id, "substantiated", 3).unwrap()  # type: ignore[attr-defined]
    proposal = flows.propose_disposition(
        session=office.session,
        guard=office.later(4),
        principal=office.people["officer"],
        case_id=case_id,
        item=DispositionIn(
            kind="referral_procuratorate",
            target_user_id=office.people["broker"].account_id,
            effective_date=beijing_date(datetime.now(UTC)),
            authority="Minhang District Health Commission",
            detail="sold relatives' numbers",
            reason="sold the relatives' phone numbers to a funeral broker",
        ),
    ).unwrap()
    flows.decide_disposition(
        session=office.session,
        guard=office.later(5),
        principal=office.people["second"],
        case_id=case_id,
        disposition_id=proposal.id,
        decision="approved",
        reason="the evidence supports a referral",
    ).unwrap()
    return case_id


def _export(office: Office, case_id: str, out: Path) -> dict[str, Any]:
    flows.export_case(
        session=office.session, guard=office.later(6), principal=office.people["admin"], case_id=case_id, out=out
    ).unwrap()
    evidence.verify_evidence(out)
    assert service.verify_history(out) > 0
    data: dict[str, Any] = json.loads((out / service.CASE_FILE).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("part", "key", "value"),
    [
        ("dispositions", "kind", "warning"),
        ("dispositions", "authority", "nobody"),
        ("dispositions", "status", "rejected"),
        ("evidence", "sha256", "b" * 64),
        ("evidence", "reference", "other.pdf"),
        ("subjects", "report_id", "01ZZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("subjects", "subject_id", "someone-else"),
        ("title", None, "A different case"),
    ],
)
def test_an_edited_case_json_no_longer_verifies(
    office: Office, tmp_path: Path, part: str, key: str | None, value: str
) -> None:
    case_id = _full_case(office)
    out = tmp_path / "bundle"
    data = _export(office, case_id, out)
    if key is None:
        data[part] = value
    else:
        data[part][-1][key] = value
    (out / service.CASE_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TamperError, match=r"case\.json"):
        service.verify_history(out)


def test_an_added_disposition_in_case_json_no_longer_verifies(office: Office, tmp_path: Path) -> None:
    case_id = _full_case(office)
    out = tmp_path / "bundle"
    data = _export(office, case_id, out)
    data["dispositions"].append({**data["dispositions"][0], "id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ"})
    (out / service.CASE_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TamperError, match="no history entry proposed it"):
        service.verify_history(out)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Disposition, {"kind": "warning"}),
        (CaseEvidence, {"sha256": "b" * 64}),
        (CaseSubject, {"report_id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ"}),
    ],
)
def test_rows_changed_by_sql_are_found_by_the_check(office: Office, model: Any, values: dict[str, str]) -> None:
    case_id = _full_case(office)
    checked = flows.check_case(
        session=office.session, guard=office.later(6), principal=office.people["admin"], case_id=case_id
    ).unwrap()
    assert checked.problems == [] and checked.legacy == 0 and checked.entries >= 8
    # Behind the application's back (the ORM refuses updates of these rows).
    office.session.execute(
        update(model).where(model.case_id == case_id).values(**values).execution_options(synchronize_session=False)
    )
    office.session.expire_all()
    result = service.check_stored(session=office.session, case_id=case_id)
    assert result.problems, values


def test_entries_recorded_under_the_old_digest_still_verify(
    office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cases recorded before digest version 2 digested the entry only.
    monkeypatch.setattr(integrity, "entry_content", lambda case_id, row, bound: integrity.base_content(case_id, row))
    case_id = _full_case(office)
    monkeypatch.undo()
    result = service.check_stored(session=office.session, case_id=case_id)
    assert result.problems == [] and result.legacy == result.entries
    out = tmp_path / "bundle"
    _export(office, case_id, out)
    # The link by reference still holds for old entries: a subject's report id cannot be swapped.
    data = json.loads((out / service.CASE_FILE).read_text(encoding="utf-8"))
    data["subjects"][0]["report_id"] = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    (out / service.CASE_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TamperError):
        service.verify_history(out)
