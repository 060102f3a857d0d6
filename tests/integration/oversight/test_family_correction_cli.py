"""``piguard family`` correction and deletion requests through the real CLI on a fresh, migrated data directory
(migration 0007 included): the officer registers and answers, the certifier decides, exit codes name the refusal."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
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
from piguard.records.models import DeathReport, Relative
from tests.conftest import private_database_url

runner = CliRunner()
PHONE = "13912345678"
PROOF = ["--name", "王小明", "--relationship", "child", "--proof", "ID card; household register"]


@pytest.fixture(params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, str]]:
    """A migrated database with two commission officers, the certifier, and a certified report handed over."""
    for url in private_database_url(request.param, tmp_path, prefix="family_fix_cli"):
        monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("PIGUARD_DATABASE_URL", url)
        assert runner.invoke(app, ["init"]).exit_code == 0  # runs the migrations, 0007 included
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        yield settings, _seed(settings)


def _seed(settings: Settings) -> str:
    engine = make_engine(settings)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db, db.begin():
        hc = records.create_organisation(session=db, name="Commission", org_type="health_commission", district="310112")
        hosp = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        ids = {}
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
                session=db, account_id=made.account.id, course_code="privacy-basics", score=90,
                completed_at=now - timedelta(days=1),
            )  # fmt: skip
            ids[username] = made.account.id
        report = records.create_report(
            session=db,
            hospital_org_id=hosp.id,
            subject_id="subj-cli-fix",
            name="李秀英",
            sex="female",
            death_time=now - timedelta(days=1),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            relatives=[{"name": "王小明", "relationship": "儿子", "phone": PHONE}],
        )
        records.certify(session=db, report_id=report.id, certifier_id=ids["chen.jie"], at=now - timedelta(hours=20))
        records.issue_parts(session=db, report_id=report.id, at=now - timedelta(hours=19))
        report_id = report.id
    engine.dispose()
    return report_id


def _run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, ["family", *args])
    return result.exit_code, result.output


def _registered(out: str) -> str:
    found = re.search(r"registered request (\w+)", out)
    assert found is not None, out
    return found.group(1)


def test_a_correction_from_the_command_line(site: tuple[Settings, str], tmp_path: Path) -> None:
    settings, report_id = site
    code, out = _run(
        ["request", "--as", "sun.li", "--report", report_id, *PROOF, "--kind", "correction",
         "--correct", "name=李秀瑛", "--correct", "manner=accident", "--why", "the household register shows it"]
    )  # fmt: skip
    assert code == 0 and "correction of 2 field(s), referred to the certifier" in out, out
    request_id = _registered(out)
    code, out = _run(["referrals", "--as", "chen.jie"])
    assert code == 0 and request_id in out and "item 1: name = 李秀瑛 [pending]" in out, out
    code, out = _run(["review", request_id, "--as", "sun.li"])
    assert code == 4 and "refused" in out, out  # an officer is not the certifier
    code, out = _run(["correct", request_id, "1", "--as", "chen.jie", "--reason", "matches the register"])
    assert code == 0 and "[corrected]" in out, out
    code, out = _run(["decline", request_id, "2", "--as", "chen.jie", "--reason", "too short"])
    assert code == 2 and "reason" in out, out
    code, out = _run(["decline", request_id, "2", "--as", "chen.jie", "--reason", "the manner is my medical judgement"])
    assert code == 0 and "[declined]" in out, out
    code, out = _run(["show", request_id, "--as", "sun.li"])
    assert code == 0 and "item 2: manner = accident [declined]: the manner is my medical judgement" in out, out
    page = tmp_path / "letter.html"
    code, out = _run(["answer", request_id, "--as", "sun.li", "--out", str(page)])
    assert code == 0 and "item 1 corrected, item 2 declined" in out, out
    text = page.read_text(encoding="utf-8")
    assert "已更正" in text and "李秀瑛" in text and "accident" not in text  # the deceased's name as it now reads
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    kept = tmp_path / "letter.json"
    code, out = _run(["letter", request_id, "--as", "zhou.min", "--out", str(kept), "--format", "json"])
    assert code == 0, out
    assert json.loads(kept.read_text(encoding="utf-8"))["format"] == "piguard-family-correction/1"
    engine = make_engine(settings)
    with make_session_factory(engine)() as db:
        report = db.get(DeathReport, report_id)
        assert report is not None and (report.name, report.manner) == ("李秀瑛", "natural")
    engine.dispose()


def test_a_deletion_and_bad_input_from_the_command_line(site: tuple[Settings, str], tmp_path: Path) -> None:
    settings, report_id = site
    code, out = _run(
        ["request", "--as", "sun.li", "--report", report_id, *PROOF, "--kind", "correction",
         "--correct", "part1=肺炎", "--why", "the family disagrees with it"]
    )  # fmt: skip
    assert code == 2 and "corrections.0.field" in out and "medical opinion" in out, out
    code, out = _run(
        ["request", "--as", "sun.li", "--report", report_id, *PROOF, "--kind", "correction", "--correct", "name"]
    )
    assert code == 2 and "--why" in out, out
    code, out = _run(["request", "--as", "sun.li", "--report", report_id, *PROOF, "--kind", "deletion"])
    assert code == 2 and "erase" in out, out
    code, out = _run(
        ["request", "--as", "sun.li", "--report", report_id, *PROOF, "--kind", "deletion",
         "--erase", "report", "--erase", "relative_contacts"]
    )  # fmt: skip
    assert code == 0 and "(deletion)" in out, out
    request_id = _registered(out)
    page = tmp_path / "deleted.html"
    code, out = _run(["answer", request_id, "--as", "sun.li", "--out", str(page)])
    assert code == 4 and "four eyes" in out and not page.exists(), out
    code, out = _run(["answer", request_id, "--as", "zhou.min", "--out", str(page), "--lang", "en"])
    assert code == 0 and "item 1 kept, item 2 deleted" in out, out
    text = page.read_text(encoding="utf-8")
    assert "Article 47(2)" in text and PHONE not in text
    engine = make_engine(settings)
    with make_session_factory(engine)() as db:
        relative = db.query(Relative).filter(Relative.report_id == report_id).one()
        assert (relative.name, relative.phone) == ("王小明", None)
    engine.dispose()
