"""Times shown to people are in the events' own offset (or --timezone); JSON times are unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.detect import Options, run_detection
from piguard.detect.report import render_html
from piguard.detect.zones import parse_zone, zone_label
from piguard.errors import InputError
from piguard.interchange.context import SubjectRow, write_context
from piguard.interchange.events import write_events
from tests.unit.detect.world import T0, World, hospital_world

CST = timezone(timedelta(hours=8))
# 04:48 on 10 March in Shanghai is 20:48 on 9 March in UTC.
EARLY = datetime(2025, 3, 10, 4, 48, tzinfo=CST)


def _shanghai_world() -> tuple[World, str]:
    w = hospital_world(days=10, staff_per_org=4)
    w.subjects.append(SubjectRow(subject_id="canary1", death_time=T0, district="310112", is_canary=True))
    eid = w.event("h1-doc1", EARLY, subject="canary1")
    # The log as a Shanghai system writes it: every time with +08:00.
    w.events = [e.model_copy(update={"time": e.time.astimezone(CST)}) for e in w.events]
    return w, eid


def test_notice_and_html_use_the_events_offset_and_json_keeps_utc() -> None:
    w, eid = _shanghai_world()
    run = run_detection(w.events, w.context(), options=Options(timelines=True))
    alert = next(a for a in run.report.alerts if a.user_id == "h1-doc1")
    assert alert.notice is not None and "on 2025-03-10" in alert.notice  # not 2025-03-09 (UTC)
    assert alert.first_event_time == EARLY.astimezone(UTC)  # the JSON keeps its instants as before
    assert run.display.label == "UTC+08:00 (the events' own offset)"
    html = render_html(run)
    assert "Times are shown in UTC+08:00 (the events&#39; own offset)" in html
    assert "2025-03-10T04:48+08:00" in html
    # The red (flagged) mark sits at 04:48 on the time-of-day axis, not at 20:48.
    y = 10 + (120 - 30) * (4 * 60 + 48) / 1440
    assert f'cy="{y:.1f}" r="2.5" fill="#c00"' in html
    assert eid in {e for f in run.findings["h1-doc1"] for e in f.event_ids}


def test_cli_table_dates_follow_the_offset_and_timezone_overrides(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    w, _ = _shanghai_world()
    write_context(tmp_path / "context", w.context())
    write_events(tmp_path / "events.jsonl", w.events)
    args = ["detect", str(tmp_path / "events.jsonl"), "--context", str(tmp_path / "context")]
    table = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "t.txt")])
    assert table.exit_code == 0, table.output
    text = (tmp_path / "t.txt").read_text(encoding="utf-8")
    assert "2025-03-10" in text and "2025-03-09" not in text and "dates in UTC+08:00" in text
    utc = CliRunner().invoke(app, [*args, "--timezone", "UTC", "--format", "json", "--out", str(tmp_path / "a.json")])
    assert utc.exit_code == 0, utc.output
    alert = next(a for a in json.loads((tmp_path / "a.json").read_text())["alerts"] if a["user_id"] == "h1-doc1")
    assert "on 2025-03-09" in alert["notice"]  # asked for UTC
    assert alert["first_event_time"].startswith("2025-03-09T20:48:00")
    bad = CliRunner().invoke(app, [*args, "--timezone", "Mars/Olympus"])
    assert bad.exit_code == 2 and "--timezone" in bad.output


def test_parse_zone_and_labels() -> None:
    assert zone_label(parse_zone("+08:00")) == "UTC+08:00"
    assert zone_label(parse_zone("-0530")) == "UTC-05:30"
    assert zone_label(parse_zone("Z")) == "UTC" == zone_label(parse_zone("utc"))
    assert parse_zone("Asia/Shanghai") == ZoneInfo("Asia/Shanghai")
    with pytest.raises(InputError):
        parse_zone("+25:00")


def test_mixed_offsets_use_the_most_common_and_say_so() -> None:
    w, _ = _shanghai_world()
    w.events[0] = w.events[0].model_copy(update={"time": w.events[0].time.astimezone(UTC)})
    run = run_detection(w.events, w.context())
    assert run.display.label == "UTC+08:00 (the events' most common offset; they carry several)"


def _offsets(path: Path, tmp_path: Path) -> tuple[int, dict[str, int | None]]:
    from piguard.detect.load import connect, load_events

    con = connect()
    stats = load_events(con, [path], skip_invalid=True, quarantine=tmp_path / "q.jsonl")
    return stats.exact_reads, dict(con.execute("SELECT event_id, utc_offset FROM events").fetchall())


def test_both_reading_paths_keep_the_same_offset_of_each_time(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    times = {
        "a": "2025-03-01T08:15:00+08:00",
        "b": "2025-03-01T08:15+0800",
        "c": "2025-03-01T08:15:00.5-05:30",
        "d": "2025-03-01 08:15:00Z",
        "e": "2025-03-01T08:15:00-03",
    }
    want = {"a": 480, "b": 480, "c": -330, "d": 0, "e": -180}
    rows = [
        {"event_id": k, "time": t, "user_id": "u1", "role": "nurse", "org_id": "h1", "action": "read"}
        for k, t in times.items()
    ]
    fast, slow = tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"
    fast.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    slow.write_text(fast.read_text() + '{"event_id": "bad"}\n', encoding="utf-8")  # sends it to the exact reader
    assert _offsets(fast, tmp_path) == (0, want)
    assert _offsets(slow, tmp_path) == (1, want)
    # Parquet timestamps with a zone: the zone is the column type's (fixed or named).
    at = datetime(2025, 3, 1, tzinfo=UTC)
    for zone, minutes in (("+08:00", 480), ("Asia/Shanghai", 480), ("UTC", 0), ("America/New_York", -300)):
        table = pa.table(
            {
                "event_id": ["p1"],
                "time": pa.array([at], pa.timestamp("us", tz=zone)),
                "user_id": ["u1"],
                "role": ["nurse"],
                "org_id": ["h1"],
                "action": ["read"],
            }
        )
        path = tmp_path / "p.parquet"
        pq.write_table(table, path)
        assert _offsets(path, tmp_path) == (0, {"p1": minutes}), zone
        pq.write_table(pa.concat_tables([table, table]), path)  # a repeated id: exact reader
        assert _offsets(path, tmp_path)[1] == {"p1": minutes}, zone
