"""``piguard canary list`` gives whole ids, in a narrow table and as JSON (piped output included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli import common
from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.records import canaries
from piguard.records import service as records

runner = CliRunner()


def test_canary_list_never_crops_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    factory = make_session_factory(make_engine(Settings(data_dir=tmp_path / "data")))
    with factory() as db, db.begin():
        records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
    assert runner.invoke(app, ["canary", "plant", "--count", "2"]).exit_code == 0
    with factory() as db, db.begin():
        planted = canaries.listing(session=db)
    listed = runner.invoke(app, ["canary", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["report_id"], r["subject_id"], r["hospital_id"]) for r in rows] == [
        (c.report_id, c.subject_id, c.hospital_id) for c in planted
    ]
    monkeypatch.setattr(common.console, "width", 60)  # a narrow terminal, or a pipe
    table = runner.invoke(app, ["canary", "list"])
    assert table.exit_code == 0, table.output
    for c in planted:
        assert c.report_id in table.output and c.subject_id in table.output


def test_planting_and_listing_canaries_are_recorded_without_their_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from piguard.ledger import service as ledger

    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    settings = Settings(data_dir=tmp_path / "data")
    factory = make_session_factory(make_engine(settings))
    with factory() as db, db.begin():
        records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
    assert runner.invoke(app, ["canary", "plant", "--count", "2"]).exit_code == 0
    assert runner.invoke(app, ["canary", "list", "--json"]).exit_code == 0
    with factory() as db, db.begin():
        ledger.bind_settings(db, settings)
        planted = {c.subject_id for c in canaries.listing(session=db)} | {
            c.report_id for c in canaries.listing(session=db)
        }
        events = [e for e in ledger.iter_events(session=db) if e.resource_type == "canary_register"]
    assert [(e.action, e.result_count) for e in events] == [("create", 2), ("read", 2)]
    for event in events:
        text = event.model_dump_json()
        assert not any(ident in text for ident in planted), "a canary's id entered the ledger"
