"""Replay the Minhang pattern against the guarded service and show each attempt fail (or stay minimal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.demo.loader import lapsed_physician
from piguard.demo.workflows import Context, run_dispatch
from piguard.identity import service as identity
from piguard.identity.models import Account
from piguard.identity.schemas import Principal
from piguard.identity.sessions import principal_for
from piguard.minimize.models import ContactHandle
from piguard.oversight.family import flows as family
from piguard.oversight.family.schemas import DisclosureAccount, FamilyRequestIn
from piguard.records import dispatch_flows, flows, support_flows
from piguard.records import service as records
from piguard.simulate.city import Dispatch


@dataclass(frozen=True, slots=True)
class Check:
    """One replayed attempt: what was tried, what piguard did, and whether that is what should happen."""

    attempt: str
    outcome: str
    passed: bool
    detail: str


def _hospitals(ctx: Context) -> list[str]:
    return [o.org_id for o in ctx.city.organisations if o.org_type == "hospital"]


def replay(session: Session, ctx: Context) -> list[Check]:
    """Run the insider attempts of the Minhang case at the demo's 'now'."""
    guard = ctx.guard(ctx.now)
    checks: list[Check] = []
    hospitals = _hospitals(ctx)
    own, other = hospitals[0], hospitals[1]
    doctor_id = ctx.loaded.staff_of(own, "physician")[0]
    doctor = ctx.who(doctor_id)
    foreign = [rid for rid, hosp in ctx.log.report_hospital.items() if hosp == other]

    read = flows.read_report(session=session, guard=guard, principal=doctor, report_id=foreign[0], purpose="TREAT")
    checks.append(
        Check(
            "physician reads a death report of another hospital",
            read.event.outcome,
            not read.allowed,
            read.event.reason or "",
        )
    )
    found = flows.search_reports(
        session=session, guard=guard, principal=doctor, q=None, district=None, purpose="TREAT", limit=500
    )
    leaked = [v for v in found.value or [] if ctx.log.report_hospital.get(v.model_dump()["report_id"]) != own]
    checks.append(
        Check(
            "same physician searches every death report",
            f"{found.event.result_count} own-task results",
            not leaked,
            f"{len(leaked)} reports of other hospitals returned",
        )
    )

    if not ctx.log.open_dispatches:
        call = ctx.city.dispatches[-1]
        fresh = Dispatch(
            **{
                **{f: getattr(call, f) for f in call.__dataclass_fields__},
                "assigned": ctx.now - timedelta(minutes=9),
                "en_route": ctx.now - timedelta(minutes=8),
                "on_scene": ctx.now - timedelta(minutes=1),
                "closed": ctx.now + timedelta(hours=1),
            }
        )
        run_dispatch(session, ctx, fresh, close=False)
    dispatch_id, crew_id = ctx.log.open_dispatches[-1]
    mdt = dispatch_flows.display(
        session=session, guard=guard, principal=ctx.who(crew_id), dispatch_id=dispatch_id, purpose="ETREAT"
    )
    body = mdt.value.model_dump() if mdt.value else {}
    minimal = mdt.allowed and "relatives" not in body and str(body.get("caller_handle", "")).startswith("95")
    checks.append(
        Check(
            "EMT screen of an assigned open call",
            mdt.event.outcome,
            minimal,
            f"fields: {', '.join(mdt.event.fields)}; caller shown only as virtual number",
        )
    )

    clerk = ctx.loaded.staff_of(
        next(o.org_id for o in ctx.city.organisations if o.org_type == "funeral_home"), "funeral_clerk"
    )[0]
    unpresented = foreign[-1]
    attempt = flows.read_report(
        session=session, guard=guard, principal=ctx.who(clerk), report_id=unpresented, purpose="FAMRQT"
    )
    relation = "funeral" not in (attempt.decision.policy_ids if attempt.decision else ())
    checks.append(
        Check(
            "funeral clerk looks up a death without the family's code",
            attempt.event.outcome,
            not attempt.allowed or not relation,
            attempt.event.reason or "",
        )
    )

    coder, assigned = _assigned_coder(session, ctx)
    coded = flows.read_report(
        session=session,
        guard=guard,
        principal=coder,
        report_id=assigned,
        purpose="PUBHLTH",
        context="hospital_certifier",
    )
    checks.append(
        Check(
            "CDC coder asks for the certifier's screen (relatives' contacts)",
            coded.event.outcome,
            not coded.allowed and "hospital_certifier" in (coded.event.reason or ""),
            coded.event.reason or "",
        )
    )

    lapsed_id = lapsed_physician(ctx.city)
    lapsed = ctx.who(lapsed_id) if lapsed_id is not None else doctor
    own_reports = [rid for rid, hosp in ctx.log.report_hospital.items() if hosp == own]
    gate = flows.read_report(session=session, guard=guard, principal=lapsed, report_id=own_reports[0], purpose="TREAT")
    checks.append(
        Check(
            "physician whose privacy training lapsed",
            gate.event.outcome,
            not gate.allowed and "training-gate" in (gate.event.reason or ""),
            gate.event.reason or "",
        )
    )

    glass = support_flows.request_breakglass(
        session=session,
        guard=guard,
        principal=doctor,
        report_id=foreign[1],
        purpose="BTG",
        reason="patient transferred in cardiac arrest; prior certificate needed",
    )
    after = flows.read_report(session=session, guard=guard, principal=doctor, report_id=foreign[1], purpose="BTG")
    checks.append(
        Check(
            "break-glass: one record, one hour, flagged for review",
            after.event.outcome,
            glass.allowed and after.allowed and glass.value is not None and glass.value.review_status == "pending",
            "grant recorded in the ledger and queued for review",
        )
    )
    checks.append(_late_call(session, ctx, doctor))
    checks.append(_family_request(session, ctx, foreign[0], refused_by=doctor.account_id))
    return checks


def _late_call(session: Session, ctx: Context, doctor: Principal) -> Check:
    """A funeral business dials a relative's virtual number the physician was shown days ago, after it ended."""
    attempt = "a relative's virtual number, shown to the physician days ago, dialled after it ended"
    expired = session.scalar(
        select(ContactHandle.handle)
        .where(
            ContactHandle.viewer_id == doctor.account_id,
            ContactHandle.target.like("relative:%"),
            ContactHandle.expires_at <= ctx.now,
        )
        .order_by(ContactHandle.expires_at.desc(), ContactHandle.handle)
        .limit(1)
    )
    if expired is None:  # a very short demo: the physician's numbers are all still live
        return Check(attempt, "not replayed", True, "no number shown to the physician has ended yet")
    call = support_flows.resolve_handle(session=session, guard=ctx.guard(ctx.now), principal=_bridge(session, ctx),
                                        handle=expired)  # fmt: skip
    named = call.event.outcome == "denied" and f"handle issued to {doctor.account_id}" in (call.event.reason or "")
    return Check(
        attempt,
        call.event.outcome,
        named and call.value is None,
        "no number given; the event names whom it was shown to (detection: late_handle_call)",
    )


def _bridge(session: Session, ctx: Context) -> Principal:
    """The telephony bridge: a service account of the emergency centre holding the handles:resolve scope."""
    centre = next(o.org_id for o in ctx.city.organisations if o.org_type == "emergency_center")
    made = identity.create_account(
        session=session, secret=ctx.secret, username="svc-telephony", display_name="Telephony bridge",
        role="service", org_id=ctx.loaded.orgs[centre], kind="service", now=ctx.now,
    )  # fmt: skip
    account = session.get(Account, made.account.id)
    assert account is not None
    return principal_for(session, account, session_id=None, terminal_id="pbx-1", source_ip=None,
                         scopes=("handles:resolve",))  # fmt: skip


def _assigned_coder(session: Session, ctx: Context) -> tuple[Principal, str]:
    """A CDC coder and a report assigned to them: the task relationship holds, so only the screen can refuse."""
    for org in ctx.city.organisations:
        if org.org_type != "cdc":
            continue
        for staff in ctx.loaded.staff_of(org.org_id, "cdc_coder"):
            coder = ctx.who(staff)
            live = records.related_ids_query(account_id=coder.account_id, resource_type="death_report", at=ctx.now)
            report_id = session.scalar(live.limit(1))
            if report_id is not None:
                return coder, str(report_id)
    raise RuntimeError("the demo city coded no report")


def _family_request(session: Session, ctx: Context, report_id: str, *, refused_by: str) -> Check:
    """A child asks who saw their parent's record (PIPL Art. 49): the account shows the refused lookup."""
    # The privacy office of a health commission whose jurisdiction covers the record's hospital.
    orgs = {o.org_id: o for o in ctx.city.organisations}
    district = orgs[ctx.log.report_hospital[report_id]].district
    covering = [
        o.org_id
        for o in ctx.city.organisations
        if o.org_type == "health_commission" and (o.level == "municipal" or o.district == district)
    ]
    officers = next(
        staff for staff in (ctx.loaded.staff_of(org, "privacy_officer") for org in covering) if len(staff) >= 2
    )
    registrar, answerer = (ctx.who(i) for i in officers[:2])
    made = family.register(
        session=session,
        guard=ctx.guard(ctx.now + timedelta(seconds=1)),  # after the lookups, not in the future
        principal=registrar,
        data=FamilyRequestIn(
            report_id=report_id, requester_name="王小明", relationship="child", proof="ID card; household register"
        ),
    )
    answer = (
        family.answer(
            session=session,
            guard=ctx.guard(ctx.now + timedelta(seconds=2)),
            principal=answerer,
            request_id=made.value.id,
        )
        if made.value is not None
        else None
    )
    account = answer.value if answer is not None and isinstance(answer.value, DisclosureAccount) else None
    refused = [line for line in account.lines if line.outcome == "denied"] if account else []
    shown = account is not None and bool(refused) and refused_by not in account.model_dump_json()
    detail = (
        f"{account.accesses} accesses, {account.denied} refused, by {len(account.by_organisation)} organisations; "
        "staff shown as 'staff N', never by name"
        if account
        else str(made.error or (answer.error if answer else ""))
    )
    return Check("relative asks who saw the record (PIPL Art. 49)", "answered" if account else "failed", shown, detail)
