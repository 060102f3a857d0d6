"""``piguard export context`` and ``export handles``: recorded in the ledger, all or nothing, never mixed."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.db.base import utcnow
from piguard.interchange.context import read_context
from piguard.interchange.tabular import read_rows
from piguard.minimize import handles
from piguard.records import service as records

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = make_engine(Settings(data_dir=data))
    with make_session_factory(engine)() as db, db.begin():
        records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
    engine.dispose()
    # Decoy deaths: subjects with surnames, compounds and death times, the data an export discloses.
    planted = runner.invoke(app, ["canary", "plant", "--count", "3"])
    assert planted.exit_code == 0, planted.output
    return data


def _ledger(data: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(data / "piguard.db") as db:
        rows = db.execute("SELECT data FROM ledger_entries ORDER BY idx").fetchall()
    return [json.loads(row[0]) for row in rows]


def _refuse_ledger_writes(data: Path) -> None:
    # The ledger cannot take the export event (as on a full disk): the export must not happen.
    with sqlite3.connect(data / "piguard.db") as db:
        db.execute("CREATE TRIGGER no_append BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'full'); END")


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


def _personal_values(out: Path) -> set[str]:
    tables = read_context(out)
    values = {s.subject_id for s in tables.subjects} | {s.surname or "" for s in tables.subjects}
    values |= {s.compound or "" for s in tables.subjects} | {
        s.death_time.isoformat() for s in tables.subjects if s.death_time
    }
    return values - {""}


def test_export_context_appends_one_export_event(data_dir: Path, tmp_path: Path) -> None:
    before = _ledger(data_dir)
    out = tmp_path / "c1"
    exported = runner.invoke(app, ["export", "context", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    after = _ledger(data_dir)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    event = after[-1]
    tables = read_context(out)
    rows = len(tables.users) + len(tables.orgs) + len(tables.subjects) + len(tables.relationships)
    assert (event["action"], event["resource_type"], event["result_count"]) == ("export", "context_tables", rows)
    # Who, as `piguard audit export` records its operator: the command has no acting account.
    assert (event["user_id"], event["role"], event["org_id"]) == ("local-operator", "admin", "installation")
    assert "users" in event["query"] and "subjects" in event["query"] and "csv" in event["query"]
    assert len(tables.subjects) == 3
    text = json.dumps(event, ensure_ascii=False)
    assert not [value for value in _personal_values(out) if value in text]
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_export_handles_appends_one_export_event(data_dir: Path, tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=data_dir))
    with make_session_factory(engine)() as db, db.begin():
        for target in ("relative.phone", "informant.phone"):
            handles.issue(
                session=db,
                viewer_id="u1",
                resource_type="death_report",
                resource_id="r1",
                subject_id="subj-4242",
                target=target,
                purpose="FAMRQT",
                expires_at=utcnow() + timedelta(days=1),
            )
    engine.dispose()
    before = len(_ledger(data_dir))
    out = tmp_path / "handles.csv"
    exported = runner.invoke(app, ["export", "handles", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    after = _ledger(data_dir)
    assert len(after) == before + 1
    event = after[-1]
    assert (event["action"], event["resource_type"]) == ("export", "handle_register")
    assert (event["user_id"], event["result_count"]) == ("local-operator", 2)
    assert len(list(read_rows(out))) == 2
    assert "subj-4242" not in json.dumps(event)
    assert out.read_text(encoding="utf-8").startswith("handle,user_id")


def test_a_directory_holding_tables_is_refused_without_overwrite(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "c1"
    assert runner.invoke(app, ["export", "context", "--out", str(out)]).exit_code == 0
    kept = _snapshot(out)
    events = len(_ledger(data_dir))
    refused = runner.invoke(app, ["export", "context", "--out", str(out), "--format", "parquet"])
    assert refused.exit_code == 2
    assert "users.csv" in refused.output and "--overwrite" in refused.output
    assert _snapshot(out) == kept
    assert len(_ledger(data_dir)) == events  # nothing disclosed, nothing recorded


def test_overwrite_replaces_every_table_of_an_earlier_export(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "c1"
    assert runner.invoke(app, ["export", "context", "--out", str(out)]).exit_code == 0
    # A table the new export does not write, from some earlier one, and a file that is no table.
    (out / "shifts.csv").write_text("user_id,start,end\nu9,2025-03-01T08:00:00Z,2025-03-01T17:00:00Z\n")
    (out / "notes.txt").write_text("kept")
    replaced = runner.invoke(app, ["export", "context", "--out", str(out), "--format", "parquet", "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    names = sorted(path.name for path in out.iterdir())
    assert "notes.txt" in names and "users.parquet" in names and "subjects.parquet" in names
    assert all(name.endswith(".parquet") for name in names if name != "notes.txt"), names
    tables = read_context(out)  # one file per table again: detect can read it
    assert "shifts" not in tables.present and len(tables.subjects) == 3


def test_a_failed_export_leaves_no_directory_and_no_event(data_dir: Path, tmp_path: Path) -> None:
    events = _ledger(data_dir)
    _refuse_ledger_writes(data_dir)
    out = tmp_path / "exports" / "c1"
    failed = runner.invoke(app, ["export", "context", "--out", str(out)])
    assert failed.exit_code == 1, failed.output
    assert not out.exists()
    assert list((tmp_path / "exports").iterdir()) == []  # no staging directory left behind
    assert _ledger(data_dir) == events


def test_a_failed_overwrite_keeps_the_earlier_tables(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "c1"
    assert runner.invoke(app, ["export", "context", "--out", str(out)]).exit_code == 0
    kept = _snapshot(out)
    _refuse_ledger_writes(data_dir)
    failed = runner.invoke(app, ["export", "context", "--out", str(out), "--format", "parquet", "--overwrite"])
    assert failed.exit_code == 1
    assert _snapshot(out) == kept


def test_a_failed_handles_export_leaves_no_file(data_dir: Path, tmp_path: Path) -> None:
    _refuse_ledger_writes(data_dir)
    out = tmp_path / "handles" / "handles.csv"
    failed = runner.invoke(app, ["export", "handles", "--out", str(out)])
    assert failed.exit_code == 1
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
