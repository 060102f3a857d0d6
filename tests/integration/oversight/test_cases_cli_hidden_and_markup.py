"""``piguard cases`` and ``piguard report`` on a fresh data directory: deleted history is found by
``cases check`` and ``audit verify-evidence``, short or huge reasons and bad event ids are refused,
stored text is printed as text (never as Rich markup), and a bad month is bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine
from piguard.localtime import beijing_date
from piguard.oversight.cases.models import CaseEvent, CaseEvidence
from tests.integration.oversight.test_cases_cli import _ok
from tests.integration.oversight.test_cases_cli import data_dir as data_dir  # the fixture

runner = CliRunner()


def _flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def _open(*extra: str, title: str = "Complaint about cold calls", reason: str = "a family was cold-called") -> str:
    opened = _ok(
        ["open", "--as", "sun.li", "--title", title, "--assignee", "sun.li", "--subject", "subj-1",
         "--reason", reason, *extra]
    )  # fmt: skip
    found = re.search(r"opened case (\S+) ", opened)
    assert found, opened
    return found.group(1)


def _first_event(data_dir: Path, case_id: str) -> str:
    engine = make_engine(Settings(data_dir=data_dir))
    with engine.connect() as conn:
        event_id = conn.scalar(
            select(CaseEvent.ledger_event_id).where(CaseEvent.case_id == case_id, CaseEvent.seq == 1)
        )
    engine.dispose()
    assert isinstance(event_id, str)
    return event_id


def _case_with_cited_event(data_dir: Path) -> str:
    """opened #1, assigned #2, subject_added #3, evidence_added (a ledger event) #4, transition #5."""
    case_id = _open()
    cited = _first_event(data_dir, case_id)
    _ok(["evidence", case_id, "--as", "sun.li", "--kind", "ledger_event", "--ref", cited,
         "--reason", "the opening event itself"])  # fmt: skip
    _ok(["transition", case_id, "investigating", "--as", "sun.li", "--reason", "interviewing the caller"])
    return case_id


def test_cases_check_finds_a_deleted_history_entry(data_dir: Path) -> None:
    case_id = _case_with_cited_event(data_dir)
    assert "match their ledger events" in _ok(["check", case_id, "--as", "zhou.min"])
    engine = make_engine(Settings(data_dir=data_dir))
    with engine.begin() as conn:  # as an intruder with SQL would
        conn.execute(delete(CaseEvidence).where(CaseEvidence.case_id == case_id, CaseEvidence.kind == "ledger_event"))
        conn.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq == 4))
    engine.dispose()
    checked = runner.invoke(app, ["cases", "check", case_id, "--as", "zhou.min"])
    assert checked.exit_code == 1, checked.output
    said = _flat(checked.output)
    assert "not numbered 1 to 5 without gaps: #4 missing" in said
    assert "records history entry #4 (evidence_added) of this case" in said
    assert "match their ledger events" not in said


def test_verify_evidence_refuses_a_bundle_with_a_history_entry_removed(data_dir: Path, tmp_path: Path) -> None:
    case_id = _case_with_cited_event(data_dir)
    out = tmp_path / "bundle"
    _ok(["export", case_id, "--as", "zhou.min", "--out", str(out)])
    case = json.loads((out / "case.json").read_text(encoding="utf-8"))
    dropped = case["history"][3]
    assert (dropped["seq"], dropped["kind"]) == (4, "evidence_added")
    # The attacker removes the entry, the evidence it added, its event, and fixes up the manifest.
    case["history"] = [entry for entry in case["history"] if entry["seq"] != 4]
    case["evidence"] = [item for item in case["evidence"] if item["id"] != dropped["ref_id"]]
    (out / "case.json").write_text(json.dumps(case), encoding="utf-8")
    lines = (out / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(json.loads(line)["leaf"])["event_id"] != dropped["ledger_event_id"]]
    assert len(kept) == len(lines) - 1
    (out / "entries.jsonl").write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["entries"] = len(kept)
    asked = manifest["selection"]["event_ids"]
    manifest["selection"]["event_ids"] = (
        [i for i in asked if i != dropped["ledger_event_id"]] if isinstance(asked, list) else asked - 1
    )
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    verified = runner.invoke(app, ["audit", "verify-evidence", str(out)])
    assert verified.exit_code == 3, verified.output
    assert "case.json" in verified.output and "#4 missing" in _flat(verified.output)


def test_approve_and_assign_refuse_short_or_huge_reasons(data_dir: Path) -> None:
    case_id = _open()
    _ok(["transition", case_id, "investigating", "--as", "sun.li", "--reason", "interviewing the caller"])
    _ok(["transition", case_id, "substantiated", "--as", "sun.li", "--reason", "the caller's account holds"])
    proposed = _ok(
        ["propose", case_id, "--as", "sun.li", "--kind", "warning", "--target", "chen.jie",
         "--date", beijing_date(datetime.now(UTC)).isoformat(), "--authority", "Minhang District Health Commission",
         "--reason", "called the family without cause"]
    )  # fmt: skip
    disposition = re.search(r"\((\w+)\); awaiting approval", proposed)
    assert disposition, proposed
    short = runner.invoke(app, ["cases", "approve", case_id, disposition.group(1), "--as", "zhou.min", "--reason", "x"])
    assert short.exit_code == 2 and "reason" in short.output, short.output
    other = _open()
    for reason in ("y", "y" * 100_000):
        refused = runner.invoke(
            app, ["cases", "assign", other, "--as", "sun.li", "--to", "zhou.min", "--reason", reason]
        )
        assert refused.exit_code == 2 and "reason" in refused.output, refused.output[:300]
    huge = runner.invoke(
        app, ["cases", "transition", other, "investigating", "--as", "sun.li", "--reason", "t" * 100_000]
    )
    assert huge.exit_code == 2 and "at most 1000" in huge.output, huge.output[:300]
    shown = _ok(["show", other, "--as", "zhou.min"])
    assert "yyyyyyyyyy" not in shown and "tttttttttt" not in shown and "investigating" not in shown


def test_bad_event_ids_of_evidence_are_refused(data_dir: Path) -> None:
    case_id = _open()
    for event in ("", "e" * 5000):
        refused = runner.invoke(
            app,
            ["cases", "evidence", case_id, "--as", "sun.li", "--kind", "alert", "--ref", "AL1",
             "--reason", "signed notes attach", "--event", event],
        )  # fmt: skip
        assert refused.exit_code == 2 and "event_ids" in refused.output, refused.output[:300]
    assert "AL1" not in _ok(["show", case_id, "--as", "zhou.min"])


def test_stored_text_is_printed_as_text_not_markup(data_dir: Path) -> None:
    case_id = _open(title="[/] markup in a title", reason="[white on white]hidden words[/] of the reason")
    listed = runner.invoke(app, ["cases", "list", "--as", "zhou.min"])
    assert listed.exit_code == 0, listed.output
    assert "[/] markup in a title" in listed.output
    shown = runner.invoke(app, ["cases", "show", case_id, "--as", "zhou.min"])
    assert shown.exit_code == 0, shown.output
    assert "[/] markup in a title" in shown.output
    assert "[white on white]hidden words[/] of the reason" in _flat(shown.output)


def test_report_refuses_a_month_it_cannot_represent_or_not_in_ascii_digits(data_dir: Path, tmp_path: Path) -> None:
    for month in ("0000-01", "9999-12", "２０２６-11"):
        out = tmp_path / f"r-{len(month)}-{month[:2]}.html"
        result = runner.invoke(app, ["report", "--as", "sun.li", "--city", "--month", month, "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert "month" in result.output and not out.exists()
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_report_prints_its_file_name_as_text(data_dir: Path, tmp_path: Path) -> None:
    month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    out = tmp_path / "[bold]city.html"
    result = runner.invoke(app, ["report", "--as", "sun.li", "--city", "--month", month, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "[bold]city.html" in _flat(result.output)
