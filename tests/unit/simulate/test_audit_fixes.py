"""Defects found by the outside audit of the simulator (issue 5), one test each."""

from __future__ import annotations

import bisect
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.simulate.city import build_city
from piguard.simulate.engine import simulate
from piguard.simulate.scenarios import run_scenarios
from piguard.simulate.workflows import index_deaths
from piguard.simulate.world import build_world

from .conftest import DAYS, SEED, Run

SLACK = timedelta(minutes=30)


def _report_created(run: Run) -> dict[str, datetime]:
    return {
        e.subject_id: e.time
        for e in run.events
        if e.action == "create" and e.resource_type == "death_report" and e.subject_id
    }


def test_stays_admitted_before_the_period_keep_their_team(demo_run: Run) -> None:
    city = build_city(seed=SEED, scale="demo", days=DAYS)
    early = [
        d for d in city.deaths if d.admission_time is not None and d.admission_time < city.start and not d.is_canary
    ]
    assert early, "the run should hold hospital stays admitted before the period"
    deaths = index_deaths(build_world(city))
    index = {d.subject_id: k for k, d in enumerate(city.deaths)}
    assert all(deaths.admitted[index[d.subject_id]] for d in early)
    attending = {(r.user_id, r.subject_id) for r in demo_run.context.relationships if r.kind == "attending"}
    charts = {e.subject_id for e in demo_run.events if e.resource_type == "encounter"}
    for death in early:
        assert all((u, death.subject_id) in attending for u in death.attending_ids)
    assert sum(d.subject_id in charts for d in early) >= 0.8 * len(early)


def test_reports_are_read_only_after_they_are_created(demo_run: Run) -> None:
    created = _report_created(demo_run)
    early = [
        e
        for e in demo_run.events
        if e.event_id not in demo_run.malicious
        and e.resource_type in ("death_report", "contact")
        and e.action != "create"
        and e.subject_id in created
        and e.time < created[e.subject_id]
    ]
    assert early == []


def test_families_listed_with_their_phones_get_no_decoy_complaint() -> None:
    city = build_city(seed=SEED, scale="demo", days=DAYS)
    w = build_world(city)
    outcome = run_scenarios(w, index_deaths(w), ("bulk_export",), seed=SEED)
    listed = {s for query, _, ids in outcome.extras if "relatives" in query for s in ids}
    assert listed
    touched = {w.death_ids[k] for k in outcome.touched}
    assert listed <= touched
    assert not listed & {subject for subject, _, _ in outcome.complaints}


def _shifts(run: Run) -> dict[str, list[tuple[datetime, datetime]]]:
    out: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for s in run.context.shifts:
        out[s.user_id].append((s.start, s.end))
    for rows in out.values():
        rows.sort()
    return out


def test_death_work_happens_on_shift_in_a_logged_in_session(demo_run: Run) -> None:
    shifts = _shifts(demo_run)
    sessions = {e.session_id for e in demo_run.events if e.action == "login"}
    start = min(e.time for e in demo_run.events) + timedelta(hours=12)
    checked = 0
    for e in demo_run.events:
        legit = e.event_id not in demo_run.malicious and e.time > start
        death_work = e.resource_type in ("death_report", "encounter", "dispatch") and e.role in (
            "physician",
            "nurse",
            "funeral_clerk",
            "dispatcher",
        )
        if not (legit and death_work):
            continue
        rows = shifts[e.user_id]
        k = bisect.bisect_right(rows, (e.time, e.time)) - 1
        assert k >= 0 and rows[k][0] - SLACK <= e.time <= rows[k][1] + SLACK, e
        assert e.session_id in sessions, e
        checked += 1
    assert checked > 1000


def test_canary_ids_follow_the_time_of_death(demo_run: Run) -> None:
    deaths = sorted((s for s in demo_run.context.subjects if s.death_time), key=lambda s: s.subject_id)
    times = [s.death_time for s in deaths]
    assert times == sorted(times)  # type: ignore[type-var]
    assert any(s.is_canary for s in deaths)


def test_living_stays_list_each_team_member_once(demo_run: Run) -> None:
    rows = [
        (r.user_id, r.subject_id, r.kind, r.valid_from, r.valid_to)
        for r in demo_run.context.relationships
        if r.subject_id.startswith("pi")
    ]
    assert rows and len(rows) == len(set(rows))


def test_a_scenario_without_labels_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = simulate(out=tmp_path / "run", seed=3, days=1, scenarios=("slow_and_low", "canary_hit"))
    missing = manifest["scenarios_without_labels"]
    assert "slow_and_low" in missing
    assert all(name not in manifest["malicious_events_per_scenario"] for name in missing)
    err = capsys.readouterr().err
    assert all(f"'{name}'" in err for name in missing)


def test_sigterm_leaves_no_partial_directory(tmp_path: Path) -> None:
    code = (
        "import os, signal; from pathlib import Path; from piguard.simulate.engine import simulate\n"
        "def stop(day, events):\n"
        "    if day == 2: os.kill(os.getpid(), signal.SIGTERM)\n"
        f"simulate(out=Path({str(tmp_path / 'run')!r}), days=6, progress=stop)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, check=False)
    assert done.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_a_file_as_output_is_named_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", "--out", str(target), "--days", "1"])
    assert result.exit_code == 2
    assert "is a file" in result.output and "not empty" not in result.output


def test_dispatch_rota_staffs_every_phase() -> None:
    city = build_city(seed=SEED, scale="demo", days=DAYS)
    offsets = {s.roster.offset for s in city.staff if s.role == "dispatcher"}
    assert offsets == {0, 1, 2, 3}
