"""Leak tracing counts only accesses that could have shown the family's phone number."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from piguard.detect.trace import trace
from piguard.interchange.events import write_events
from piguard.interchange.labels import Complaint
from tests.unit.detect.world import fresh_subjects, hospital_world


def test_a_screen_without_relatives_contacts_is_not_a_leak_source(tmp_path: Path) -> None:
    w = hospital_world(days=12, staff_per_org=6)
    victims = fresh_subjects(w)[5:25]
    complaints = []
    for s in victims:
        assert s.death_time is not None
        opened = s.death_time + timedelta(hours=1)
        w.event("h1-doc2", opened, subject=s.subject_id, fields=("relative.name", "relative.phone"))
        # A colleague who opened the same records on a clinical screen never saw the number...
        w.event("h1-doc3", opened, subject=s.subject_id, fields=("death.cause", "deceased.name"))
        # ...while a log that does not say what was shown cannot rule it out.
        w.event("h1-doc4", opened, subject=s.subject_id, fields=())
        complaints.append(Complaint(subject_id=s.subject_id, call_time=s.death_time + timedelta(days=2)))
    write_events(tmp_path / "events.jsonl", w.events)
    report = trace(complaints=complaints, events=[tmp_path / "events.jsonl"])
    users = {s.id: s for s in report.suspects if s.kind == "user"}
    assert "h1-doc3" not in users
    assert users["h1-doc2"].victims_accessed == 20 and users["h1-doc4"].victims_accessed == 20
    assert users["h1-doc2"].p_value is not None and users["h1-doc2"].p_value < 1e-6
