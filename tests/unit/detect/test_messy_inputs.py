"""What other systems' audit exporters really send, end to end: every row is accounted for."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.detect import Options, run_detection
from piguard.interchange.alerts import AlertReport, read_alert_report, read_trace_report
from piguard.interchange.context import ShiftRow, SubjectRow, UserRow, write_context
from piguard.interchange.events import AccessEvent, write_events
from piguard.interchange.labels import Complaint, write_complaints
from tests.unit.detect.world import T0, World, fresh_subjects, hospital_world

CST = timezone(timedelta(hours=8))


def _world() -> World:
    w = hospital_world(days=6, staff_per_org=5)
    for s in fresh_subjects(w)[3:12]:  # a broker reading fresh deaths at the other hospital
        assert s.death_time is not None
        w.event("h1-doc3", s.death_time + timedelta(hours=2), subject=s.subject_id, fields=("relative.phone",))
    return w


def _with_duplicates(tmp_path: Path, w: World) -> Path:
    """The events as two daily files of one export, the second repeating three of the first's rows."""
    export = tmp_path / "export"
    half = len(w.events) // 2
    write_events(export / "day1.jsonl", w.events[:half])
    write_events(export / "day2.csv", [*w.events[half - 3 : half], *w.events[half:]])
    return export


def _summary(report: AlertReport) -> list[tuple[object, ...]]:
    return [(a.user_id, a.score, a.severity, [(r.detector, r.event_ids) for r in a.reasons]) for a in report.alerts]


def test_cli_skip_invalid_quarantines_duplicates_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = _world()
    write_context(tmp_path / "context", w.context())
    export = _with_duplicates(tmp_path, w)
    args = ["detect", str(export), "--context", str(tmp_path / "context"), "--format", "json"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert (
        f"{export / 'day2.csv'}:2: field 'event_id': duplicate of the event at {export / 'day1.jsonl'}:"
        in refused.stderr
    )
    out, quarantine = tmp_path / "alerts.json", tmp_path / "q.jsonl"
    result = CliRunner().invoke(app, [*args, "--skip-invalid", "--quarantine", str(quarantine), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 invalid event row(s) quarantined" in result.stderr and "3 of them repeating" in result.stderr
    report = read_alert_report(out)
    assert (report.input_rows, report.events_read, report.events_invalid, report.events_duplicate) == (
        len(w.events) + 3,
        len(w.events),
        3,
        3,
    )
    assert [json.loads(line)["where"] for line in quarantine.read_text().splitlines()] == [
        f"{export / 'day2.csv'}:{n}" for n in (2, 3, 4)
    ]
    # The same alerts as the clean log gives.
    assert _summary(report) == _summary(run_detection(w.events, w.context()).report)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_duplicates_are_quarantined_alike_for_both_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("PIGUARD_SPARK_PARTITIONS", "1")
    monkeypatch.setenv("PIGUARD_SPARK_MASTER", "local[1]")
    w = _world()
    # A 24-hour duty from 07:30+08:00 touches three UTC days; nothing in it is off shift.
    w.users.append(
        UserRow(user_id="h1-emt", role="physician", org_id="h1", district="310112", active_from=T0 - timedelta(days=30))
    )
    for day in range(6):
        start = datetime(2025, 3, 3, 7, 30, tzinfo=CST) + timedelta(days=day)
        w.shifts.append(ShiftRow(user_id="h1-emt", start=start, end=start + timedelta(hours=24)))
    for day in range(3):
        w.event(
            "h1-emt",
            datetime(2025, 3, 3, 20, 0, tzinfo=CST) + timedelta(days=day),
            subject=fresh_subjects(w)[20 + day].subject_id,
        )
    write_context(tmp_path / "context", w.context())
    export = _with_duplicates(tmp_path, w)
    runs = {
        engine: run_detection(
            [export],
            tmp_path / "context",
            options=Options(engine=engine),
            skip_invalid=True,
            quarantine=tmp_path / f"q-{engine}.jsonl",
        )
        for engine in ("duckdb", "spark")
    }
    duck, spark = runs["duckdb"].report, runs["spark"].report
    assert _summary(duck) == _summary(spark)
    for report in (duck, spark):
        assert (report.events_read, report.events_invalid, report.events_duplicate) == (len(w.events), 3, 3)
    assert (tmp_path / "q-duckdb.jsonl").read_text() == (tmp_path / "q-spark.jsonl").read_text()
    for run in runs.values():
        flagged = {f.detector for f in run.findings["h1-emt"]}
        assert "unexplained_access" in flagged and "off_shift" not in flagged


def test_a_24_hour_duty_crossing_two_utc_midnights_is_on_shift() -> None:
    w = hospital_world(days=6, staff_per_org=5)
    w.users.append(
        UserRow(user_id="h1-emt", role="physician", org_id="h1", district="310112", active_from=T0 - timedelta(days=30))
    )
    for day in range(6):
        start = datetime(2025, 3, 3, 7, 30, tzinfo=CST) + timedelta(days=day)
        w.shifts.append(ShiftRow(user_id="h1-emt", start=start, end=start + timedelta(hours=24)))
    # 20:00+08:00 (12:00Z) is inside the duty that began at 07:30+08:00 (23:30Z the day before).
    inside = [
        w.event(
            "h1-emt",
            datetime(2025, 3, 3, 20, 0, tzinfo=CST) + timedelta(days=d),
            subject=fresh_subjects(w)[d].subject_id,
        )
        for d in range(3)
    ]
    # A 22:00-06:00 night shift: 03:00 is on it, 12:00 the next day is not.
    w.shifts.append(
        ShiftRow(
            user_id="h1-doc1", start=datetime(2025, 3, 5, 22, 0, tzinfo=CST), end=datetime(2025, 3, 6, 6, 0, tzinfo=CST)
        )
    )
    night = w.event("h1-doc1", datetime(2025, 3, 6, 3, 0, tzinfo=CST), subject=fresh_subjects(w)[9].subject_id)
    run = run_detection(w.events, w.context())
    emt = {f.detector: f.event_ids for f in run.findings["h1-emt"]}
    assert set(inside) <= set(emt["unexplained_access"]) and "off_shift" not in emt
    doc = {f.detector: f.event_ids for f in run.findings.get("h1-doc1", [])}
    assert night in doc["unexplained_access"] and night not in doc.get("off_shift", ())


def test_events_of_users_missing_from_the_users_table_are_analysed_and_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = _world()
    ghost_events = [
        AccessEvent.model_validate(
            {
                "event_id": f"g{k}",
                "time": T0 + timedelta(days=2, hours=k),
                "user_id": "contractor-9",
                "role": "admin",
                "org_id": "h2",
                "action": "read",
                "subject_id": fresh_subjects(w)[20 + k].subject_id,
                "fields": ["relative.phone"],
            }
        )
        for k in range(4)
    ]
    w.events.extend(ghost_events)
    ctx = w.context()
    write_context(tmp_path / "context", ctx)
    write_events(tmp_path / "events.csv", w.events)
    out = tmp_path / "a.json"
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(tmp_path / "events.csv"),
            "--context",
            str(tmp_path / "context"),
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 user(s) with events have no row in the users table" in result.stderr
    report = read_alert_report(out)
    assert report.users_unknown == 1 and report.events_read == report.input_rows == len(w.events)
    ghost = next(a for a in report.alerts if a.user_id == "contractor-9")
    detectors = {r.detector: set(r.event_ids) for r in ghost.reasons}
    assert detectors["unexplained_access"] == {"g0", "g1", "g2", "g3"}


@pytest.mark.parametrize(
    ("word", "canary"),
    [("yes", True), ("TRUE", True), ("1", True), (" true ", True), ("no", False), ("", False), ("0", False)],
)
def test_is_canary_written_as_a_word_marks_a_canary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str, canary: bool
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=5, staff_per_org=5)
    w.subjects.append(SubjectRow(subject_id="decoy1", death_time=T0, district="310112"))
    w.event("h2-doc3", T0 + timedelta(days=1), subject="decoy1")
    write_context(tmp_path / "context", w.context())
    subjects = tmp_path / "context" / "subjects.csv"
    lines = subjects.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].rsplit(",", 1)[0] + f",{word}"
    subjects.write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_events(tmp_path / "events.jsonl", w.events)
    out = tmp_path / "a.json"
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(tmp_path / "events.jsonl"),
            "--context",
            str(tmp_path / "context"),
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    hit = [a for a in read_alert_report(out).alerts if any(r.detector == "canary_access" for r in a.reasons)]
    assert [a.user_id for a in hit] == (["h2-doc3"] if canary else [])


def test_a_bad_context_cell_is_named_by_file_line_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = hospital_world(days=2, staff_per_org=2)
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.jsonl", w.events)
    relationships = tmp_path / "context" / "relationships.csv"
    lines = relationships.read_text(encoding="utf-8").splitlines()
    user, subject, kind, start, end = lines[3].split(",")
    lines[3] = ",".join([user, subject, kind, end, start])  # valid_to before valid_from
    relationships.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for extra in ([], ["--skip-invalid"]):  # context rows are refused, never quarantined
        result = CliRunner().invoke(
            app, ["detect", str(tmp_path / "events.jsonl"), "--context", str(tmp_path / "context"), *extra]
        )
        assert result.exit_code == 2
        assert f"{relationships}:4: field 'valid_to': is before valid_from" in result.stderr
    subjects = tmp_path / "context" / "subjects.csv"
    subjects.write_text("subject_id,death_time,district,is_canary\ns1,,310112,maybe\n", encoding="utf-8")
    relationships.unlink()
    result = CliRunner().invoke(app, ["detect", str(tmp_path / "events.jsonl"), "--context", str(tmp_path / "context")])
    assert result.exit_code == 2 and f"{subjects}:2: field 'is_canary'" in result.stderr


def test_the_table_says_where_every_row_went(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = _world()
    write_context(tmp_path / "context", w.context())
    export = _with_duplicates(tmp_path, w)
    (export / "day3.jsonl").write_text('{"event_id": "x1", "time": "2025-03-08"}\n{not json\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(export),
            "--context",
            str(tmp_path / "context"),
            "--skip-invalid",
            "--since",
            "2025-03-05T00:00:00+00:00",
        ],
    )
    assert result.exit_code == 0, result.output
    before = sum(1 for e in w.events if e.time < datetime(2025, 3, 5, tzinfo=UTC))
    assert (
        f"{len(w.events) + 5} rows read: {len(w.events) - before} analysed, 5 quarantined, {before} before --since"
    ) in result.stdout


def test_trace_counts_and_announces_what_it_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    w = _world()
    export = _with_duplicates(tmp_path, w)
    victim = fresh_subjects(w)[3]
    assert victim.death_time is not None
    write_complaints(
        tmp_path / "complaints.csv",
        [Complaint(subject_id=victim.subject_id, call_time=victim.death_time + timedelta(days=1))],
    )
    args = ["trace", "--complaints", str(tmp_path / "complaints.csv"), "--events", str(export), "--format", "json"]
    assert CliRunner().invoke(app, args).exit_code == 2
    out, quarantine = tmp_path / "t.json", tmp_path / "tq.jsonl"
    result = CliRunner().invoke(app, [*args, "--skip-invalid", "--quarantine", str(quarantine), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"3 invalid event row(s) quarantined in {quarantine}" in result.stderr
    report = read_trace_report(out)
    assert (report.input_rows, report.events_read, report.events_invalid) == (len(w.events) + 3, len(w.events), 3)
    assert len(quarantine.read_text().splitlines()) == 3
