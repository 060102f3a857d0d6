"""``piguard training`` and ``piguard family`` through the real CLI: who adds a mandatory course,
stored text that looks like Rich markup, and errors that name the option."""

from __future__ import annotations

import json
import re
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
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A migrated data directory: a hospital, the municipal health commission, their people, a report."""
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    settings = Settings(data_dir=tmp_path / "data")
    engine = make_engine(settings)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db, db.begin():
        hosp = records.create_organisation(session=db, name="Hospital A", org_type="hospital", district="310112")
        city = records.create_organisation(
            session=db, name="City Commission", org_type="health_commission", district="310000", level="municipal"
        )
        district = records.create_organisation(
            session=db, name="Minhang Commission", org_type="health_commission", district="310112"
        )
        for username, role, org in (
            ("po.a3", "privacy_officer", hosp.id),
            ("admin.a", "admin", hosp.id),
            ("po.minhang", "privacy_officer", district.id),
            ("po.city", "privacy_officer", city.id),
            ("wang.fang", "physician", hosp.id),
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
                now=now - timedelta(days=400),
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
            subject_id="subj-cli-markup",
            name="李秀英",
            sex="female",
            death_time=now - timedelta(days=1),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        )
        ids = {"hosp": hosp.id, "report": report.id}
    engine.dispose()
    return ids


def _run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


def _course(username: str, code: str, *flags: str, title: str = "Hospital A course") -> tuple[int, str]:
    return _run(
        ["training", "add-course", "--as", username, "--code", code, "--title", title, "--validity-days", "30", *flags]
    )


def test_only_the_municipal_commission_adds_a_mandatory_course(town: dict[str, str]) -> None:
    for username in ("po.a3", "admin.a", "po.minhang"):
        code, out = _course(username, "lockout-" + username.replace(".", "-"), "--mandatory")
        assert code == 4 and "[city-wide-course]" in out and "municipal health commission" in out, out
    # Nobody was locked out: the hospital's own officer still works, and adds optional courses.
    code, out = _course("po.a3", "ward-etiquette", "--optional")
    assert code == 0 and "optional" in out, out
    code, out = _run(["training", "reminders", "--as", "po.a3", "--org", town["hosp"], "--json"])
    assert code == 0 and json.loads(out) == [], out
    courses = json.loads(_run(["training", "courses", "--as", "wang.fang", "--json"])[1])
    assert {(c["code"], c["mandatory"]) for c in courses} == {("privacy-basics", True), ("ward-etiquette", False)}
    code, out = _course("po.city", "city-2026", "--mandatory", title="City course")
    assert code == 0 and "mandatory" in out, out


def test_recording_one_s_own_completion_takes_a_second_person(town: dict[str, str]) -> None:
    args = ["training", "complete", "po.a3", "--course", "privacy-basics", "--score", "95"]
    code, out = _run([*args, "--as", "po.a3"])
    assert code == 4 and "[four-eyes]" in out, out
    code, out = _run([*args, "--as", "admin.a"])
    assert code == 0, out


def test_stored_text_is_printed_as_text_not_markup(town: dict[str, str]) -> None:
    code, out = _course("po.a3", "markup", "--optional", title="[/] test [bold]x[/bold]")
    assert code == 0, out
    code, out = _run(["training", "courses", "--as", "wang.fang"])
    assert code == 0 and "[/] test [bold]x[/bold]" in out, out
    code, out = _run(
        [
            "family", "request", "--as", "po.a3", "--report", town["report"], "--name", "[/]王",
            "--relationship", "child", "--proof", "ID card; household register",
        ]
    )  # fmt: skip
    assert code == 0, out
    found = re.search(r"registered request (\w+)", out)
    assert found is not None
    code, out = _run(["family", "list", "--as", "po.a3"])
    assert code == 0 and "[/]王" in out and found.group(1) in out, out


def test_errors_name_the_option(town: dict[str, str]) -> None:
    code, out = _run(["training", "reminders", "--as", "po.a3", "--org", "NOPE"])
    assert code == 2 and "--org: no organisation with this id" in out, out
    code, out = _run(["training", "courses", "--as", "ghost"])
    assert code == 2 and "--as: no account with this username" in out, out
    code, out = _run(["family", "list", "--as", "ghost"])
    assert code == 2 and "--as: no account with this username" in out, out
    code, out = _run(["training", "complete", "ghost", "--as", "po.a3", "--course", "privacy-basics", "--score", "90"])
    assert code == 2 and "USERNAME: no account with this username or id" in out, out
