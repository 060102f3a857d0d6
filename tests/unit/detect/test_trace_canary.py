"""Leak tracing: canary openers keep their real statistics; only accesses before the call count."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.detect.trace import HandleRow, TraceOptions, trace
from piguard.interchange.alerts import Suspect, TraceReport, read_trace_report
from piguard.interchange.context import SubjectRow
from piguard.interchange.events import write_events
from piguard.interchange.labels import Complaint
from tests.unit.detect.world import T0, fresh_subjects, hospital_world

_CALL = datetime.fromisoformat("2025-03-10T10:00:00+08:00")


def _users(report: TraceReport) -> dict[str, Suspect]:
    return {s.id: s for s in report.suspects if s.kind == "user"}


def test_a_canary_opener_keeps_every_victim_and_the_evidence_of_each(tmp_path: Path) -> None:
    w = hospital_world(days=12, staff_per_org=6)
    w.subjects.append(SubjectRow(subject_id="decoy1", death_time=T0, district="310112", is_canary=True))
    victims = fresh_subjects(w)[5:13]
    complaints = []
    for s in victims:
        assert s.death_time is not None
        w.event("h1-doc2", s.death_time + timedelta(hours=1), subject=s.subject_id, fields=("relative.phone",))
        complaints.append(Complaint(subject_id=s.subject_id, call_time=s.death_time + timedelta(days=2)))
    decoy_event = w.event("h1-doc2", T0 + timedelta(days=6), subject="decoy1", fields=("relative.phone",))
    complaints.append(Complaint(subject_id="decoy1", call_time=T0 + timedelta(days=7)))
    write_events(tmp_path / "events.jsonl", w.events)

    plain = _users(trace(complaints=complaints, events=[tmp_path / "events.jsonl"]))["h1-doc2"]
    with_canary = trace(
        complaints=complaints,
        events=[tmp_path / "events.jsonl"],
        options=TraceOptions(canary_subjects=frozenset({"decoy1"})),
    )
    broker = with_canary.suspects[0]
    assert (broker.kind, broker.id, broker.score) == ("user", "h1-doc2", 1.0)
    assert broker.victims_accessed == plain.victims_accessed == 9
    assert (broker.expected, broker.p_value) == (plain.expected, plain.p_value)
    assert broker.event_ids[0] == decoy_event  # the proof leads the evidence
    assert set(broker.event_ids) == set(plain.event_ids) and len(broker.event_ids) == 9
    assert [s.id for s in with_canary.suspects].count("h1-doc2") == 1


def _case(tmp_path: Path) -> tuple[Path, Path]:
    """The canary ``sc`` is opened by ``ubad`` before the call, and by ``uinv`` after it."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "users.csv").write_text(
        "user_id,role,org_id,district,active_from\n"
        "ubad,physician,o1,310112,2024-01-01T00:00:00+08:00\n"
        "uold,physician,o1,310112,2024-01-01T00:00:00+08:00\n"
        "uinv,privacy_officer,o2,310112,2024-01-01T00:00:00+08:00\n",
        encoding="utf-8",
    )
    (ctx / "subjects.csv").write_text(
        "subject_id,death_time,district,is_canary\n"
        "sc,2025-01-01T00:00:00+08:00,310112,1\ns2,2025-03-01T00:00:00+08:00,310112,0\n",
        encoding="utf-8",
    )
    rows = [
        ("e1", "2025-03-02T10:00:00+08:00", "ubad", "physician", "o1", "sc", "t-bad"),
        ("e2", "2025-03-20T10:00:00+08:00", "uinv", "privacy_officer", "o2", "sc", "t-inv"),
        ("e3", "2025-03-02T11:00:00+08:00", "ubad", "physician", "o1", "s2", "t-bad"),
        # Forty days before the call: outside the 30-day window the statistics use.
        ("e4", "2025-01-29T10:00:00+08:00", "uold", "physician", "o1", "sc", "t-old"),
    ]
    events = tmp_path / "ev.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "event_id": e,
                    "time": t,
                    "user_id": u,
                    "role": r,
                    "org_id": o,
                    "action": "read",
                    "subject_id": s,
                    "terminal_id": term,
                    "fields": ["relative.phone"],
                }
            )
            + "\n"
            for e, t, u, r, o, s, term in rows
        ),
        encoding="utf-8",
    )
    return events, ctx


def test_only_openings_of_a_canary_before_the_call_and_within_the_window_name_a_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    events, ctx = _case(tmp_path)
    complaints = tmp_path / "complaints.csv"
    complaints.write_text(f"subject_id,call_time\nsc,{_CALL.isoformat()}\n", encoding="utf-8")
    out = tmp_path / "trace.json"
    result = CliRunner().invoke(
        app,
        [
            "trace",
            "--complaints",
            str(complaints),
            "--events",
            str(events),
            "--context",
            str(ctx),
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = read_trace_report(out)
    assert report.canary_calls == 1
    assert [(s.kind, s.id, s.score, s.event_ids) for s in report.suspects if s.score == 1.0] == [
        ("user", "ubad", 1.0, ("e1",))
    ]
    named = {s.id for s in report.suspects}
    assert not named & {"uinv", "t-inv", "uold", "t-old"}
    # A wider window reaches the old opening too; the investigator after the call stays out.
    wider = trace(
        complaints=[Complaint(subject_id="sc", call_time=_CALL)],
        events=[events],
        options=TraceOptions(window_days=60, canary_subjects=frozenset({"sc"})),
    )
    assert sorted(s.id for s in wider.suspects if s.kind == "user" and s.score == 1.0) == ["ubad", "uold"]


def test_a_handle_issued_after_the_call_names_no_holder(tmp_path: Path) -> None:
    events, _ = _case(tmp_path)
    handles = [
        HandleRow(handle="vh-1", user_id="ubad", subject_id="s2", issued_at=_CALL - timedelta(days=8)),
        HandleRow(handle="vh-2", user_id="uinv", subject_id="s2", issued_at=_CALL + timedelta(days=10)),
    ]
    complaints = [
        Complaint(subject_id="s2", call_time=_CALL, handle="vh-1"),
        Complaint(subject_id="sc", call_time=_CALL, handle="vh-2"),
    ]
    report = trace(complaints=complaints, events=[events], handles=handles)
    holders = [(s.id, s.handles) for s in report.suspects if s.kind == "handle_holder"]
    assert holders == [("ubad", ("vh-1",))]
    assert report.unknown_handles == 0
