"""The service end to end: planted canaries, the ledger export and the context export feed
``piguard detect`` and ``piguard trace`` through the real CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.db.base import utcnow
from piguard.interchange.alerts import read_alert_report, read_trace_report
from piguard.interchange.labels import Complaint, write_complaints
from piguard.keys import ensure_secret
from piguard.ledger import service as ledger
from piguard.policy.pdp import default_engine
from piguard.records import canaries, flows, support_flows
from piguard.records import service as records
from piguard.records.guard import Guard
from tests.integration.records.conftest import person

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    return tmp_path / "data"


@pytest.mark.slow
def test_planted_canary_touched_through_the_service_is_a_high_alert_and_a_called_canary_is_traced(
    data_dir: Path, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    with factory() as db, db.begin():
        hospital = records.create_organisation(session=db, name="Hospital", org_type="hospital", district="310112")
        hospital_id = hospital.id
    planted = runner.invoke(app, ["canary", "plant", "--count", "2"])
    assert planted.exit_code == 0, planted.output
    with factory() as db, db.begin():
        decoys = canaries.listing(session=db)
    assert len(decoys) == 2
    # A physician tries to open one decoy (the policy refuses: no task leads to it, but the
    # attempt is an access event in the ledger); another breaks the glass and reads the other.
    trained = {"training_valid_until": utcnow() + timedelta(days=100)}
    snoop = person("acc-snoop", "physician", hospital_id).model_copy(update=trained)
    glass = person("acc-glass", "physician", hospital_id).model_copy(update=trained)
    guard = Guard(engine=default_engine(), settings=settings, secret=ensure_secret(settings))
    with factory() as db, db.begin():
        ledger.bind_settings(db, settings)
        attempt = flows.read_report(session=db, guard=guard, principal=snoop, report_id=decoys[0].report_id,
                                    purpose="TREAT")
        grant = support_flows.request_breakglass(
            session=db, guard=guard, principal=glass, report_id=decoys[1].report_id, purpose="BTG",
            reason="patient collapsed in the ward, need the history now")
        assert grant.allowed, grant.error
        opened = flows.read_report(session=db, guard=guard, principal=glass, report_id=decoys[1].report_id,
                                   purpose="BTG")
    assert not attempt.allowed and attempt.event.subject_id == decoys[0].subject_id
    assert opened.allowed, opened.error
    engine.dispose()

    events = tmp_path / "ledger-events.jsonl"
    exported = runner.invoke(app, ["audit", "export", "--out", str(events)])
    assert exported.exit_code == 0, exported.output
    context = tmp_path / "context"
    assert runner.invoke(app, ["export", "context", "--out", str(context)]).exit_code == 0

    alerts = tmp_path / "alerts.json"
    detected = runner.invoke(app, ["detect", str(events), "--context", str(context), "--format", "json",
                                   "--out", str(alerts)])
    assert detected.exit_code == 0, detected.output
    report = read_alert_report(alerts)
    by_user = {a.user_id: a for a in report.alerts}
    assert set(by_user) == {"acc-snoop", "acc-glass"}
    for user, evidence, decoy in (("acc-snoop", [attempt], decoys[0]), ("acc-glass", [grant, opened], decoys[1])):
        alert = by_user[user]
        assert (alert.severity, alert.score) == ("high", 1.0)
        assert alert.reasons[0].detector == "canary_access"
        assert alert.reasons[0].event_ids == tuple(g.event.event_id for g in evidence)
        assert decoy.subject_id in alert.subject_ids
        assert user in (alert.notice or "")

    # Families of both decoys get marketing calls: certain leaks. Only the physician who saw a
    # decoy can be their source (the refused attempt disclosed nothing).
    complaints = tmp_path / "complaints.csv"
    write_complaints(complaints, [Complaint(subject_id=d.subject_id, call_time=utcnow() + timedelta(days=1))
                                  for d in decoys])
    out = tmp_path / "trace.json"
    traced = runner.invoke(app, ["trace", "--complaints", str(complaints), "--events", str(events),
                                 "--context", str(context), "--format", "json", "--out", str(out)])
    assert traced.exit_code == 0, traced.output
    trace = read_trace_report(out)
    assert trace.canary_calls == 2
    assert (trace.suspects[0].id, trace.suspects[0].score) == ("acc-glass", 1.0)
    assert opened.event.event_id in trace.suspects[0].event_ids
    assert "acc-snoop" not in {s.id for s in trace.suspects}
    table = runner.invoke(app, ["trace", "--complaints", str(complaints), "--events", str(events),
                                "--context", str(context)])
    assert table.exit_code == 0
    assert "ALERT (high): 2 call(s) reached canary records" in table.output  # stderr, shown with the table
    assert json.loads(out.read_text())["suspects"][0]["kind"] == "user"
