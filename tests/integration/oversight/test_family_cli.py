"""``piguard family`` through the real CLI on a fresh, migrated data directory."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.identity import service as identity
from piguard.keys import load_secret
from piguard.records import service as records

runner = CliRunner()


@pytest.fixture
def report_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0  # runs the migrations, 0002 included
    settings = Settings(data_dir=tmp_path / "data")
    engine = make_engine(settings)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db, db.begin():
        hc = records.create_organisation(session=db, name="Commission", org_type="health_commission", district="310112")
        hosp = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        people = (
            ("sun.li", "privacy_officer", hc.id),
            ("zhou.min", "privacy_officer", hc.id),
            ("chen.jie", "physician", hosp.id),
        )
        for username, role, org in people:
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
        report = records.create_report(
            session=db,
            hospital_org_id=hosp.id,
            subject_id="subj-cli-1",
            name="李秀英",
            sex="female",
            death_time=now - timedelta(days=1),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        )
        made_id = report.id
    engine.dispose()
    return made_id


def _run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, ["family", *args])
    return result.exit_code, result.output


def test_request_answer_and_reissue_from_the_command_line(report_id: str, tmp_path: Path) -> None:
    code, out = _run(
        [
            "request", "--as", "sun.li", "--report", report_id, "--name", "王小明",
            "--relationship", "child", "--proof", "ID card; household register",
        ]
    )  # fmt: skip
    assert code == 0, out
    found = re.search(r"registered request (\w+)", out)
    assert found is not None
    request_id = found.group(1)
    code, out = _run(["list", "--as", "sun.li", "--state", "received"])
    assert code == 0 and request_id in out
    page = tmp_path / "account.html"
    code, out = _run(["answer", request_id, "--as", "sun.li", "--out", str(page)])
    assert code == 0 and "answered" in out, out
    assert "<svg" in page.read_text(encoding="utf-8") and "访问记录告知书" in page.read_text(encoding="utf-8")
    assert stat.S_IMODE(page.stat().st_mode) == 0o600  # personal data: owner only
    kept = tmp_path / "account.json"
    code, out = _run(["account", request_id, "--as", "sun.li", "--out", str(kept), "--format", "json"])
    assert code == 0, out
    account = json.loads(kept.read_text(encoding="utf-8"))
    assert account["request_id"] == request_id and account["relationship"] == "child"
    english = tmp_path / "account-en.html"
    code, out = _run(["account", request_id, "--as", "sun.li", "--out", str(english), "--lang", "en"])
    assert code == 0 and "Account of accesses" in english.read_text(encoding="utf-8"), out
    code, out = _run(["account", request_id, "--as", "sun.li", "--out", str(english), "--lang", "fr"])
    assert code == 2 and "--lang" in out
    code, out = _run(["show", request_id, "--as", "sun.li"])
    assert code == 0 and "answered" in out and "answer sha256" in out
    code, out = _run(["evidence", request_id, "--as", "sun.li", "--out", str(tmp_path / "bundle")])
    assert code == 0 and (tmp_path / "bundle" / "entries.jsonl").exists(), out


def test_refusals_and_bad_input_exit_with_their_codes(report_id: str, tmp_path: Path) -> None:
    code, out = _run(
        [
            "request", "--as", "chen.jie", "--report", report_id, "--name", "王小明",
            "--relationship", "child", "--proof", "ID card",
        ]
    )  # fmt: skip
    assert code == 4 and "refused" in out
    code, out = _run(
        [
            "request", "--as", "sun.li", "--report", report_id, "--name", "王小明",
            "--relationship", "cousin", "--proof", "ID card",
        ]
    )  # fmt: skip
    assert code == 2 and "relationship" in out
    code, out = _run(["request", "--as", "sun.li", "--name", "王小明", "--relationship", "child", "--proof", "ID card"])
    assert code == 2 and "--certificate" in out  # neither way of naming the record given
    code, out = _run(
        [
            "request", "--as", "sun.li", "--certificate", "DC000000000000", "--name", "王小明",
            "--relationship", "child", "--proof", "ID card",
        ]
    )  # fmt: skip
    assert code == 2 and "not found" in out
    code, out = _run(["answer", "01JZZZZZZZZZZZZZZZZZZZZZZZ", "--as", "sun.li", "--out", str(tmp_path / "x.html")])
    assert code == 2 and "not found" in out


def test_a_copy_request_from_the_command_line(report_id: str, tmp_path: Path) -> None:
    code, out = _run(
        [
            "request", "--as", "sun.li", "--report", report_id, "--name", "王小明",
            "--relationship", "child", "--proof", "ID card; household register", "--kind", "copy",
        ]
    )  # fmt: skip
    assert code == 0 and "copy" in out, out
    found = re.search(r"registered request (\w+)", out)
    assert found is not None
    request_id = found.group(1)
    code, out = _run(["show", request_id, "--as", "sun.li"])
    assert code == 0 and "copy" in out, out
    page = tmp_path / "copy.html"
    code, out = _run(["answer", request_id, "--as", "sun.li", "--out", str(page)])
    assert code != 0 and "four eyes" in out, out
    code, out = _run(["answer", request_id, "--as", "zhou.min", "--out", str(page)])
    assert code == 0 and "copy" in out, out
    assert "个人信息副本" in page.read_text(encoding="utf-8") and stat.S_IMODE(page.stat().st_mode) == 0o600
    kept = tmp_path / "copy.json"
    code, out = _run(["copy", request_id, "--as", "sun.li", "--out", str(kept), "--format", "json"])
    assert code == 0, out
    copy = json.loads(kept.read_text(encoding="utf-8"))
    assert copy["format"] == "piguard-family-copy/1" and copy["record"]["deceased"]["name"] == "李秀英"
    code, out = _run(["account", request_id, "--as", "sun.li", "--out", str(tmp_path / "x.html")])
    assert code == 4 and "copy" in out, out
    code, out = _run(["copy", request_id, "--as", "chen.jie", "--out", str(tmp_path / "y.html")])
    assert code == 4 and "refused" in out, out
    code, out = _run(
        [
            "request", "--as", "sun.li", "--report", report_id, "--name", "王小明",
            "--relationship", "child", "--proof", "ID card", "--kind", "photocopy",
        ]
    )  # fmt: skip
    assert code == 2 and "kind" in out, out
