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


def _detect(case: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["detect", str(case / "events.csv"), "--context", str(case / "context"), *args])


def test_detect_table_is_the_default_and_names_the_reasons(case: Path) -> None:
    result = _detect(case)
    assert result.exit_code == 0, result.output
    assert "alert(s) from" in result.output and "h1-doc2" in result.output
    assert "unexplained_fresh_deaths" in result.output
    out = case / "alerts.txt"
    assert _detect(case, "--format", "table", "--out", str(out)).exit_code == 0
    assert "h1-doc2" in out.read_text()


def test_detect_html_shows_every_alert_with_its_reasons_and_own_timeline(case: Path) -> None:
    out = case / "report.html"
    assert _detect(case, "--format", "html", "--out", str(out)).exit_code == 0
    html = out.read_text()
    json_out = case / "alerts.json"
    assert _detect(case, "--format", "json", "--out", str(json_out)).exit_code == 0
    report = read_alert_report(json_out)
    assert report.alerts
    assert html.count('<div class="alert ') == len(report.alerts)
    assert html.count("<svg") == len(report.alerts)
    assert html.count("<circle") > len(report.alerts)  # the timelines have points
    for alert in report.alerts:
        assert alert.user_id in html
        for reason in alert.reasons:
            assert reason.detector in html
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained


def test_detect_usage_errors_exit_2(case: Path) -> None:
    for args in (["--format", "xml"], ["--engine", "oracle"], ["--min-score", "2"],
                 ["--since", "2025-03-05T00:00:00"]):
        result = _detect(case, *args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["detect", str(case / "nope.jsonl"), "--context", str(case / "context")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_since_reads_only_new_events_and_keeps_the_baseline_in_the_data_directory(case: Path) -> None:
    first = case / "first.json"
    assert _detect(case, "--format", "json", "--out", str(first)).exit_code == 0
    history = case / "var" / "detect" / "history.parquet"
    assert history.exists()
    import pyarrow.parquet as pq

    days_before = set(pq.read_table(history).column("day").to_pylist())
    later = case / "later.json"
    result = _detect(case, "--format", "json", "--out", str(later), "--since", "2025-03-10T00:00:00+00:00")
    assert result.exit_code == 0, result.output
    assert 0 < read_alert_report(later).events_read < read_alert_report(first).events_read
    assert set(pq.read_table(history).column("day").to_pylist()) == days_before  # earlier days kept


def test_skip_invalid_writes_a_private_quarantine_in_the_data_directory(case: Path) -> None:
    text = (case / "events.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    bad = dict.fromkeys(header, "")
    bad.update({"event_id": "bad-1", "time": "yesterday", "user_id": "h1-doc0", "role": "physician",
                "org_id": "h1", "action": "read"})
    (case / "events.csv").write_text("\n".join([*text, ",".join(bad[h] for h in header)]) + "\n", encoding="utf-8")
    refused = _detect(case)
    assert refused.exit_code == 2 and f"{case / 'events.csv'}:{len(text) + 1}" in refused.output
    out = case / "a.json"
    result = _detect(case, "--skip-invalid", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 invalid event row(s) quarantined" in result.output
    assert read_alert_report(out).events_invalid == 1
    [quarantine] = (case / "var" / "detect").glob("quarantine-*.jsonl")
    assert quarantine.stat().st_mode & 0o077 == 0
    row = json.loads(quarantine.read_text())
    assert row["where"] == f"{case / 'events.csv'}:{len(text) + 1}" and "time" in row["reason"]


def test_evaluate_reports_recall_auc_time_to_detect_and_the_rules_baseline(tmp_path: Path) -> None:
    from datetime import timedelta

    from piguard.interchange.labels import Label, MaliciousEvent, write_labels, write_malicious_events
    from tests.unit.detect.world import T0

    w = hospital_world(days=12, staff_per_org=6)
    bad: list[str] = []
    for s in fresh_subjects(w)[30:50]:
        assert s.death_time is not None
        bad.append(w.event("h1-doc2", s.death_time + timedelta(hours=1), subject=s.subject_id,
                           fields=("relative.phone",)))
    first = min(e.time for e in w.events if e.event_id in bad)
    lab = tmp_path / "sim"
    write_context(lab / "context", w.context())
    write_events(lab / "events.jsonl", w.events)
    write_labels(lab / "labels.csv", [Label(user_id="h1-doc2", scenario="minhang_broker", first_malicious_time=first)])
    write_malicious_events(lab / "malicious_events.csv", [MaliciousEvent(event_id=e, scenario="minhang_broker")
                                                          for e in bad])
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(lab), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["budget"] == 1 + 1  # ceil(12 users / 1000 * 12 days / 7) + 1 insider
    mine = report["piguard"]
    assert (mine["recall"], mine["roc_auc"]) == (1.0, 1.0)
    broker = mine["per_scenario"]["minhang_broker"]
    # Replayed day by day: found on the first day, after at most that day's records.
    assert broker["detected_in_replay"] == 1
    assert broker["median_days_to_detect"] is not None and broker["median_days_to_detect"] <= 1.0
    assert 1 <= broker["malicious_records_before_first_alert"] <= 6  # Hospital Two has 6 deaths a day
    assert "rules_baseline" in report and report["rules_baseline"]["roc_auc"] <= mine["roc_auc"]
    assert first >= T0
    quick = CliRunner().invoke(app, ["evaluate", "--labels", str(lab), "--no-replay"])
    assert quick.exit_code == 0 and json.loads(quick.output)["piguard"]["per_scenario"]["minhang_broker"][
        "detected_in_replay"] is None
    missing = CliRunner().invoke(app, ["evaluate", "--labels", str(tmp_path)])
    assert missing.exit_code == 2


def test_trace_says_how_many_called_handles_it_could_not_name(case: Path) -> None:
    complaints = case / "complaints.csv"
    # One call on a number the system never issued; vh-777 is in handles.csv.
    complaints.write_text(complaints.read_text() + "s00001,2025-03-10T08:00:00+08:00,,vh-999\n", encoding="utf-8")
    args = ["trace", "--complaints", str(complaints), "--events", str(case / "events.csv"), "--format", "json"]
    result = CliRunner().invoke(app, [*args, "--handles", str(case / "handles.csv")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["unknown_handles"] == 1
    assert "1 complaint(s)" in result.stderr and "never issued" in result.stderr
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unknown_handles"] == 2
    assert "2 complaint(s)" in result.stderr and "--handles" in result.stderr


def _labelled(tmp_path: Path, labels: str) -> Path:
    w = hospital_world(days=5, staff_per_org=5)
    lab = tmp_path / "sim"
    write_context(lab / "context", w.context())
    write_events(lab / "events.jsonl", w.events)
    (lab / "labels.csv").write_text("user_id,scenario,first_malicious_time\n" + labels, encoding="utf-8")
    (lab / "malicious_events.csv").write_text("event_id,scenario\n", encoding="utf-8")
    return lab


def test_evaluate_names_a_labelled_user_that_does_not_exist(tmp_path: Path) -> None:
    lab = _labelled(tmp_path, "h1-doc1,minhang_broker,2025-03-03T08:00:00+08:00\n"
                              "ghost,minhang_broker,2025-03-03T08:00:00+08:00\n")
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(lab), "--no-replay"])
    assert result.exit_code == 2
    assert f"{lab / 'labels.csv'}:3" in result.stderr and "user_id" in result.stderr
    assert "Traceback" not in result.output


def test_evaluate_counts_an_insider_in_every_scenario_labelled(tmp_path: Path) -> None:
    lab = _labelled(tmp_path, "h1-doc1,minhang_broker,2025-03-03T08:00:00+08:00\n"
                              "h1-doc1,neighbour,2025-03-04T08:00:00+08:00\n")
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(lab), "--no-replay"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["insiders"] == 1
    assert set(report["piguard"]["per_scenario"]) == {"minhang_broker", "neighbour"}


@pytest.mark.parametrize(("field", "value"), [
    ("time", "2025-03-03"),  # a date only was read as midnight UTC, silently
    ("time", 1741000000),    # a Unix time was guessed to be seconds
    ("user_id", 1234),       # a number where the contract says string
])
def test_detect_names_file_line_and_field_of_what_other_systems_send(case: Path, field: str,
                                                                     value: object) -> None:
    from piguard.interchange.events import read_events

    rows = [e.to_record() for e in read_events(case / "events.csv")]
    rows[4][field] = value
    path = case / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["detect", str(path), "--context", str(case / "context"), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert f"{path}:5: field '{field}'" in result.stderr and "Traceback" not in result.output
