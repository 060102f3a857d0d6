"""The simulator's output is valid FORMATS.md, internally consistent and deterministic."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

from piguard.interchange.context import ORG_TYPES
from piguard.interchange.events import ACTIONS, ROLES
from piguard.simulate.engine import simulate
from piguard.simulate.scenarios import SCENARIOS
from tests.unit.simulate.conftest import Run, load


def test_files_and_manifest(demo_run: Run) -> None:
    names = sorted(p.relative_to(demo_run.out).as_posix() for p in demo_run.out.rglob("*")
                   if p.is_file())
    assert names == [
        "complaints.csv", "context/orgs.csv", "context/relationships.csv", "context/shifts.csv",
        "context/subjects.csv", "context/users.csv", "events.jsonl", "labels.csv",
        "malicious_events.csv", "manifest.json",
    ]
    m = demo_run.manifest
    assert m["seed"] == 11 and m["scale"] == "demo" and m["days"] == 30
    assert m["scenarios"] == list(SCENARIOS)
    assert m["counts"]["events"] == len(demo_run.events)
    assert m["counts"]["labels"] == len(demo_run.labels)
    assert m["counts"]["malicious_events"] == len(demo_run.malicious)
    assert m["counts"]["complaints"] == len(demo_run.complaints)


def test_events_are_valid_unique_and_time_ordered(demo_run: Run) -> None:
    events = demo_run.events
    assert len(events) > 20_000
    assert len({e.event_id for e in events}) == len(events)
    times = [e.time for e in events]
    assert times == sorted(times)
    assert {e.role for e in events} <= set(ROLES)
    assert {e.action for e in events} <= set(ACTIONS)
    assert all(e.time.utcoffset() is not None for e in events)
    start, end = times[0], times[-1]
    assert (end - start).days <= 30


def test_events_refer_to_known_users_orgs_and_subjects(demo_run: Run) -> None:
    ctx = demo_run.context
    users = {(u.user_id, u.org_id, u.role) for u in ctx.users}
    orgs = {o.org_id for o in ctx.orgs}
    subjects = {s.subject_id for s in ctx.subjects}
    assert {o.org_type for o in ctx.orgs} <= set(ORG_TYPES)
    for e in demo_run.events:
        assert (e.user_id, e.org_id, e.role) in users, e.event_id
        assert e.org_id in orgs
        if e.subject_id is not None:
            assert e.subject_id in subjects, e.event_id
        assert set(e.result_subject_ids) <= subjects


def test_transfers_give_consecutive_user_rows(demo_run: Run) -> None:
    rows: dict[str, list] = {}
    for u in demo_run.context.users:
        rows.setdefault(u.user_id, []).append(u)
    for history in rows.values():
        history.sort(key=lambda u: u.active_from)
        for before, after in itertools.pairwise(history):
            assert before.active_to == after.active_from
            assert before.org_id != after.org_id


def test_labels_are_consistent_with_malicious_events(demo_run: Run) -> None:
    by_id = demo_run.by_id()
    assert set(demo_run.malicious) <= set(by_id)
    assert set(demo_run.malicious.values()) == set(SCENARIOS)
    first: dict[tuple[str, str], object] = {}
    for event_id, scenario in demo_run.malicious.items():
        e = by_id[event_id]
        key = (e.user_id, scenario)
        first[key] = min(first.get(key, e.time), e.time)  # type: ignore[type-var]
    assert {(lab.user_id, lab.scenario): lab.first_malicious_time
            for lab in demo_run.labels} == first


def test_complaints_cover_broker_victims_and_decoys(demo_run: Run) -> None:
    by_id = demo_run.by_id()
    subjects = {s.subject_id: s for s in demo_run.context.subjects}
    broker_victims = {by_id[e].subject_id for e, s in demo_run.malicious.items()
                      if s == "minhang_broker"}
    touched = {by_id[e].subject_id for e in demo_run.malicious}
    complained = [c.subject_id for c in demo_run.complaints]
    assert all(subjects[s].death_time is not None for s in complained)
    from_broker = [s for s in complained if s in broker_victims]
    decoys = [s for s in complained if s not in touched]
    assert len(from_broker) >= 0.6 * len(broker_victims - {None})
    assert decoys, "complaints must include decoys unrelated to any insider"
    assert 0.15 <= len(decoys) / len(complained) <= 0.5
    for c in demo_run.complaints:
        death = subjects[c.subject_id].death_time
        assert death is not None and c.call_time > death
        assert 9 <= c.call_time.hour < 20


def test_naive_rule_flags_innocent_accesses_at_a_realistic_rate(demo_run: Run) -> None:
    # Naive rule: an access to a person's record with no relationship valid at that time.
    # The issue asks that 16-43% of what it flags be innocent (published hospital study).
    windows = demo_run.relationships()
    flagged = innocent = 0
    for e in demo_run.events:
        if e.subject_id is None:
            continue
        explained = any(a <= e.time and (b is None or e.time <= b)
                        for a, b in windows.get((e.user_id, e.subject_id), ()))
        if not explained:
            flagged += 1
            innocent += e.event_id not in demo_run.malicious
    assert flagged > 50
    assert 0.16 <= innocent / flagged <= 0.43, innocent / flagged


def _digest(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = simulate(out=tmp_path / "a", seed=3, days=4, fmt="parquet")
    b = simulate(out=tmp_path / "b", seed=3, days=4, fmt="parquet")
    simulate(out=tmp_path / "c", seed=4, days=4, fmt="parquet")
    assert a == b
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["events.parquet"] != _digest(tmp_path / "c")["events.parquet"]
    run = load(tmp_path / "a", a)  # Parquet output reads back through the same readers
    assert len(run.events) == a["counts"]["events"] > 1000
    assert run.context.present == frozenset({"users", "orgs", "subjects", "relationships",
                                             "shifts"})
    assert all(s.surname for s in run.context.subjects)


def test_scenario_subset_and_none(tmp_path: Path) -> None:
    only = simulate(out=tmp_path / "one", seed=5, days=6, scenarios=("canary_hit",))
    assert set(only["malicious_events_per_scenario"]) == {"canary_hit"}
    none = simulate(out=tmp_path / "none", seed=5, days=6, scenarios=())
    assert none["counts"]["malicious_events"] == 0 and none["counts"]["labels"] == 0
