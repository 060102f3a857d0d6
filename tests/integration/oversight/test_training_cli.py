"""``piguard training`` and ``piguard report`` through the real CLI on a fresh data directory."""

from __future__ import annotations

import json
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
from piguard.ledger import service as ledger
from piguard.records import service as records

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    settings = Settings(data_dir=tmp_path / "data")
    load_all_models()
    engine = make_engine(settings)
    Base.metadata.create_all(engine)  # until the initial migration is regenerated with the new tables
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db, db.begin():
        hosp = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        hc = records.create_organisation(
            session=db, name="Commission", org_type="health_commission", district="310000", level="municipal"
        )
        for username, role, org, ago in (
            ("sun.li", "privacy_officer", hosp.id, 1),
            ("qian.hao", "privacy_officer", hc.id, 1),
            ("wang.fang", "physician", hosp.id, 350),  # privacy-basics lapses in 15 days
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
                completed_at=now - timedelta(days=ago),
                now=now - timedelta(days=ago),  # entered when taken
            )
    engine.dispose()
    return tmp_path / "data", {"hosp": hosp.id, "hc": hc.id}


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_training_from_the_command_line(data_dir: tuple[Path, dict[str, str]]) -> None:
    data, orgs = data_dir
    assert "privacy-basics" in _ok(["training", "courses", "--as", "wang.fang"])
    refused = runner.invoke(
        app,
        [
            "training",
            "add-course",
            "--as",
            "wang.fang",
            "--code",
            "ethics",
            "--title",
            "Ethics",
            "--validity-days",
            "90",
        ],
    )
    assert refused.exit_code == 4 and "refused" in refused.output
    reminded = json.loads(_ok(["training", "reminders", "--as", "sun.li", "--org", orgs["hosp"], "--json"]))
    assert [(r["username"], r["state"], r["days_left"]) for r in reminded] == [("wang.fang", "expiring", 14)]
    _ok(["training", "complete", "wang.fang", "--as", "sun.li", "--course", "privacy-basics", "--score", "88"])
    assert json.loads(_ok(["training", "reminders", "--as", "sun.li", "--org", orgs["hosp"], "--json"])) == []
    # A mandatory course is the municipal health commission's to add.
    _ok(
        [
            "training", "add-course", "--as", "qian.hao", "--code", "deceased-data", "--title", "The deceased's data",
            "--validity-days", "180", "--mandatory", "--binds-from", "now",
        ]
    )  # fmt: skip
    status = _ok(["training", "status", "--as", "wang.fang"])
    assert "LAPSED" in status and "deceased-data" in status and "missing" in status
    assert "attested rules version" in _ok(["training", "attest", "--as", "wang.fang"])
    own = json.loads(_ok(["training", "status", "--as", "wang.fang", "--json"]))
    assert own["attestation_current"] and not own["training_ok"]
    other = runner.invoke(app, ["training", "status", "sun.li", "--as", "wang.fang"])
    assert other.exit_code == 4
    # The new mandatory course locks out the officer too; the operator's `piguard users training`
    # records their completion (the bootstrap path), and the officer is back.
    locked = runner.invoke(app, ["training", "reminders", "--as", "sun.li", "--org", orgs["hosp"]])
    assert locked.exit_code == 4 and "training-gate" in locked.output
    _ok(["users", "training", "sun.li", "--course", "deceased-data", "--score", "90"])
    assert json.loads(_ok(["training", "status", "--as", "sun.li", "--json"]))["training_ok"]
    bad = runner.invoke(
        app, ["training", "complete", "wang.fang", "--as", "sun.li", "--course", "nope", "--score", "90"]
    )
    assert bad.exit_code == 2 and "no course" in bad.output
    engine = make_engine(Settings(data_dir=data))
    with make_session_factory(engine)() as db:
        officer = identity.get_account_by_username(session=db, username="sun.li").id
        commission = identity.get_account_by_username(session=db, username="qian.hao").id
        doctor = identity.get_account_by_username(session=db, username="wang.fang").id
        changes = [
            (e.user_id, e.resource_type, e.outcome)
            for e in ledger.iter_events(session=db)
            if (e.resource_type or "").startswith("training_") and e.action == "create"
        ]
    engine.dispose()
    # Every change, refused or made, from this CLI or the operator's `users training`, is in the ledger.
    assert changes == [
        (doctor, "training_course", "denied"),
        (officer, "training_completion", "allowed"),
        (commission, "training_course", "allowed"),
        (doctor, "training_attestation", "allowed"),
        ("local-operator", "training_completion", "allowed"),
        (officer, "training_completion", "denied"),
    ]


def test_report_from_the_command_line(data_dir: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    data, orgs = data_dir
    month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # last month
    out = tmp_path / "r.pdf"
    args = ["report", "--as", "sun.li", "--org", orgs["hosp"], "--month", month, "--format", "pdf"]
    said = _ok([*args, "--out", str(out)])
    # As of last month's end, the officer's completion (yesterday) did not exist yet: 1 of 2 trained.
    assert out.read_bytes().startswith(b"%PDF") and "0 accesses" in said and "training 50.0%" in said
    again = tmp_path / "again.pdf"
    _ok([*args, "--out", str(again)])
    assert again.read_bytes() == out.read_bytes()
    city = runner.invoke(
        app, ["report", "--as", "sun.li", "--city", "--month", month, "--out", str(tmp_path / "c.html")]
    )
    assert city.exit_code == 4
    _ok(["report", "--as", "qian.hao", "--city", "--month", month, "--out", str(tmp_path / "c.html")])
    assert (tmp_path / "c.html").read_bytes().startswith(b"<!doctype html>")
    both = runner.invoke(app, ["report", "--as", "qian.hao", "--city", "--org", orgs["hosp"], "--month", month])
    assert both.exit_code == 2
    bad = runner.invoke(app, ["report", "--as", "qian.hao", "--city", "--month", "2025-13"])
    assert bad.exit_code == 2 and "month" in bad.output
    engine = make_engine(Settings(data_dir=data))
    with make_session_factory(engine)() as db:
        exports = [e for e in ledger.iter_events(session=db) if e.resource_type == "privacy_report"]
    engine.dispose()
    assert [(e.outcome, e.action) for e in exports] == [
        ("allowed", "export"), ("allowed", "export"), ("denied", "export"), ("allowed", "export"), ("denied", "export")
    ]  # fmt: skip


def test_an_unknown_account_names_the_argument(data_dir: tuple[Path, dict[str, str]]) -> None:
    for args in (
        ["training", "complete", "no.such.person", "--as", "sun.li", "--course", "privacy-basics", "--score", "90"],
        ["training", "status", "no.such.person", "--as", "sun.li"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "USERNAME: no account with this username or id" in " ".join(result.output.split()), result.output
