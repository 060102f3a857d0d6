"""The CLI doors (exit codes, formats) and leak tracing, on files written by the project's writers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.interchange.alerts import read_alert_report, read_trace_report
from piguard.interchange.context import write_context
from piguard.interchange.events import write_events
from piguard.interchange.labels import Complaint, write_complaints
from tests.unit.detect.world import fresh_subjects, hospital_world


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=12, staff_per_org=6)
    victims = fresh_subjects(w)[5:25]
    complaints = []
    for s in victims:
        assert s.death_time is not None
        w.event("h1-doc2", s.death_time + timedelta(hours=1), subject=s.subject_id, fields=("relative.phone",))
        complaints.append(Complaint(subject_id=s.subject_id, call_time=s.death_time + timedelta(days=2),
                                    handle=None))
    # A call on a virtual handle issued to a (different) clerk, and a decoy unrelated to anyone.
    complaints.append(Complaint(subject_id=fresh_subjects(w)[30].subject_id,
                                call_time=victims[0].death_time + timedelta(days=3),  # type: ignore[operator]
                                handle="vh-777"))
    write_complaints(tmp_path / "complaints.csv", complaints)
    (tmp_path / "handles.csv").write_text("handle,user_id,subject_id,issued_at\nvh-777,h2-doc4,,\n",
                                          encoding="utf-8")
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.csv", w.events)
    return tmp_path


def test_detect_json_is_a_valid_alert_report_with_the_broker_first(case: Path) -> None:
    out = case / "alerts.json"
    result = CliRunner().invoke(app, ["detect", str(case / "events.csv"), "--context", str(case / "context"),
                                      "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = read_alert_report(out)
    assert report.alerts[0].user_id == "h1-doc2"
    assert [a.score for a in report.alerts] == sorted((a.score for a in report.alerts), reverse=True)
    assert json.loads(out.read_text())["alerts"][0]["reasons"][0]["event_ids"]


def test_detect_html_has_reasons_and_a_timeline_per_alert(case: Path) -> None:
    out = case / "alerts.html"
    result = CliRunner().invoke(app, ["detect", str(case / "events.csv"), "--context", str(case / "context"),
                                      "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "h1-doc2" in html and "<svg" in html and "unexplained_fresh_deaths" in html


def test_detect_bad_input_exits_2_without_traceback(case: Path) -> None:
    bad = case / "bad.csv"
    bad.write_text("event_id,time,user_id,role,org_id,action\na1,not-a-time,u,nurse,h1,read\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["detect", str(bad), "--context", str(case / "context")])
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["detect", str(bad), "--context", str(case / "context"), "--since", "2025"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["detect", str(bad), "--context", str(case / "context"), "--skip-invalid",
                                      "--format", "json", "--out", str(case / "a.json")])
    assert result.exit_code == 0, result.output
    assert read_alert_report(case / "a.json").events_invalid == 1


def test_trace_ranks_the_broker_first_and_names_the_handle_holder(case: Path) -> None:
    out = case / "trace.json"
    result = CliRunner().invoke(app, [
        "trace", "--complaints", str(case / "complaints.csv"), "--events", str(case / "events.csv"),
        "--context", str(case / "context"), "--handles", str(case / "handles.csv"), "--format", "json",
        "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = read_trace_report(out)
    users = [s for s in report.suspects if s.kind == "user"]
    assert users[0].id == "h1-doc2"
    assert users[0].victims_accessed == 20 and users[0].p_value is not None and users[0].p_value < 1e-6
    assert users[0].expected is not None and users[0].expected < 20
    holder = next(s for s in report.suspects if s.kind == "handle_holder")
    assert (holder.id, holder.handles, holder.score) == ("h2-doc4", ("vh-777",), 1.0)
    assert report.complaints == 21


def test_a_call_to_a_canary_names_whoever_opened_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from piguard.interchange.context import SubjectRow
    from tests.unit.detect.world import T0

    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=5, staff_per_org=5)
    w.subjects.append(SubjectRow(subject_id="decoy1", death_time=T0, district="310112", is_canary=True))
    eid = w.event("h2-doc3", T0 + timedelta(days=1), subject="decoy1", fields=("relative.phone",))
    write_complaints(tmp_path / "complaints.csv", [
        Complaint(subject_id="decoy1", call_time=T0 + timedelta(days=3)),
        Complaint(subject_id=fresh_subjects(w)[0].subject_id, call_time=T0 + timedelta(days=3))])
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.jsonl", w.events)
    out = tmp_path / "trace.json"
    result = CliRunner().invoke(app, [
        "trace", "--complaints", str(tmp_path / "complaints.csv"), "--events", str(tmp_path / "events.jsonl"),
        "--context", str(tmp_path / "context"), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = read_trace_report(out)
    assert report.canary_calls == 1
    first = report.suspects[0]
    assert (first.kind, first.id, first.score, first.event_ids) == ("user", "h2-doc3", 1.0, (eid,))
