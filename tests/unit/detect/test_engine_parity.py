"""Both engines run the same feature SQL and must give the same alerts on the same input."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest

from piguard.detect import Options, run_detection
from piguard.interchange.context import SubjectRow
from tests.unit.detect.world import T0, fresh_subjects, hospital_world

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")


@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("PIGUARD_SPARK_PARTITIONS", "1")
    monkeypatch.setenv("PIGUARD_SPARK_MASTER", "local[1]")
    w = hospital_world(days=6, staff_per_org=5)
    for s in fresh_subjects(w)[3:12]:  # broker
        assert s.death_time is not None
        w.event("h1-doc3", s.death_time + timedelta(hours=2), subject=s.subject_id, fields=("relative.phone",))
    w.subjects.append(SubjectRow(subject_id="canary1", death_time=T0, district="310112", is_canary=True))
    w.event("h2-doc2", T0 + timedelta(days=3, hours=10), subject="canary1")
    base = T0 + timedelta(days=6, hours=9)
    for k in range(5):
        w.event("h2-doc1", base + timedelta(minutes=10 * k), terminal="t-a")
        w.event("h2-doc1", base + timedelta(minutes=10 * k, seconds=30), terminal="t-b")
    for k in range(12):
        w.event("h1-doc4", base + timedelta(minutes=k), action="search", query=f"q{k}", result_count=1)
    # Logged in on the ward terminal while the account is used in the lobby.
    w.event("h2-doc3", base, action="login", terminal="t-ward")
    for k in range(4):
        w.event("h2-doc3", base + timedelta(hours=1, minutes=k), subject=fresh_subjects(w)[20 + k].subject_id,
                terminal="t-lobby")
        w.event("h1-doc0", base + timedelta(hours=k), action="export", result_count=80, resource_type="death_report")
    w.event("h2-doc3", base + timedelta(hours=8), action="logout", terminal="t-ward")
    # A decoy among a search's results, and piguard's own concurrent_session event.
    w.subjects.append(SubjectRow(subject_id="canary2", death_time=T0, district="310104", is_canary=True))
    w.event("h1-doc2", base + timedelta(hours=2), action="search", query="q", result_count=2,
            result_subject_ids=(fresh_subjects(w)[1].subject_id, "canary2"))
    w.event("h1-doc1", base + timedelta(hours=3), action="concurrent_session", terminal="t-x")
    duck_run = run_detection(w.events, w.context())
    spark_run = run_detection(w.events, w.context(), options=Options(engine="spark"))
    duck, spark = duck_run.report, spark_run.report
    # Findings below the alert threshold agree too (piguard's own concurrent_session event here).
    for run in (duck_run, spark_run):
        assert [(f.detector, f.event_ids) for f in run.findings["h1-doc1"]] == [
            (f.detector, f.event_ids) for f in duck_run.findings["h1-doc1"]]
        assert "concurrent_sessions" in {f.detector for f in run.findings["h1-doc1"]}

    def summary(report):  # type: ignore[no-untyped-def]
        return [(a.user_id, a.score, a.severity, [(r.detector, r.text, r.event_ids) for r in a.reasons],
                 a.subject_ids, a.first_event_time, a.last_event_time) for a in report.alerts]

    assert summary(duck) == summary(spark)
    assert {a.user_id for a in duck.alerts} >= {"h1-doc3", "h2-doc2", "h2-doc1", "h1-doc4", "h2-doc3", "h1-doc2"}
    fired = {r.detector for a in duck.alerts for r in a.reasons}
    assert fired >= {"canary_access", "unexplained_fresh_deaths", "contact_elsewhere", "concurrent_sessions",
                     "search_enumeration", "bulk_export"}
    assert duck.explained_fraction == spark.explained_fraction
    assert spark.engine == "spark"
    assert os.environ["PIGUARD_SPARK_PARTITIONS"] == "1"
