"""A deleted case history entry is found, in the database and in an exported bundle (SQLite and
PostgreSQL): the numbering has a gap, the case's ledger event has no entry, or a cited event is
neither in the bundle nor listed as missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from piguard.errors import TamperError
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.ledger import evidence
from piguard.ledger import service as ledger
from piguard.oversight.cases import flows, service
from piguard.oversight.cases.models import CaseEvent, CaseEvidence
from piguard.oversight.cases.schemas import EvidenceIn
from tests.integration.oversight.test_cases_service import Office, _open, _step
from tests.integration.oversight.test_cases_service import office as office  # the fixture


def _outside_event(office: Office) -> str:
    """An access event in the ledger that is not one of the case's own (evidence cites it)."""
    event = AccessEvent(
        event_id=new_id(),
        time=office.guard.now,  # type: ignore[arg-type]
        user_id=office.people["broker"].account_id,
        role="physician",
        org_id="hospital-b",
        action="read",
        resource_type="death_report",
        resource_id=office.report_a,
        purpose="TREAT",
    )
    ledger.append(session=office.session, event=event)
    return event.event_id


def _case_citing(office: Office, cited: str) -> str:
    """opened #1, assigned #2, subject_added #3, evidence_added (alert) #4, transition #5, evidence_added #6."""
    case_id = _open(office)
    _step(office, case_id, "investigating", 1).unwrap()  # type: ignore[attr-defined]
    flows.attach_evidence(
        session=office.session,
        guard=office.later(2),
        principal=office.people["officer"],
        case_id=case_id,
        item=EvidenceIn(kind="ledger_event", reference=cited, reason="the broker's read of the record"),
    ).unwrap()
    return case_id


def _delete_entry(office: Office, case_id: str, seq: int, *, evidence_too: bool = False) -> None:
    """Behind the application's back (the ORM refuses deletes of these rows)."""
    if evidence_too:
        office.session.execute(
            delete(CaseEvidence).where(CaseEvidence.case_id == case_id, CaseEvidence.kind == "ledger_event")
        )
    office.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq == seq))
    office.session.expire_all()


def test_an_entry_deleted_from_the_middle_of_the_history_is_found(office: Office) -> None:
    case_id = _case_citing(office, _outside_event(office))
    assert service.check_stored(session=office.session, case_id=case_id).problems == []
    _delete_entry(office, case_id, 5)
    problems = service.check_stored(session=office.session, case_id=case_id).problems
    assert any("not numbered 1 to 6 without gaps: #5 missing" in p for p in problems), problems
    assert any("records history entry #5 (transition)" in p for p in problems), problems


def test_the_last_entry_and_its_evidence_deleted_are_found_by_their_ledger_event(office: Office) -> None:
    # No gap is left, and no evidence row without its entry: only the ledger still shows the entry.
    case_id = _case_citing(office, _outside_event(office))
    _delete_entry(office, case_id, 6, evidence_too=True)
    result = service.check_stored(session=office.session, case_id=case_id)
    assert result.entries == 5
    assert len(result.problems) == 1 and "records history entry #6 (evidence_added)" in result.problems[0]
    assert "was deleted" in result.problems[0]


def test_a_case_with_no_history_at_all_is_not_clean(office: Office) -> None:
    case_id = _case_citing(office, _outside_event(office))
    office.session.execute(delete(CaseEvidence).where(CaseEvidence.case_id == case_id))
    office.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id))
    office.session.expire_all()
    problems = service.check_stored(session=office.session, case_id=case_id).problems
    assert any("no history entries" in p for p in problems), problems
    assert sum("records history entry" in p for p in problems) >= 5, problems  # and "and N more"


# -- the exported bundle -------------------------------------------------------------------------


def _export(office: Office, case_id: str, out: Path) -> dict[str, Any]:
    flows.export_case(
        session=office.session, guard=office.later(3), principal=office.people["admin"], case_id=case_id, out=out
    ).unwrap()
    evidence.verify_evidence(out)
    assert service.verify_history(out) == 6
    data: dict[str, Any] = json.loads((out / service.CASE_FILE).read_text(encoding="utf-8"))
    return data


def _drop_from_bundle(out: Path, event_ids: set[str]) -> None:
    """Remove events from entries.jsonl and the manifest, as an attacker hiding them would."""
    lines = (out / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(json.loads(line)["leaf"])["event_id"] not in event_ids]
    assert len(kept) == len(lines) - len(event_ids)
    (out / "entries.jsonl").write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["entries"] = len(kept)
    asked = manifest["selection"].get("event_ids")
    if isinstance(asked, list):
        manifest["selection"]["event_ids"] = [i for i in asked if i not in event_ids]
    elif isinstance(asked, int):
        manifest["selection"]["event_ids"] = asked - len(event_ids)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _write_case(out: Path, data: dict[str, Any]) -> None:
    (out / service.CASE_FILE).write_text(json.dumps(data), encoding="utf-8")


def test_a_history_entry_dropped_from_the_bundle_leaves_a_gap(office: Office, tmp_path: Path) -> None:
    case_id = _case_citing(office, _outside_event(office))
    out = tmp_path / "bundle"
    data = _export(office, case_id, out)
    dropped = data["history"][4]
    assert (dropped["seq"], dropped["kind"]) == (5, "transition")
    data["history"] = [entry for entry in data["history"] if entry["seq"] != 5]
    _write_case(out, data)
    _drop_from_bundle(out, {dropped["ledger_event_id"]})
    with pytest.raises(TamperError, match=r"case\.json: .*#5 missing"):
        service.verify_history(out)


def test_a_cited_event_dropped_from_the_bundle_is_refused(office: Office, tmp_path: Path) -> None:
    cited = _outside_event(office)
    case_id = _case_citing(office, cited)
    out = tmp_path / "bundle"
    data = _export(office, case_id, out)
    assert cited in data["evidence"][-1]["event_ids"]
    _drop_from_bundle(out, {cited})
    with pytest.raises(TamperError, match=f"cites ledger event\\(s\\) {cited} that are neither in entries.jsonl"):
        service.verify_history(out)


def test_the_last_entry_dropped_from_case_json_is_found_by_its_event_in_the_bundle(
    office: Office, tmp_path: Path
) -> None:
    case_id = _case_citing(office, _outside_event(office))
    out = tmp_path / "bundle"
    data = _export(office, case_id, out)
    last = data["history"].pop()
    assert last["kind"] == "evidence_added"
    data["evidence"] = [item for item in data["evidence"] if item["id"] != last["ref_id"]]
    _write_case(out, data)
    with pytest.raises(TamperError, match="records history entry #6 \\(evidence_added\\)"):
        service.verify_history(out)
