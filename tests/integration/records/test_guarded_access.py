"""The guarded access path end to end on real SQLite and PostgreSQL: decide, minimise, record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, ConflictError, InputError, NotFoundError, UnknownPurposeError
from piguard.identity.schemas import Principal
from piguard.ledger import service as ledger
from piguard.minimize import handles
from piguard.minimize.models import ContactHandle
from piguard.records import dispatch_flows, flows, support_flows, workflow_flows
from piguard.records import service as records
from piguard.records.guard import Guarded
from piguard.records.models import DeathReport, TaskRelationship
from tests.integration.records.conftest import CALLER_PHONE, NOW, RELATIVE_PHONE, World, report_data


def events(session: Session) -> list:  # type: ignore[type-arg]
    return list(ledger.iter_events(session=session))


def test_certifier_reads_own_report_through_handles(session: Session, world: World) -> None:
    before = ledger.count(session=session)
    outcome = flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_a,
        purpose="TREAT",
    )
    view = outcome.unwrap().model_dump(mode="json")
    assert view["context"] == "hospital_certifier"
    assert RELATIVE_PHONE not in json.dumps(view)
    assert view["relatives"][0]["phone_handle"].startswith("95")
    assert view["deceased"]["id_number_masked"].endswith("0046") and "3101121945" not in json.dumps(view)
    assert ledger.count(session=session) == before + 1
    event = events(session)[-1]
    assert event.outcome == "allowed" and event.action == "read" and event.subject_id == "subj-a"
    assert "relative.phone_handle" in event.fields and event.purpose == "TREAT"
    assert event.reason == "physician-certifier-read"


def test_minhang_doctor_cannot_read_another_hospitals_report(session: Session, world: World) -> None:
    outcome = flows.read_report(
        session=session, guard=world.guard, principal=world.people["broker"], report_id=world.report_a, purpose="TREAT"
    )
    assert not outcome.allowed
    with pytest.raises(AccessDenied, match="no task relationship"):
        outcome.unwrap()
    event = events(session)[-1]
    assert event.outcome == "denied" and event.fields == () and event.subject_id == "subj-a"


def test_search_returns_only_task_related_reports(session: Session, world: World) -> None:
    mine = flows.search_reports(
        session=session, guard=world.guard, principal=world.people["broker"], q=None, district="310112", purpose="TREAT"
    ).unwrap()
    assert [v.model_dump()["report_id"] for v in mine] == [world.report_b]
    assert events(session)[-1].result_subject_ids == ("subj-b",)
    nothing = flows.search_reports(
        session=session, guard=world.guard, principal=world.people["colleague"], q="李", district=None, purpose="TREAT"
    ).unwrap()
    assert nothing == []


def test_a_search_whose_every_record_is_refused_is_a_recorded_refusal(session: Session, world: World) -> None:
    broker = world.people["broker"]

    def search(principal: Principal, **kwargs: str) -> Guarded[list[BaseModel]]:
        return flows.search_reports(
            session=session, guard=world.guard, principal=principal, q=None, district="310112", **kwargs
        )

    for refused in (
        search(broker, purpose="HMARKT"),  # a purpose the role may not use
        search(broker, purpose="TREAT", context="cdc_coding"),  # a screen the role may not use
        search(broker.model_copy(update={"training_valid_until": NOW - timedelta(days=1)}), purpose="TREAT"),
    ):
        assert not refused.allowed
        last = events(session)[-1]
        assert (last.action, last.outcome, last.result_count) == ("search", "denied", None)
        assert last.reason
    assert search(broker, purpose="TREAT").allowed  # the same search, allowed, still works


def test_coder_sees_causes_without_identity_or_contacts(session: Session, world: World) -> None:
    view = flows.read_report(
        session=session, guard=world.guard, principal=world.people["coder"], report_id=world.report_a, purpose="PUBHLTH"
    ).unwrap()
    body = json.dumps(view.model_dump(mode="json"), ensure_ascii=False)
    assert view.model_dump()["context"] == "cdc_coding"
    assert "李秀英" not in body and RELATIVE_PHONE not in body and "王小明" not in body
    other = flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["coder_other"],
        report_id=world.report_a,
        purpose="PUBHLTH",
    )
    assert not other.allowed


def test_police_and_funeral_only_after_the_familys_code(session: Session, world: World) -> None:
    police, clerk = world.people["police"], world.people["clerk"]
    assert not flows.read_report(
        session=session, guard=world.guard, principal=police, report_id=world.report_a, purpose="LEGAL"
    ).allowed
    with pytest.raises(NotFoundError):  # the funeral part's code does not open the police part (nor says it is one)
        records.present_code(
            session=session,
            code=world.codes["funeral"],
            account_id="acc-police",
            role="police_registrar",
            org_id=world.orgs["police"],
            at=NOW,
        )
    presented = workflow_flows.present_code(
        session=session, guard=world.guard, principal=police, code=world.codes["police"]
    )
    assert presented.allowed
    view = (
        flows.read_report(
            session=session, guard=world.guard, principal=police, report_id=world.report_a, purpose="LEGAL"
        )
        .unwrap()
        .model_dump()
    )
    assert view["context"] == "police_household" and "death" not in view and "relatives" not in view
    again = workflow_flows.present_code(
        session=session, guard=world.guard, principal=police, code=world.codes["police"]
    )
    assert not again.allowed  # one-time code
    assert not flows.read_report(
        session=session, guard=world.guard, principal=clerk, report_id=world.report_a, purpose="FAMRQT"
    ).allowed


def test_mdt_during_call_then_dark_after_close(session: Session, world: World) -> None:
    emt = world.people["emt"]
    view = dispatch_flows.display(
        session=session, guard=world.guard, principal=emt, dispatch_id=world.dispatch, purpose="ETREAT"
    ).unwrap()
    body = view.model_dump()
    assert body["age_band"] == "80-89" and CALLER_PHONE not in json.dumps(body)
    handle = body["caller_handle"]
    bridge = world.people["bridge"]
    assert (
        support_flows.resolve_handle(session=session, guard=world.guard, principal=bridge, handle=handle).unwrap()
        == CALLER_PHONE
    )
    assert events(session)[-1].action == "resolve_handle"
    listed = dispatch_flows.list_visible(session=session, guard=world.guard, principal=emt, purpose="ETREAT").unwrap()
    assert [v.incident_id for v in listed] == [body["incident_id"]]
    dispatch_flows.close_call(session=session, guard=world.guard, dispatch_id=world.dispatch)
    grace = world.guard.settings.mdt_grace_minutes
    assert dispatch_flows.display(
        session=session,
        guard=world.at(NOW + timedelta(minutes=grace - 1)),
        principal=emt,
        dispatch_id=world.dispatch,
        purpose="ETREAT",
    ).allowed
    late = dispatch_flows.display(
        session=session,
        guard=world.at(NOW + timedelta(minutes=grace + 1)),
        principal=emt,
        dispatch_id=world.dispatch,
        purpose="ETREAT",
    )
    assert not late.allowed
    with pytest.raises(NotFoundError):  # the caller's virtual number went dark at close
        support_flows.resolve_handle(
            session=session, guard=world.at(NOW + timedelta(minutes=1)), principal=bridge, handle=handle
        ).unwrap()


def test_handle_resolution_needs_the_bridge(session: Session, world: World) -> None:
    view = flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_a,
        purpose="TREAT",
    ).unwrap()
    handle = view.model_dump()["relatives"][0]["phone_handle"]
    denied = support_flows.resolve_handle(
        session=session, guard=world.guard, principal=world.people["certifier"], handle=handle
    )
    assert not denied.allowed and events(session)[-1].outcome == "denied"
    unscoped = world.people["bridge"].model_copy(update={"scopes": ()})
    assert not support_flows.resolve_handle(
        session=session, guard=world.guard, principal=unscoped, handle=handle
    ).allowed
    assert (
        support_flows.resolve_handle(
            session=session, guard=world.guard, principal=world.people["bridge"], handle=handle
        ).unwrap()
        == RELATIVE_PHONE
    )


def test_breakglass_one_record_one_hour_flagged(session: Session, world: World) -> None:
    doctor = world.people["colleague"]
    short = support_flows.request_breakglass(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG", reason="urgent"
    )
    assert not short.allowed and "20 characters" in str(short.error)
    grant = support_flows.request_breakglass(
        session=session,
        guard=world.guard,
        principal=doctor,
        report_id=world.report_b,
        purpose="BTG",
        reason="patient arrived in arrest; need prior cardiac history now",
    ).unwrap()
    assert grant.review_status == "pending" and grant.expires_at == NOW + timedelta(hours=1)
    assert events(session)[-1].action == "breakglass"
    assert flows.read_report(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG"
    ).allowed
    assert not flows.read_report(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_a, purpose="BTG"
    ).allowed  # one record only
    assert not flows.read_report(
        session=session,
        guard=world.at(NOW + timedelta(minutes=61)),
        principal=doctor,
        report_id=world.report_b,
        purpose="BTG",
    ).allowed  # one hour only


def test_an_emt_cannot_break_the_glass_into_a_death_report(session: Session, world: World) -> None:
    # Crews see the calls they are sent to, never certificates: the Minhang ambulance pattern.
    before = ledger.count(session=session)
    refused = support_flows.request_breakglass(
        session=session,
        guard=world.guard,
        principal=world.people["emt"],
        report_id=world.report_b,
        purpose="ETREAT",
        reason="emt needs the prior certificate now please",
    )
    assert not refused.allowed
    assert ledger.count(session=session) == before + 1
    assert (events(session)[-1].action, events(session)[-1].outcome) == ("breakglass", "denied")
    assert not flows.read_report(
        session=session, guard=world.guard, principal=world.people["emt"], report_id=world.report_b, purpose="ETREAT"
    ).allowed


def test_training_gate_and_bad_purpose_are_recorded_denials(session: Session, world: World) -> None:
    lapsed = world.people["certifier"].model_copy(update={"training_valid_until": NOW - timedelta(days=1)})
    gated = flows.read_report(
        session=session, guard=world.guard, principal=lapsed, report_id=world.report_a, purpose="TREAT"
    )
    assert not gated.allowed and "training" in str(gated.error)
    before = ledger.count(session=session)
    bad = flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_a,
        purpose="SELL",
    )
    assert isinstance(bad.error, UnknownPurposeError)
    assert ledger.count(session=session) == before + 1 and events(session)[-1].outcome == "denied"
    missing = flows.read_report(
        session=session, guard=world.guard, principal=world.people["certifier"], report_id="nope", purpose="TREAT"
    )
    unrelated = flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_b,
        purpose="TREAT",
    )
    # No existence oracle: an unknown id is answered exactly as a record without a relationship.
    assert isinstance(missing.error, AccessDenied) and isinstance(unrelated.error, AccessDenied)
    assert str(missing.error) == str(unrelated.error)
    assert missing.event is not None and missing.event.reason.endswith("(no such record)")


def test_statistics_suppress_small_cells(session: Session, world: World) -> None:
    stats = support_flows.statistics(
        session=session, guard=world.guard, principal=world.people["epi"], purpose="PUBHLTH"
    ).unwrap()
    assert stats.cells and all(c.suppressed and c.deaths is None for c in stats.cells)  # two deaths: every cell < 5
    assert not support_flows.statistics(
        session=session, guard=world.guard, principal=world.people["broker"], purpose="PUBHLTH"
    ).allowed


def test_a_certificate_print_names_the_deceased(session: Session, world: World) -> None:
    # FORMATS §1: subject_id is the person the data is about, on prints too (and on refused ones).
    printed = workflow_flows.issue_parts(
        session=session, guard=world.guard, principal=world.people["certifier"], report_id=world.report_b
    )
    assert printed.event is not None and printed.event.action == "print"
    assert printed.event.subject_id == "subj-b" and printed.event.resource_id == world.report_b
    refused = workflow_flows.issue_parts(
        session=session, guard=world.guard, principal=world.people["police"], report_id=world.report_b
    )
    assert refused.event is not None and refused.event.outcome == "denied" and refused.event.subject_id == "subj-b"


def test_a_closed_call_in_its_grace_period_shows_no_virtual_number(session: Session, world: World) -> None:
    emt = world.people["emt"]
    dispatch_flows.close_call(session=session, guard=world.guard, dispatch_id=world.dispatch)
    later = world.at(NOW + timedelta(minutes=5))
    shown = dispatch_flows.display(
        session=session, guard=later, principal=emt, dispatch_id=world.dispatch, purpose="ETREAT"
    ).unwrap()
    assert shown.caller_handle is None and "caller_handle" not in events(session)[-1].fields
    listed = dispatch_flows.list_visible(session=session, guard=later, principal=emt, purpose="ETREAT").unwrap()
    assert [view.caller_handle for view in listed] == [None]
    live = handles.live_handles(
        session=session, viewer_id=emt.account_id, resource_id=world.dispatch, purpose="ETREAT", at=later.clock()
    )
    assert live == {}  # nothing the bridge could resolve


def test_a_break_glass_read_gives_virtual_numbers_that_end_with_the_grant(session: Session, world: World) -> None:
    doctor, bridge = world.people["colleague"], world.people["bridge"]
    support_flows.request_breakglass(
        session=session,
        guard=world.guard,
        principal=doctor,
        report_id=world.report_b,
        purpose="BTG",
        reason="patient arrived in arrest; need prior cardiac history now",
    ).unwrap()
    view = flows.read_report(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG"
    ).unwrap()
    handle = view.model_dump()["relatives"][0]["phone_handle"]
    during = world.at(NOW + timedelta(minutes=59))
    assert support_flows.resolve_handle(session=session, guard=during, principal=bridge, handle=handle).unwrap()
    after = world.at(NOW + timedelta(minutes=61))
    with pytest.raises(NotFoundError):
        support_flows.resolve_handle(session=session, guard=after, principal=bridge, handle=handle).unwrap()
    # The certifier's own numbers (a relationship, not a grant) keep their usual lifetime.
    own = flows.read_report(
        session=session,
        guard=world.guard,
        principal=world.people["certifier"],
        report_id=world.report_a,
        purpose="TREAT",
    ).unwrap()
    kept = own.model_dump()["relatives"][0]["phone_handle"]
    assert support_flows.resolve_handle(session=session, guard=after, principal=bridge, handle=kept).unwrap()


def test_virtual_numbers_end_with_the_task_that_gave_them(session: Session, world: World) -> None:
    doctor, bridge = world.people["colleague"], world.people["bridge"]
    end = NOW + timedelta(hours=2)
    records.add_attending(
        session=session, report_id=world.report_a, account_id=doctor.account_id, start=NOW - timedelta(hours=1), end=end
    )
    view = flows.read_report(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_a, purpose="TREAT"
    ).unwrap()
    handle = view.model_dump()["relatives"][0]["phone_handle"]
    assert support_flows.resolve_handle(
        session=session, guard=world.at(end - timedelta(minutes=1)), principal=bridge, handle=handle
    ).unwrap()
    with pytest.raises(NotFoundError):  # the attending period is over: so is the number, not 72 h later
        support_flows.resolve_handle(
            session=session, guard=world.at(end + timedelta(minutes=1)), principal=bridge, handle=handle
        ).unwrap()


def test_a_worklist_s_numbers_end_with_the_task_and_a_held_number_is_shortened(session: Session, world: World) -> None:
    doctor, bridge = world.people["colleague"], world.people["bridge"]
    records.add_attending(
        session=session, report_id=world.report_a, account_id=doctor.account_id, start=NOW - timedelta(hours=1),
        end=NOW + timedelta(days=5),
    )  # fmt: skip
    listed = flows.search_reports(
        session=session, guard=world.guard, principal=doctor, q=None, district=None, purpose="TREAT"
    ).unwrap()
    handle = listed[0].model_dump()["relatives"][0]["phone_handle"]
    held = session.scalar(select(ContactHandle).where(ContactHandle.handle == handle))
    assert held is not None and held.expires_at == NOW + timedelta(hours=72)  # the task outlives 72 h
    # The attending period is cut short; the next look at the worklist shortens the number held.
    relation = session.scalar(select(TaskRelationship).where(TaskRelationship.account_id == doctor.account_id))
    assert relation is not None
    relation.valid_to = NOW + timedelta(hours=2)
    later = world.at(NOW + timedelta(hours=1))
    again = flows.search_reports(
        session=session, guard=later, principal=doctor, q=None, district=None, purpose="TREAT"
    ).unwrap()
    assert again[0].model_dump()["relatives"][0]["phone_handle"] == handle  # the same number, kept
    with pytest.raises(NotFoundError):  # but only while the task lasts
        support_flows.resolve_handle(
            session=session, guard=world.at(NOW + timedelta(hours=2, minutes=1)), principal=bridge, handle=handle
        ).unwrap()


def test_a_grant_found_unjustified_ends_at_once_with_its_virtual_numbers(session: Session, world: World) -> None:
    doctor, bridge, officer = world.people["colleague"], world.people["bridge"], world.people["officer"]
    reason = "patient arrived in arrest; need prior cardiac history now"
    grant = support_flows.request_breakglass(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG", reason=reason
    ).unwrap()
    view = flows.read_report(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG"
    ).unwrap()
    handle = view.model_dump()["relatives"][0]["phone_handle"]
    soon = world.at(NOW + timedelta(minutes=10))
    reviewed = support_flows.review_breakglass(
        session=session, guard=soon, principal=officer, grant_id=grant.grant_id, outcome="unjustified",
        note="no patient of that name was brought in",
    )  # fmt: skip
    assert reviewed.error is None
    later = world.at(NOW + timedelta(minutes=11))
    with pytest.raises(NotFoundError):
        support_flows.resolve_handle(session=session, guard=later, principal=bridge, handle=handle).unwrap()
    refused = flows.read_report(session=session, guard=later, principal=doctor, report_id=world.report_b, purpose="BTG")
    assert isinstance(refused.error, AccessDenied) and events(session)[-1].outcome == "denied"
    # A new emergency is a new grant, reviewed in its turn.
    again = support_flows.request_breakglass(
        session=session, guard=later, principal=doctor, report_id=world.report_b, purpose="BTG", reason=reason
    )
    assert again.error is None


def test_a_grant_found_justified_runs_its_hour(session: Session, world: World) -> None:
    doctor, officer = world.people["colleague"], world.people["officer"]
    reason = "patient arrived in arrest; need prior cardiac history now"
    grant = support_flows.request_breakglass(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG", reason=reason
    ).unwrap()
    soon = world.at(NOW + timedelta(minutes=10))
    assert support_flows.review_breakglass(
        session=session, guard=soon, principal=officer, grant_id=grant.grant_id, outcome="justified",
        note="the arrest is in the ED record",
    ).error is None  # fmt: skip
    read = flows.read_report(session=session, guard=soon, principal=doctor, report_id=world.report_b, purpose="BTG")
    assert read.error is None


@pytest.mark.parametrize(("who", "purpose"), [("emt", "HMARKT"), ("emt", "LEGAL"), ("police", "TREAT")])
def test_a_call_list_for_a_purpose_or_role_no_call_allows_is_a_recorded_refusal(
    session: Session, world: World, who: str, purpose: str
) -> None:
    outcome = dispatch_flows.list_visible(
        session=session, guard=world.guard, principal=world.people[who], purpose=purpose
    )
    assert isinstance(outcome.error, AccessDenied)
    last = events(session)[-1]
    assert (last.action, last.resource_type, last.outcome) == ("search", "dispatch", "denied") and last.reason


def test_a_crew_member_without_calls_gets_an_empty_allowed_list(session: Session, world: World) -> None:
    idle = world.people["emt"].model_copy(update={"account_id": "acc-emt-idle"})
    outcome = dispatch_flows.list_visible(session=session, guard=world.guard, principal=idle, purpose="TREAT")
    assert outcome.error is None and outcome.value == []
    assert events(session)[-1].outcome == "allowed"


def test_statistics_count_a_death_in_its_beijing_month(session: Session, world: World) -> None:
    # 16:53 UTC on 30 September is 00:53 on 1 October in Beijing.
    late = {**report_data("subj-oct", "周国强"), "death_time": datetime(2025, 9, 30, 16, 53, tzinfo=UTC)}
    made = records.create_report(session=session, hospital_org_id=world.orgs["hosp_a"], **late)  # type: ignore[arg-type]
    records.certify(session=session, report_id=made.id, certifier_id="acc-cert", at=NOW)
    months = {month for _, month, _, _ in records.death_statistics(session=session, district="310112")}
    assert "2025-10" in months and "2025-09" not in months


def test_an_unknown_call_id_is_refused_like_a_call_of_another_crew(session: Session, world: World) -> None:
    emt = world.people["emt"].model_copy(update={"account_id": "acc-emt-other"})
    missing = dispatch_flows.display(
        session=session, guard=world.guard, principal=emt, dispatch_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", purpose="TREAT"
    )
    other = dispatch_flows.display(
        session=session, guard=world.guard, principal=emt, dispatch_id=world.dispatch, purpose="TREAT"
    )
    assert isinstance(missing.error, AccessDenied) and str(missing.error) == str(other.error)
    assert missing.event is not None and "(no such record)" in missing.event.reason


def test_another_parts_code_is_answered_as_an_unknown_code(session: Session, world: World) -> None:
    clerk = world.people["clerk"]
    wrong = workflow_flows.present_code(session=session, guard=world.guard, principal=clerk, code=world.codes["police"])
    unknown = workflow_flows.present_code(session=session, guard=world.guard, principal=clerk, code="ZZZZZZZZZZ")
    assert isinstance(wrong.error, NotFoundError) and str(wrong.error) == str(unknown.error)
    assert (
        wrong.event is not None and "a code for the police part presented by role funeral_clerk" in wrong.event.reason
    )
    # The police part's code still works for the registrar.
    police = world.people["police"]
    assert workflow_flows.present_code(
        session=session, guard=world.guard, principal=police, code=world.codes["police"]
    ).allowed


def test_only_the_certifying_institution_issues_parts_and_only_once(session: Session, world: World) -> None:
    stranger = workflow_flows.issue_parts(
        session=session, guard=world.guard, principal=world.people["broker"], report_id=world.report_a
    )
    assert isinstance(stranger.error, AccessDenied) and "own institution" in str(stranger.error)
    again = workflow_flows.issue_parts(
        session=session, guard=world.guard, principal=world.people["certifier"], report_id=world.report_a
    )
    assert isinstance(again.error, ConflictError) and "already issued" in str(again.error)
    assert again.event is not None and again.event.outcome == "denied"


def test_only_the_certifying_institution_reports_to_a_coder_of_the_district(session: Session, world: World) -> None:
    stranger = workflow_flows.report_to_cdc(
        session=session, guard=world.guard, principal=world.people["certifier"], report_id=world.report_b,
        coder_id="acc-coder",
    )  # fmt: skip
    assert isinstance(stranger.error, AccessDenied)
    nobody = workflow_flows.report_to_cdc(
        session=session, guard=world.guard, principal=world.people["broker"], report_id=world.report_b,
        coder_id="acc-nobody",
    )  # fmt: skip
    assert isinstance(nobody.error, InputError) and nobody.error.where == "coder_id"
    assert session.get(DeathReport, world.report_b).status == "certified"  # nothing changed


def test_a_call_is_moved_on_only_by_its_crew_or_its_centres_dispatcher(session: Session, world: World) -> None:
    other_emt = world.people["emt"].model_copy(update={"account_id": "acc-emt-other"})
    other_centre = world.people["dispatcher"].model_copy(update={"org_id": world.orgs["hosp_b"]})
    for who in (other_emt, other_centre):
        refused = workflow_flows.advance_dispatch(
            session=session, guard=world.guard, principal=who, dispatch_id=world.dispatch, status="en_route"
        )
        assert isinstance(refused.error, AccessDenied), who.account_id
    moved = workflow_flows.advance_dispatch(
        session=session, guard=world.guard, principal=world.people["emt"], dispatch_id=world.dispatch, status="en_route"
    )
    assert moved.error is None


def test_a_reason_padded_with_spaces_and_a_second_open_grant_are_refused(session: Session, world: World) -> None:
    doctor = world.people["colleague"]
    padded = support_flows.request_breakglass(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG",
        reason="a" + " " * 18 + "b",
    )  # fmt: skip
    assert isinstance(padded.error, InputError) and padded.error.where == "reason"
    reason = "patient arrived in arrest; need prior cardiac history now"
    first = support_flows.request_breakglass(
        session=session, guard=world.guard, principal=doctor, report_id=world.report_b, purpose="BTG", reason=reason
    )
    assert first.error is None
    second = support_flows.request_breakglass(
        session=session, guard=world.at(NOW + timedelta(minutes=10)), principal=doctor, report_id=world.report_b,
        purpose="BTG", reason=reason,
    )  # fmt: skip
    assert isinstance(second.error, ConflictError) and second.event is not None and second.event.outcome == "denied"
    later = support_flows.request_breakglass(
        session=session, guard=world.at(NOW + timedelta(minutes=61)), principal=doctor, report_id=world.report_b,
        purpose="BTG", reason=reason,
    )  # fmt: skip
    assert later.error is None  # once the first has ended, a new grant may be asked for
