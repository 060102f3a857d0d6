"""Detectors on hand-made worlds: who is flagged, and for which reason."""

from __future__ import annotations

from datetime import timedelta

from piguard.detect import Options, run_detection
from tests.unit.detect.world import T0, fresh_subjects, hospital_world


def _reasons(run, user: str) -> set[str]:  # type: ignore[no-untyped-def]
    alert = next((a for a in run.report.alerts if a.user_id == user), None)
    return {r.detector for r in alert.reasons} if alert else set()


def test_innocent_world_raises_no_alert_and_is_fully_explained() -> None:
    w = hospital_world()
    run = run_detection(w.events, w.context())
    assert run.report.alerts == ()
    assert run.report.explained_fraction == 1.0
    assert run.report.events_read == len(w.events)


def test_broker_reading_fresh_deaths_elsewhere_is_top_alert_with_reasons() -> None:
    w = hospital_world()
    victims = fresh_subjects(w)[10:22]
    evidence = []
    for s in victims:
        assert s.death_time is not None
        evidence.append(w.event("h1-doc3", s.death_time + timedelta(hours=2), subject=s.subject_id,
                                fields=("relative.name", "relative.phone")))
    run = run_detection(w.events, w.context())
    top = run.report.alerts[0]
    assert top.user_id == "h1-doc3"
    assert top.severity == "high"
    reasons = {r.detector: r for r in top.reasons}
    assert {"unexplained_fresh_deaths", "contact_disclosure", "other_institution"} <= set(reasons)
    assert set(reasons["unexplained_fresh_deaths"].event_ids) == set(evidence)
    assert "12 deaths within 12 h" in reasons["unexplained_fresh_deaths"].text
    assert set(top.subject_ids) == {s.subject_id for s in victims}
    assert top.notice and "h1-doc3" in top.notice
    assert all(s.subject_id not in top.notice for s in victims)
    assert len(run.report.alerts) == 1


def test_canary_access_is_high_severity_even_once() -> None:
    from piguard.interchange.context import SubjectRow

    w = hospital_world(days=7)
    w.subjects.append(SubjectRow(subject_id="canary1", death_time=T0, district="310112", is_canary=True))
    eid = w.event("h1-doc1", T0 + timedelta(days=2, hours=10), subject="canary1")
    run = run_detection(w.events, w.context())
    alert = run.report.alerts[0]
    assert (alert.user_id, alert.severity, alert.score) == ("h1-doc1", "high", 1.0)
    assert alert.reasons[0].detector == "canary_access"
    assert alert.reasons[0].event_ids == (eid,)


def test_neighbour_and_family_lookups_are_named() -> None:
    from piguard.interchange.context import SubjectRow

    w = hospital_world(days=14)
    me = next(u for u in w.users if u.user_id == "h1-doc2")
    for i in range(3):
        w.subjects.append(SubjectRow(subject_id=f"nb{i}", death_time=T0 + timedelta(days=3), district="310112",
                                     compound=me.home_compound, surname=f"Other{i}"))
        w.event("h1-doc2", T0 + timedelta(days=5 + i, hours=11), subject=f"nb{i}")
    for i in range(3):
        w.subjects.append(SubjectRow(subject_id=f"fam{i}", death_time=T0 + timedelta(days=2), district="310112",
                                     compound=me.home_compound, surname=me.surname))
        w.event("h1-doc2", T0 + timedelta(days=6 + i, hours=12), subject=f"fam{i}")
    run = run_detection(w.events, w.context())
    assert run.report.alerts[0].user_id == "h1-doc2"
    assert {"neighbour_lookup", "family_lookup"} <= _reasons(run, "h1-doc2")


def test_concurrent_terminals_bulk_export_and_breakglass() -> None:
    w = hospital_world(days=14)
    base = T0 + timedelta(days=9, hours=9)
    for k in range(6):  # the account alternates between two terminals seconds apart
        w.event("h2-doc1", base + timedelta(minutes=10 * k), terminal="t-a")
        w.event("h2-doc1", base + timedelta(minutes=10 * k, seconds=40), terminal="t-b")
    for k in range(3):
        w.event("h2-doc4", base + timedelta(days=1, hours=k), action="export", result_count=250,
                resource_type="death_report", query="district=310104")
    for k in range(3):
        subject = fresh_subjects(w, "310112")[k].subject_id
        w.event("h2-doc5", base + timedelta(days=2, hours=k), action="breakglass", subject=subject,
                purpose="BTG")
    run = run_detection(w.events, w.context())
    assert "concurrent_sessions" in _reasons(run, "h2-doc1")
    assert "bulk_export" in _reasons(run, "h2-doc4")
    assert "breakglass_no_followup" in _reasons(run, "h2-doc5")


def test_breakglass_followed_by_clinical_work_is_not_flagged() -> None:
    w = hospital_world(days=14)
    when = T0 + timedelta(days=10, hours=10)
    for k in range(3):
        subject = fresh_subjects(w, "310112")[k].subject_id
        w.event("h2-doc5", when + timedelta(hours=k), action="breakglass", subject=subject, purpose="BTG")
        w.event("h2-doc5", when + timedelta(hours=k, minutes=30), action="update", subject=subject)
    run = run_detection(w.events, w.context())
    assert "breakglass_no_followup" not in _reasons(run, "h2-doc5")


def test_off_shift_and_volume_spike() -> None:
    w = hospital_world(days=21)
    night = T0 + timedelta(days=15, hours=2)
    for k, s in enumerate(fresh_subjects(w, "310112")[:40]):
        w.event("h1-doc6", night + timedelta(minutes=k), subject=s.subject_id)
    run = run_detection(w.events, w.context())
    reasons = _reasons(run, "h1-doc6")
    assert {"off_shift", "volume_spike", "unexplained_access"} <= reasons
    assert run.report.alerts[0].user_id == "h1-doc6"


def test_search_enumeration() -> None:
    w = hospital_world(days=14)
    start = T0 + timedelta(days=8, hours=10)
    for k in range(30):
        w.event("h1-doc4", start + timedelta(minutes=k), action="search", query=f"name={k}", result_count=1)
    run = run_detection(w.events, w.context(), options=Options())
    assert "search_enumeration" in _reasons(run, "h1-doc4")
