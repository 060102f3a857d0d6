"""Any access to a canary alerts: opened, refused, or listed among a search's or export's results."""

from __future__ import annotations

from datetime import timedelta

import pytest

from piguard.detect import run_detection
from piguard.interchange.context import SubjectRow
from tests.unit.detect.world import T0, World, fresh_subjects, hospital_world


def _world() -> World:
    w = hospital_world(days=7, staff_per_org=5)
    w.subjects.append(SubjectRow(subject_id="canary1", death_time=T0, district="310112", is_canary=True))
    return w


@pytest.mark.parametrize("action", ["search", "export"])
def test_a_canary_among_the_results_is_a_high_alert_naming_the_event(action: str) -> None:
    w = _world()
    real = fresh_subjects(w)[2].subject_id
    eid = w.event(
        "h1-doc2",
        T0 + timedelta(days=3, hours=10),
        action=action,
        query="district=310112",
        result_count=2,
        result_subject_ids=(real, "canary1"),
    )
    run = run_detection(w.events, w.context())
    alert = run.report.alerts[0]
    assert (alert.user_id, alert.severity, alert.score) == ("h1-doc2", "high", 1.0)
    reason = alert.reasons[0]
    assert reason.detector == "canary_access" and reason.event_ids == (eid,)
    assert f"listed among the results of event {eid} ({action})" in reason.text
    assert alert.subject_ids == ("canary1",)
    assert alert.notice is not None and "whose results included records that no work task leads to" in alert.notice
    assert "canary1" not in alert.notice and real not in reason.text


def test_a_search_on_the_canary_itself_is_one_piece_of_evidence() -> None:
    w = _world()
    eid = w.event(
        "h1-doc2",
        T0 + timedelta(days=3, hours=10),
        action="search",
        subject="canary1",
        result_count=1,
        result_subject_ids=("canary1",),
    )
    run = run_detection(w.events, w.context())
    reason = run.report.alerts[0].reasons[0]
    assert reason.event_ids == (eid,)
    assert "opened in" in reason.text and "results" not in reason.text


def test_a_refused_attempt_says_tried_to_open() -> None:
    w = _world()
    eid = w.event("h1-doc3", T0 + timedelta(days=4, hours=9), subject="canary1", outcome="denied")
    run = run_detection(w.events, w.context())
    alert = run.report.alerts[0]
    assert alert.user_id == "h1-doc3" and alert.severity == "high"
    assert f"tried to open (refused) in event {eid} (read)" in alert.reasons[0].text
    assert alert.notice is not None and "you tried to open records" in alert.notice
    assert "you opened records" not in alert.notice


def test_many_events_are_named_up_to_five() -> None:
    w = _world()
    ids = [
        w.event(
            "h1-doc4", T0 + timedelta(days=2, hours=h), action="search", result_count=1, result_subject_ids=("canary1",)
        )
        for h in range(8)
    ]
    text = run_detection(w.events, w.context()).report.alerts[0].reasons[0].text
    assert all(i in text for i in ids[:5]) and ids[5] not in text and "and 3 more" in text
