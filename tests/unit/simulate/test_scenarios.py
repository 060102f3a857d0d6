"""Each insider scenario leaves the signature the detectors are meant to find."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

import pytest

from piguard.errors import InputError
from piguard.simulate.scenarios import SCENARIOS, parse_scenarios
from tests.unit.simulate.conftest import Run


def _users(run: Run) -> dict[str, object]:
    return {u.user_id: u for u in run.context.users}


def _subjects(run: Run) -> dict[str, object]:
    return {s.subject_id: s for s in run.context.subjects}


def _unexplained(run: Run, scenario: str) -> float:
    windows = run.relationships()
    events = [e for e in run.malicious_of(scenario) if e.subject_id]
    bad = [e for e in events if not any(a <= e.time and (b is None or e.time <= b)
                                        for a, b in windows.get((e.user_id, e.subject_id), ()))]
    return len(bad) / len(events)


def test_every_scenario_is_labelled(demo_run: Run) -> None:
    assert {label.scenario for label in demo_run.labels} == set(SCENARIOS)
    for scenario in SCENARIOS:
        assert demo_run.malicious_of(scenario), scenario


def test_minhang_broker(demo_run: Run) -> None:
    users = _users(demo_run)
    subjects = _subjects(demo_run)
    orgs = {o.org_id: o for o in demo_run.context.orgs}
    reads = [e for e in demo_run.malicious_of("minhang_broker") if e.action == "read"]
    assert {users[e.user_id].district for e in reads} == {"310112"}  # type: ignore[attr-defined]
    assert any("relative.phone" in e.fields for e in reads)
    for e in reads:
        death = subjects[e.subject_id].death_time  # type: ignore[attr-defined,index]
        assert timedelta(0) < e.time - death <= timedelta(hours=6, minutes=30)
        assert orgs[e.org_id].org_type == "hospital"
    assert _unexplained(demo_run, "minhang_broker") == 1.0
    # Spread over time: a low rate for weeks, not one burst.
    days = {e.time.date() for e in reads}
    assert len(days) >= 5


def test_mdt_harvest_reads_calls_not_assigned(demo_run: Run) -> None:
    events = demo_run.malicious_of("mdt_harvest")
    assert {e.role for e in events} == {"emt"}
    assert {e.resource_type for e in events} == {"dispatch"}
    assert all(e.terminal_id and e.terminal_id.startswith("mdt-") for e in events)
    assert _unexplained(demo_run, "mdt_harvest") == 1.0


def test_credential_sharing_uses_two_terminals_at_once(demo_run: Run) -> None:
    events = demo_run.malicious_of("credential_sharing")
    user = events[0].user_id
    foreign = {e.terminal_id for e in events}
    assert len(foreign) == 1
    own = [e for e in demo_run.events if e.user_id == user and e.terminal_id not in foreign]
    logins = [e for e in events if e.action == "login"]
    assert logins
    # During each foreign session the owner is on shift and logged in at their own terminal.
    shifts = [s for s in demo_run.context.shifts if s.user_id == user]
    for login in logins:
        assert any(s.start <= login.time <= s.end for s in shifts)
    assert own


def test_bulk_export_goes_beyond_the_coders_district(demo_run: Run) -> None:
    users = _users(demo_run)
    subjects = _subjects(demo_run)
    events = demo_run.malicious_of("bulk_export")
    assert {e.action for e in events} == {"export"}
    for e in events:
        assert e.result_count == len(e.result_subject_ids) > 0
        assert "relative.phone" in e.fields
        districts = {subjects[s].district for s in e.result_subject_ids}  # type: ignore[attr-defined]
        home = users[e.user_id].district  # type: ignore[attr-defined]
        assert districts - {home}, "an export beyond the coder's own district"


def test_neighbour_and_family_snoop(demo_run: Run) -> None:
    users = _users(demo_run)
    subjects = _subjects(demo_run)
    for scenario in ("neighbour_snoop", "family_snoop"):
        for e in demo_run.malicious_of(scenario):
            user, subject = users[e.user_id], subjects[e.subject_id]  # type: ignore[index]
            assert subject.compound == user.home_compound  # type: ignore[attr-defined]
            if scenario == "family_snoop":
                assert subject.surname == user.surname  # type: ignore[attr-defined]
        assert _unexplained(demo_run, scenario) == 1.0


def test_slow_and_low_is_sparse_and_camouflaged(demo_run: Run) -> None:
    events = demo_run.malicious_of("slow_and_low")
    reads = sorted({e.time for e in events if e.resource_type == "death_report"})
    for before, after in itertools.pairwise(reads):
        assert after - before >= timedelta(days=14)
    user = events[0].user_id
    windows = demo_run.relationships()
    # Explained reads by the same user around each malicious one (the camouflage).
    for t in reads:
        cover = [e for e in demo_run.events if e.user_id == user
                 and e.event_id not in demo_run.malicious and e.subject_id
                 and abs(e.time - t) <= timedelta(hours=1)
                 and windows.get((e.user_id, e.subject_id))]
        assert cover
    # Same terminal, purpose and reason as normal clinical work.
    normal = {(e.terminal_id, e.purpose) for e in demo_run.events
              if e.user_id == user and e.event_id not in demo_run.malicious}
    assert {(e.terminal_id, e.purpose) for e in events} <= normal


def test_records_elsewhere_belong_to_another_institution(demo_run: Run) -> None:
    # "Elsewhere" is another institution's report as the context shows it (the organisations of
    # those with a relationship to the subject), not the place of death: a home death's report
    # is its certifier's hospital's.
    users = _users(demo_run)
    care: dict[str, set[str]] = defaultdict(set)
    for row in demo_run.context.relationships:
        care[row.subject_id].add(users[row.user_id].org_id)  # type: ignore[attr-defined]
    for scenario in ("minhang_broker", "slow_and_low", "neighbour_snoop", "family_snoop"):
        reads = [e for e in demo_run.malicious_of(scenario) if e.resource_type == "death_report"]
        assert reads, scenario
        assert all(e.org_id not in care[e.subject_id or ""] for e in reads), scenario


def test_breakglass_abuse_has_no_clinical_follow_up(demo_run: Run) -> None:
    for e in demo_run.malicious_of("breakglass_abuse"):
        if e.action != "breakglass":
            continue
        later = [x for x in demo_run.events if x.user_id == e.user_id
                 and x.subject_id == e.subject_id and x.action in ("update", "create")]
        assert not later
    justified = [e for e in demo_run.events if e.action == "breakglass"
                 and e.event_id not in demo_run.malicious]
    for e in justified:  # the innocent ones are followed by clinical activity
        assert any(x.user_id == e.user_id and x.subject_id == e.subject_id
                   and x.action == "update" for x in demo_run.events)


def test_canary_hits_touch_only_canaries(demo_run: Run) -> None:
    subjects = _subjects(demo_run)
    hits = [e for e in demo_run.malicious_of("canary_hit") if e.subject_id]
    assert hits
    assert all(subjects[e.subject_id].is_canary for e in hits)  # type: ignore[attr-defined,index]
    legit = defaultdict(int)
    for e in demo_run.events:
        if e.subject_id and subjects[e.subject_id].is_canary:  # type: ignore[attr-defined]
            legit[e.event_id in demo_run.malicious] += 1
    assert legit[False] == 0  # nobody touches a canary for a legitimate reason


def test_parse_scenarios() -> None:
    assert parse_scenarios(None) == SCENARIOS
    assert parse_scenarios("all") == SCENARIOS
    assert parse_scenarios("none") == ()
    assert parse_scenarios("canary_hit, mdt_harvest,canary_hit") == ("canary_hit", "mdt_harvest")
    with pytest.raises(InputError, match="unknown scenario 'nope'"):
        parse_scenarios("canary_hit,nope")


def test_listings_show_the_canaries_that_match_their_filter(demo_run: Run) -> None:
    # A bulk export lists every death of the week before it, and a broker's search every fresh
    # death elsewhere: canaries match those filters like any other record and are listed, so
    # that detection can see a canary among the results (issue 6 audit). Every listed canary
    # is in a labelled (malicious) event: no innocent listing shows one.
    canaries = {s.subject_id: s for s in demo_run.context.subjects if s.is_canary}
    exports = [e for e in demo_run.malicious_of("bulk_export") if e.action == "export"]
    assert exports
    for e in exports:
        due = {sid for sid, s in canaries.items()
               if s.death_time is not None and e.time - timedelta(days=7) < s.death_time < e.time}
        assert due <= set(e.result_subject_ids), e.event_id
    for e in demo_run.events:
        if set(e.result_subject_ids) & set(canaries):
            assert e.event_id in demo_run.malicious, e.event_id


def test_a_search_or_read_finds_only_reports_that_exist(demo_run: Run) -> None:
    # A report exists from its `create` event on (a canary's from the death on): every record a
    # search or export lists, and every report read, was written by then. Searches used to list
    # deaths whose report was still unwritten, which inflated what the broker exposed.
    canaries = {s.subject_id for s in demo_run.context.subjects if s.is_canary}
    written = {
        e.subject_id: e.time
        for e in sorted(demo_run.events, key=lambda e: e.time, reverse=True)
        if e.action == "create" and e.resource_type == "death_report" and e.subject_id
    }
    for e in demo_run.events:
        if e.outcome != "allowed":
            continue
        if e.action in ("search", "export") and e.resource_type == "death_report":
            listed = [s for s in e.result_subject_ids if s not in canaries]
        elif e.action == "read" and e.resource_type == "death_report" and e.subject_id not in canaries:
            listed = [e.subject_id] if e.subject_id else []
        else:
            continue
        early = [s for s in listed if s not in written or written[s] > e.time]
        assert not early, (e.event_id, demo_run.malicious.get(e.event_id), early[:3])
