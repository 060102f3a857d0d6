"""Detectors on hand-made worlds: who is flagged, and for which reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

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
    assert {"unexplained_fresh_deaths", "contact_elsewhere", "contact_disclosure", "other_institution"} <= set(reasons)
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


@pytest.mark.parametrize("kind", ["certifier", "attending", "crew", "coder", "registrar", "funeral", "investigator"])
def test_a_relationship_explains_accesses_inside_its_window_only(kind: str) -> None:
    from piguard.interchange.context import RelationshipRow

    w = hospital_world(days=7)
    subject = fresh_subjects(w)[3]
    assert subject.death_time is not None
    start = subject.death_time + timedelta(days=1)
    w.relationships.append(RelationshipRow(user_id="h1-doc5", subject_id=subject.subject_id, kind=kind,
                                           valid_from=start, valid_to=start + timedelta(hours=6)))
    inside = w.event("h1-doc5", start + timedelta(hours=3), subject=subject.subject_id)
    grace = w.event("h1-doc5", start + timedelta(hours=7), subject=subject.subject_id)  # within the 2 h grace
    # (A certifier's or attending's colleagues, and they themselves, count as the care team for
    # 7 days after the relationship ends; this is later still.)
    outside = w.event("h1-doc5", start + timedelta(days=10), subject=subject.subject_id)
    run = run_detection(w.events, w.context())
    flagged = {e for f in run.findings.get("h1-doc5", []) if f.detector == "unexplained_access" for e in f.event_ids}
    assert flagged == {outside}
    assert inside not in flagged and grace not in flagged
    assert run.report.explained_fraction == pytest.approx(1 - 1 / (len(w.events)))


def test_same_care_team_explains_colleagues_but_not_other_hospitals() -> None:
    w = hospital_world(days=7)
    subject = fresh_subjects(w, "310112")[4]  # certified by a physician of h1
    assert subject.death_time is not None
    colleague = w.event("h1-doc6", subject.death_time + timedelta(days=2), subject=subject.subject_id)
    late = w.event("h1-doc6", subject.death_time + timedelta(days=12), subject=subject.subject_id)
    stranger = w.event("h2-doc6", subject.death_time + timedelta(days=2), subject=subject.subject_id)
    run = run_detection(w.events, w.context())
    flagged = {e for fs in run.findings.values() for f in fs if f.detector == "unexplained_access"
               for e in f.event_ids}
    assert colleague not in flagged
    assert {late, stranger} <= flagged
    other = {e for fs in run.findings.values() for f in fs if f.detector == "other_institution" for e in f.event_ids}
    assert stranger in other and late not in other


def test_contact_details_of_a_death_elsewhere_is_its_own_detector() -> None:
    w = hospital_world(days=14)
    elsewhere = fresh_subjects(w, "310104")[20]
    own = fresh_subjects(w, "310112")[21]
    assert elsewhere.death_time is not None and own.death_time is not None
    # Reading another hospital's clinical record (e.g. a transfer) is not the broker's pattern;
    # its relatives' phone numbers are. An own-hospital case read late shows no "elsewhere".
    clinical = w.event("h1-doc1", elsewhere.death_time + timedelta(days=2), subject=elsewhere.subject_id,
                       fields=("death.cause",))
    contact = w.event("h1-doc1", elsewhere.death_time + timedelta(days=2, hours=1), subject=elsewhere.subject_id,
                      fields=("relative.phone",))
    w.event("h1-doc2", own.death_time + timedelta(days=10), subject=own.subject_id, fields=("relative.phone",))
    run = run_detection(w.events, w.context())
    hits = {f.user_id: f.event_ids for fs in run.findings.values() for f in fs if f.detector == "contact_elsewhere"}
    assert hits == {"h1-doc1": (contact,)}
    assert clinical not in hits["h1-doc1"]
    assert "another institution" in next(
        f.text for f in run.findings["h1-doc1"] if f.detector == "contact_elsewhere")


def test_use_of_a_second_terminal_while_logged_in_on_the_first_is_concurrent() -> None:
    w = hospital_world(days=10)
    day = T0 + timedelta(days=6, hours=7, minutes=30)
    # Sessions named per day (as many systems do) say nothing about the night; the login and
    # logout on the first terminal do: the account was logged in there all along.
    w.event("h2-doc3", day, action="login", terminal="t-ward", session_id="s1")
    w.event("h2-doc3", day + timedelta(hours=12), action="logout", terminal="t-ward", session_id="s2")
    intruder = [
        w.event("h2-doc3", day + timedelta(hours=5), action="login", terminal="t-lobby", session_id="x1"),
        w.event("h2-doc3", day + timedelta(hours=5, minutes=2), subject=fresh_subjects(w)[30].subject_id,
                terminal="t-lobby", session_id="x1"),
        w.event("h2-doc3", day + timedelta(hours=5, minutes=15), action="logout", terminal="t-lobby",
                session_id="x1"),
    ]
    # Another physician logs out at one terminal before logging in at the next: not concurrent.
    w.event("h2-doc4", day, action="login", terminal="t-ward")
    w.event("h2-doc4", day + timedelta(hours=2), action="logout", terminal="t-ward")
    w.event("h2-doc4", day + timedelta(hours=3), action="login", terminal="t-lobby")
    w.event("h2-doc4", day + timedelta(hours=4), action="logout", terminal="t-lobby")
    run = run_detection(w.events, w.context())
    found = {f.user_id: f for fs in run.findings.values() for f in fs if f.detector == "concurrent_sessions"}
    assert set(found) == {"h2-doc3"}
    assert set(intruder) <= set(found["h2-doc3"].event_ids)


def test_covering_accesses_do_not_hide_an_insider() -> None:
    """Camouflage: dozens of explained reads around each bad one leave the ranking unchanged."""
    from piguard.interchange.context import RelationshipRow

    def build(covering: int):  # type: ignore[no-untyped-def]
        w = hospital_world(days=21)
        for s in fresh_subjects(w)[40:44]:
            assert s.death_time is not None
            bad = s.death_time + timedelta(hours=3)
            w.event("h1-doc2", bad, subject=s.subject_id, fields=("relative.phone",))
            for k in range(covering):
                own = fresh_subjects(w, "310112")[(k * 7) % 150]
                w.relationships.append(RelationshipRow(user_id="h1-doc2", subject_id=own.subject_id,
                                                       kind="attending", valid_from=bad - timedelta(days=1),
                                                       valid_to=bad + timedelta(days=1)))
                w.event("h1-doc2", bad + timedelta(minutes=k + 1), subject=own.subject_id)
        return run_detection(w.events, w.context())

    plain, covered = build(0), build(25)
    assert plain.report.alerts[0].user_id == covered.report.alerts[0].user_id == "h1-doc2"
    # Counts are absolute, so the covering reads dilute nothing (here they even add a volume spike).
    assert covered.user_surprisal["h1-doc2"] >= plain.user_surprisal["h1-doc2"]
    assert covered.report.alerts[0].score >= plain.report.alerts[0].score


def test_one_alert_per_user_groups_every_incident_and_scores_are_calibrated() -> None:
    w = hospital_world(days=14)
    for s in fresh_subjects(w)[10:16]:
        assert s.death_time is not None
        w.event("h1-doc3", s.death_time + timedelta(hours=2), subject=s.subject_id, fields=("relative.phone",))
    for k in range(3):
        w.event("h1-doc3", T0 + timedelta(days=9, hours=k), action="export", result_count=300,
                resource_type="death_report")
    run = run_detection(w.events, w.context())
    alerts = [a for a in run.report.alerts if a.user_id == "h1-doc3"]
    assert len(alerts) == 1
    detectors = {r.detector for r in alerts[0].reasons}
    assert {"unexplained_fresh_deaths", "bulk_export"} <= detectors
    assert alerts[0].first_event_time <= alerts[0].last_event_time
    assert all(0.0 <= a.score <= 1.0 for a in run.report.alerts)
    assert [a.score for a in run.report.alerts] == sorted((a.score for a in run.report.alerts), reverse=True)
    assert len({a.user_id for a in run.report.alerts}) == len(run.report.alerts)


def test_notice_names_kinds_and_dates_but_no_record() -> None:
    from piguard.detect.notice import notice_text

    w = hospital_world(days=10)
    victims = fresh_subjects(w)[5:11]
    for s in victims:
        assert s.death_time is not None
        w.event("h1-doc3", s.death_time + timedelta(hours=2), subject=s.subject_id, fields=("relative.phone",))
    run = run_detection(w.events, w.context())
    alert = run.report.alerts[0]
    text = alert.notice or ""
    assert text.startswith("To account h1-doc3:")
    assert "very recent deaths" in text and "contact details" in text
    assert alert.first_event_time.date().isoformat() in text
    assert not any(s.subject_id in text for s in victims)
    assert notice_text(user_id="u", findings=[]) == ""


def test_a_virtual_number_dialled_after_it_ended_flags_the_person_it_was_shown_to() -> None:
    from piguard.interchange.context import UserRow

    w = hospital_world(days=14)
    w.users.append(UserRow(user_id="svc-bridge", role="service", org_id="h1", district="310112",
                           active_from=T0 - timedelta(days=400)))
    subject = fresh_subjects(w)[3].subject_id
    late = [
        w.event("svc-bridge", T0 + timedelta(days=9, hours=h), action="resolve_handle", subject=subject,
                fields=(), outcome="denied", resource_type="contact",
                reason="bridge-resolve-handle: handle expired (handle issued to h2-doc5)")
        for h in (10, 15)
    ]
    # A refusal that names nobody (an unknown number) flags nobody.
    w.event("svc-bridge", T0 + timedelta(days=9, hours=16), action="resolve_handle", fields=(), outcome="denied",
            reason="bridge-resolve-handle: unknown handle")
    run = run_detection(w.events, w.context())
    flagged = {a.user_id for a in run.report.alerts if "late_handle_call" in {r.detector for r in a.reasons}}
    assert flagged == {"h2-doc5"}
    reason = next(r for a in run.report.alerts for r in a.reasons if r.detector == "late_handle_call")
    assert set(reason.event_ids) == set(late)
    assert "dialled 2 times after it had ended" in reason.text


def test_an_exported_list_of_relatives_phones_is_a_high_alert_on_its_own() -> None:
    w = hospital_world(days=14)
    listed = [s.subject_id for s in fresh_subjects(w)[:150]]
    sale = w.event("h1-doc6", T0 + timedelta(days=10, hours=2), action="export", fields=(),
                   result_count=150, result_subject_ids=listed, resource_type="death_report")
    w.events[-1] = w.events[-1].model_copy(update={"fields": ("deceased.name", "relative.name", "relative.phone")})
    # The same size of list without the families' contacts is only a bulk export, weighed against peers.
    w.event("h2-doc6", T0 + timedelta(days=10, hours=3), action="export", result_count=150,
            result_subject_ids=listed, resource_type="death_report")
    run = run_detection(w.events, w.context())
    top = run.report.alerts[0]
    assert (top.user_id, top.severity) == ("h1-doc6", "high")
    reason = next(r for r in top.reasons if r.detector == "contact_list_export")
    assert reason.event_ids == (sale,) and "relatives' phone numbers or addresses" in reason.text
    assert "contact_list_export" not in _reasons(run, "h2-doc6")


def test_every_detector_has_words_in_the_warning_notice() -> None:
    from piguard.detect.detectors import default_detectors
    from piguard.detect.notice import _WHAT

    assert {d.name for d in default_detectors()} <= set(_WHAT)


def test_a_reason_says_when_its_evidence_is_cut_short() -> None:
    w = hospital_world(days=14)
    for n, s in enumerate(fresh_subjects(w)[40:100]):
        w.event("h1-doc4", T0 + timedelta(days=12, minutes=n), subject=s.subject_id)
    run = run_detection(w.events, w.context())
    reason = next(r for a in run.report.alerts if a.user_id == "h1-doc4" for r in a.reasons
                  if r.detector == "unexplained_access")
    assert len(reason.event_ids) == 25 and "(the evidence lists the first 25 of 60 flagged accesses)" in reason.text
