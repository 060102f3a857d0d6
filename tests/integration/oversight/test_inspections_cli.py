"""``piguard inspections`` through the real CLI on a fresh data directory, acting as named accounts."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli import common
from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records

runner = CliRunner()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    # What `piguard init` does, with the tables made from the models: the single initial migration
    # is regenerated at integration, and this test is about the inspection commands.
    ensure_secret(settings)
    ensure_signing_key(settings)
    load_all_models()
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    ids: dict[str, str] = {}
    with make_session_factory(engine)() as db, db.begin():
        ids["hc"] = records.create_organisation(
            session=db, name="Commission", org_type="health_commission", district="310112"
        ).id
        ids["hosp"] = records.create_organisation(
            session=db, name="Hospital", org_type="hospital", district="310112"
        ).id
        for username, role, org in (
            ("sun.li", "privacy_officer", "hc"),
            ("zhou.min", "privacy_officer", "hc"),
            ("chen.jie", "physician", "hosp"),
        ):
            made = identity.create_account(
                session=db,
                secret=load_secret(settings),
                username=username,
                display_name=username,
                role=role,
                org_id=ids[org],
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
            ids[username] = made.account.id
        for n in range(5):
            records.create_report(
                session=db,
                hospital_org_id=ids["hosp"],
                subject_id=f"subj-{n}",
                name="李秀英",
                sex="female",
                death_time=now - timedelta(days=1, hours=n),
                place_of_death="hospital",
                district="310112",
                part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
            )
    engine.dispose()
    return ids


def _run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, ["inspections", *args])
    return result.exit_code, result.output


def _ok(args: list[str]) -> str:
    code, output = _run(args)
    assert code == 0, output
    return output


def test_rectification_follow_up_from_the_command_line(site: dict[str, str], tmp_path: Path) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    made = _ok(
        [
            "recommend",
            "--as",
            "sun.li",
            "--ref",
            "闵检建〔2025〕3号",
            "--authority",
            "闵行区人民检察院",
            "--issued-on",
            datetime.now(UTC).date().isoformat(),
            "--text",
            "Restrict cross-hospital queries",
            "--owner",
            site["hosp"],
            "--responsible",
            "chen.jie",
            "--deadline",
            tomorrow,
            "--evidence",
            "Role configuration export",
        ]
    )
    assert "recorded" in made
    item_id = re.search(r"^│ (\S{26}) ", made, re.MULTILINE)
    assert item_id, made
    item = item_id.group(1)

    code, output = _run(
        [
            "recommend",
            "--as",
            "sun.li",
            "--ref",
            "x-1",
            "--authority",
            "Audit office",
            "--issued-on",
            "2025-01-01",
            "--text",
            "late",
            "--owner",
            site["hosp"],
            "--responsible",
            "chen.jie",
            "--deadline",
            "2020-01-01",
            "--evidence",
            "anything",
        ]
    )
    assert code == 2 and "items[0].deadline" in output and "backdated" in output

    document = tmp_path / "config.pdf"
    document.write_bytes(b"role configuration after the change")
    denied_code, denied = _run(
        ["submit", item, "--as", "zhou.min", "--description", "not mine", "--document", str(document)]
    )
    assert denied_code == 4 and "responsible person" in denied
    submitted = _ok(
        ["submit", item, "--as", "chen.jie", "--description", "Export after the change", "--document", str(document)]
    )
    evidence = re.search(r"evidence (\S+) submitted", submitted)
    assert evidence and "awaiting_review" in submitted
    shown = _ok(["items", item, "--as", "sun.li"])
    assert hashlib.sha256(document.read_bytes()).hexdigest() in shown
    code, _ = _run(["verify", item, evidence.group(1), "--as", "chen.jie", "--reason", "looks fine to me"])
    assert code == 4  # a physician is no inspector
    verified = _ok(["verify", item, evidence.group(1), "--as", "zhou.min", "--reason", "matches the production config"])
    assert "item is verified" in verified
    assert "0)" in _ok(["overdue", "--as", "sun.li"])  # nothing overdue
    listed = _ok(["items", "--as", "chen.jie"])
    assert item in listed and "verified" in listed
    assert "matches its digest" in _ok(["check", "--as", "zhou.min"])


def test_spot_check_from_the_command_line(site: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "width", 60)  # a narrow terminal keeps the ids 'findings' takes whole
    drawn = _ok(["spot-check", "--as", "sun.li", "--org", site["hosp"], "--size", "2", "--seed", "s1", "--no-readers"])
    found = re.search(r"spot check (\S+) \(scheduled\) round 1, seed s1, 2 of 5 drawn", drawn)
    assert found, drawn
    check = found.group(1)
    again = _ok(
        ["spot-check", "--as", "zhou.min", "--org", site["hosp"], "--size", "2", "--seed", "s1", "--no-readers"]
    )
    refs = lambda text: re.findall(r"death_report\s+│\s+(\S+)", text)  # noqa: E731
    assert refs(drawn) == refs(again) and len(refs(drawn)) == 2
    assert "reproduced" in _ok(["spot-check", "--as", "zhou.min", "--reproduce", check])
    items = re.findall(r"^│ \d+\s+│ (\S{26}) ", drawn, re.MULTILINE)
    assert len(items) == 2
    _ok(["findings", check, "--as", "sun.li", "--item", items[0], "--outcome", "satisfactory", "--note", "ok"])
    _ok(["findings", check, "--as", "sun.li", "--item", items[1], "--outcome", "unsatisfactory", "--note", "odd reads"])
    code, output = _run(["close", check, "--as", "sun.li", "--reason", "all records checked"])
    assert code == 4 and "schedule a re-inspection" in output
    day = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    assert "round 2" in _ok(["reinspect", check, "--as", "sun.li", "--on", day, "--reason", "explain the odd reads"])
    _ok(["findings", check, "--as", "zhou.min", "--item", items[1], "--outcome", "satisfactory", "--note", "explained"])
    assert "closed as satisfactory" in _ok(["close", check, "--as", "sun.li", "--reason", "all records checked"])
    code, output = _run(["spot-check", "--as", "chen.jie", "--org", site["hosp"], "--size", "2"])
    assert code == 4 and "inspectors" in output
    settings = Settings()
    engine = make_engine(settings)
    with make_session_factory(engine)() as db:
        kinds = [(e.action, e.resource_type) for e in ledger.iter_events(session=db) if e.resource_type == "spot_check"]
    engine.dispose()
    assert ("create", "spot_check") in kinds and kinds.count(("update", "spot_check")) >= 5
