"""``piguard cases`` through the real CLI on a fresh data directory, acting as named accounts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.keys import load_secret
from piguard.localtime import beijing_date
from piguard.records import service as records

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    settings = Settings(data_dir=tmp_path / "data")
    load_all_models()
    engine = make_engine(settings)
    # Until the initial migration is regenerated with the case tables, create any that are missing.
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db, db.begin():
        hc = records.create_organisation(session=db, name="Commission", org_type="health_commission", district="310112")
        hosp = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        for username, role, org in (
            ("sun.li", "privacy_officer", hc.id),
            ("zhou.min", "privacy_officer", hc.id),
            ("chen.jie", "physician", hosp.id),
        ):
            made = identity.create_account(
                session=db,
                secret=load_secret(settings),
                username=username,
                display_name=username,
                role=role,
                org_id=org,
                password="correct horse battery",
                demo=True,
            )
            identity.record_training(
                session=db,
                account_id=made.account.id,
                course_code="privacy-basics",
                score=90,
                completed_at=now - timedelta(days=1),
            )
        records.create_report(
            session=db,
            hospital_org_id=hosp.id,
            subject_id="subj-1",
            name="李秀英",
            sex="female",
            death_time=now - timedelta(days=1),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        )
    engine.dispose()
    return tmp_path / "data"


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, ["cases", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_case_lifecycle_from_the_command_line(data_dir: Path, tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.json"
    alert = {"alert_id": "al-9", "user_id": "chen.jie", "score": 0.97, "severity": "high", "subject_ids": ["subj-1"]}
    alerts.write_text(json.dumps({"generated_at": "x", "alerts": [alert]}), encoding="utf-8")
    opened = _ok(
        [
            "open", "--as", "sun.li", "--title", "Nightly alert on a physician", "--assignee", "sun.li",
            "--source", "alert", "--alert", str(alerts), "--reason", "high-severity alert to investigate",
        ]
    )  # fmt: skip
    found = re.search(r"opened case (\S+) \(1 record", opened)
    assert found, opened
    case_id = found.group(1)
    assert case_id in _ok(["list", "--as", "zhou.min", "--state", "open"])

    early = runner.invoke(app, ["cases", "transition", case_id, "closed", "--as", "sun.li", "--reason", "nothing here"])
    assert early.exit_code == 4 and "must first be investigated" in early.output
    _ok(["transition", case_id, "investigating", "--as", "sun.li", "--reason", "interviewing the suspect"])
    notes = tmp_path / "interview.txt"
    notes.write_text("interview notes", encoding="utf-8")
    _ok(["evidence", case_id, "--as", "sun.li", "--kind", "document", "--file", str(notes), "--reason", "signed notes"])
    _ok(["transition", case_id, "substantiated", "--as", "sun.li", "--reason", "the suspect admitted the lookups"])
    proposed = _ok(
        [
            "propose", case_id, "--as", "sun.li", "--kind", "fine", "--target", "chen.jie",
            "--date", beijing_date(datetime.now(UTC)).isoformat(), "--authority", "Minhang District Health Commission",
            "--detail", "CNY 5000", "--reason", "unauthorised lookups of 14 deceased",
        ]
    )  # fmt: skip
    disposition = re.search(r"\((\w+)\); awaiting approval", proposed)
    assert disposition, proposed
    own = runner.invoke(
        app, ["cases", "approve", case_id, disposition.group(1), "--as", "sun.li", "--reason", "approving it myself"]
    )
    assert own.exit_code == 4 and "four-eyes" in own.output
    approved = _ok(["approve", case_id, disposition.group(1), "--as", "zhou.min", "--reason", "the fine is in order"])
    assert "approved" in approved
    _ok(["transition", case_id, "closed", "--as", "zhou.min", "--reason", "fine imposed, case complete"])

    shown = _ok(["show", case_id, "--as", "zhou.min"])
    assert "closed" in shown and "interview.txt" in shown and "fine" in shown and "approved" in shown
    assert hashlib.sha256(b"interview notes").hexdigest() in shown  # the file's hash, computed by the CLI

    out = tmp_path / "bundle"
    exported = _ok(["export", case_id, "--as", "zhou.min", "--out", str(out)])
    assert "history entries" in exported
    verified = runner.invoke(app, ["audit", "verify-evidence", str(out)])
    assert verified.exit_code == 0, verified.output
    assert "case history: all" in verified.output and "not checked: case.json" not in verified.output
    case_file = out / "case.json"
    history = json.loads(case_file.read_text(encoding="utf-8"))
    history["history"][0]["reason"] = "a softer account of what happened"
    case_file.write_text(json.dumps(history), encoding="utf-8")
    edited = runner.invoke(app, ["audit", "verify-evidence", str(out)])
    assert edited.exit_code == 3, edited.output  # a history rewritten after export is tampering
    assert "does not match its ledger event" in edited.output


def test_refusals_and_bad_input(data_dir: Path) -> None:
    denied = runner.invoke(app, ["cases", "list", "--as", "chen.jie"])
    assert denied.exit_code == 4 and "no policy permits role 'physician'" in denied.output
    unknown = runner.invoke(app, ["cases", "list", "--as", "nobody.here"])
    assert unknown.exit_code == 2
    bad_source = runner.invoke(
        app,
        [
            "cases", "open", "--as", "sun.li", "--title", "A case", "--assignee", "sun.li",
            "--source", "rumour", "--reason", "heard something",
        ],
    )  # fmt: skip
    assert bad_source.exit_code == 2 and "source" in bad_source.output
    to_physician = runner.invoke(
        app,
        [
            "cases", "open", "--as", "sun.li", "--title", "A case", "--assignee", "chen.jie",
            "--reason", "assigning to a physician",
        ],
    )  # fmt: skip
    assert to_physician.exit_code == 2 and "privacy officer" in to_physician.output
    bad_date = runner.invoke(
        app,
        [
            "cases", "propose", "X", "--as", "sun.li", "--kind", "fine", "--target", "chen.jie", "--date", "soon",
            "--authority", "HC", "--reason", "a reason of length",
        ],
    )  # fmt: skip
    assert bad_date.exit_code == 2 and "--date" in bad_date.output


def test_cases_check_finds_rows_changed_behind_the_applications_back(data_dir: Path, tmp_path: Path) -> None:
    from sqlalchemy import update

    from piguard.oversight.cases.models import CaseEvidence

    opened = _ok(
        ["open", "--as", "sun.li", "--title", "Complaint", "--assignee", "sun.li", "--subject", "subj-1",
         "--reason", "a family was cold-called"]
    )  # fmt: skip
    found = re.search(r"opened case (\S+) ", opened)
    assert found, opened
    case_id = found.group(1)
    notes = tmp_path / "notes.txt"
    notes.write_text("signed notes", encoding="utf-8")
    _ok(["evidence", case_id, "--as", "sun.li", "--kind", "document", "--file", str(notes), "--reason", "signed notes"])
    assert "match their ledger events" in _ok(["check", case_id, "--as", "zhou.min"])
    engine = make_engine(Settings(data_dir=data_dir))
    with engine.begin() as conn:
        conn.execute(update(CaseEvidence).where(CaseEvidence.case_id == case_id).values(sha256="b" * 64))
    engine.dispose()
    changed = runner.invoke(app, ["cases", "check", case_id, "--as", "zhou.min"])
    assert changed.exit_code == 1, changed.output
    assert "evidence_added" in changed.output
