"""The city's daily work, run through the same flows the API uses, each step at its own time."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from piguard.config import Settings
from piguard.demo.loader import LoadedCity
from piguard.identity.schemas import Principal
from piguard.ledger.service import bind_settings
from piguard.policy.pdp import PolicyEngine
from piguard.records import canaries, dispatch_flows, flows, workflow_flows
from piguard.records.guard import Guard, Guarded
from piguard.simulate.city import City, Death, Dispatch

SEX = {"M": "male", "F": "female"}
LINES = "abcd"
# The demo must finish in about a minute on two cores: every death goes through every workflow
# step, while routine reads and calls that led to no death are sampled (1 in READ_SAMPLE deaths
# is read by each party; 1 in CALL_SAMPLE other calls is run).
READ_SAMPLE = 4
CALL_SAMPLE = 8


@dataclass
class WorkLog:
    """What the daily work did: outcomes counted, and ids the replay needs."""

    outcomes: Counter[str] = field(default_factory=Counter)
    report_ids: dict[str, str] = field(default_factory=dict)  # subject id -> report id
    report_hospital: dict[str, str] = field(default_factory=dict)  # report id -> simulator hospital id
    open_dispatches: list[tuple[str, str]] = field(default_factory=list)  # (dispatch id, crew staff id)
    failures: Counter[str] = field(default_factory=Counter)
    canaries: list[str] = field(default_factory=list)  # report ids of the decoys

    def note(self, outcome: Guarded[Any], step: str) -> Any:
        """Count an outcome; a refused workflow step is counted by reason (the demo reports them)."""
        self.outcomes[outcome.event.outcome] += 1
        if outcome.error is not None:
            self.failures[f"{step}: {type(outcome.error).__name__}"] += 1
            return None
        return outcome.value


@dataclass
class Context:
    """Everything a step needs."""

    city: City
    loaded: LoadedCity
    engine: PolicyEngine
    settings: Settings
    secret: bytes
    now: datetime
    log: WorkLog

    def guard(self, at: datetime) -> Guard:
        """A guard whose clock reads ``at``."""
        return Guard(engine=self.engine, settings=self.settings, secret=self.secret, now=at)

    def who(self, staff_id: str) -> Principal:
        """The principal of a simulator staff member."""
        return self.loaded.principals[staff_id]

    def pick(self, org_id: str, role: str, salt: str) -> str | None:
        """A deterministic choice of a person with ``role`` at ``org_id``."""
        people = self.loaded.staff_of(org_id, role)
        return people[sum(map(ord, salt)) % len(people)] if people else None


def _orgs(city: City, org_type: str, district: str) -> list[str]:
    return [o.org_id for o in city.organisations if o.org_type == org_type and o.district == district] or [
        o.org_id for o in city.organisations if o.org_type == org_type
    ]


def _report_data(death: Death, dispatch_id: str | None = None) -> dict[str, Any]:
    return {
        **({"dispatch_id": dispatch_id} if dispatch_id else {}),
        # The simulator numbers its people (s0000001, ...); ids in the service are opaque and
        # shaped like the canaries' (records/canaries.py), so a decoy cannot be told by its id.
        "subject_id": "s" + secrets.token_hex(8),
        "name": death.full_name,
        "sex": SEX.get(death.sex, "unknown"),
        "id_number": death.resident_id,
        "birth_date": death.birth_date,
        "ethnicity": death.ethnicity,
        "marital_status": death.marital_status,
        "occupation": death.occupation,
        "household_address": death.household_address,
        "usual_address": death.usual_address,
        "district": death.district,
        "compound": death.compound,
        "death_time": death.death_time,
        "place_of_death": death.place_of_death,
        "part1": [
            {"line": LINES[i], "text": c.text, "icd10": c.code, "interval": c.interval}
            for i, c in enumerate(death.part1[:4])
        ],
        "part2": "；".join(c.text for c in death.part2) or None,
        "manner": death.manner if death.manner in ("natural", "accident", "suicide", "homicide") else "pending",
        "relatives": [
            {"name": r.name, "relationship": r.relationship, "phone": r.phone, "address": r.address}
            for r in death.relatives
        ],
        "is_canary": death.is_canary,
    }


def run_dispatch(session: Session, ctx: Context, call: Dispatch, *, close: bool = True) -> str | None:
    """A dispatcher opens the call, the crew reads the MDT on the way, the call closes."""
    centre = next(o.org_id for o in ctx.city.organisations if o.org_type == "emergency_center")
    dispatcher = ctx.pick(centre, "dispatcher", call.dispatch_id)
    vehicle = ctx.loaded.vehicles.get(call.terminal_id)
    crew = [c for c in call.crew_ids if c in ctx.loaded.principals]
    if dispatcher is None or vehicle is None or not crew or call.assigned > ctx.now:
        return None
    data = {
        "district": call.district,
        "priority": f"P{min(max(call.priority, 1), 4)}",
        "pickup_address": call.pickup_address,
        "access_notes": call.access_notes,
        "chief_complaint": call.chief_complaint,
        "patient_age": call.patient_age,
        "patient_sex": SEX.get(call.patient_sex),
        "hazards": "、".join(call.hazards) or None,
        "destination": call.destination,
        "caller_phone": call.caller_phone,
    }
    opened = ctx.log.note(
        workflow_flows.open_dispatch(
            session=session,
            guard=ctx.guard(call.assigned),
            principal=ctx.who(dispatcher),
            data=data,
            vehicle_id=vehicle,
            crew_ids=[ctx.who(c).account_id for c in crew],
        ),
        "open_dispatch",
    )
    if opened is None:
        return None
    crew_member = ctx.who(crew[0])
    steps: list[tuple[datetime, Callable[[], Guarded[Any]], str]] = [
        (
            call.en_route,
            lambda: workflow_flows.advance_dispatch(
                session=session,
                guard=ctx.guard(call.en_route),
                principal=crew_member,
                dispatch_id=opened.id,
                status="en_route",
            ),
            "en_route",
        ),
        (
            call.en_route + timedelta(minutes=1),
            lambda: dispatch_flows.display(
                session=session,
                guard=ctx.guard(call.en_route + timedelta(minutes=1)),
                principal=crew_member,
                dispatch_id=opened.id,
                purpose="ETREAT",
            ),
            "mdt_read",
        ),
        (
            call.on_scene,
            lambda: workflow_flows.advance_dispatch(
                session=session,
                guard=ctx.guard(call.on_scene),
                principal=crew_member,
                dispatch_id=opened.id,
                status="on_scene",
            ),
            "on_scene",
        ),
    ]
    if close:
        steps.append(
            (
                call.closed,
                lambda: workflow_flows.advance_dispatch(
                    session=session,
                    guard=ctx.guard(call.closed),
                    principal=crew_member,
                    dispatch_id=opened.id,
                    status="closed",
                ),
                "closed",
            )
        )
    for at, step, name in steps:
        if at > ctx.now:
            ctx.log.open_dispatches.append((opened.id, crew[0]))
            break
        ctx.log.note(step(), name)
    else:
        if not close:
            ctx.log.open_dispatches.append((opened.id, crew[0]))
    return str(opened.id)


def run_death(session: Session, ctx: Context, death: Death, *, dispatch_id: str | None = None) -> None:
    """Certify, report, code, issue the parts and let the family present them, each by its person.

    ``dispatch_id``: the 120 call that brought the death in, linked to the report (the crew's
    screen then counts in the family's account, and a deletion names the call's caller number).
    """
    hospital = death.hospital_org_id or _orgs(ctx.city, "hospital", death.district)[0]
    if death.is_canary:
        # A decoy: stored complete, but no workflow ever touches it (see records/canaries.py).
        certifier_sim = ctx.pick(hospital, "physician", death.subject_id)
        canary = canaries.plant_death(
            session=session,
            death=death,
            hospital_id=ctx.loaded.orgs[hospital],
            district=next(o.district for o in ctx.city.organisations if o.org_id == hospital),
            certifier_id=ctx.who(certifier_sim).account_id if certifier_sim else None,
            now=ctx.now,
        )
        ctx.log.canaries.append(canary.report_id)
        return
    certifier = death.certifier_id if death.certifier_id in ctx.loaded.principals else None
    if certifier is None or ctx.who(certifier).role != "physician":
        certifier = ctx.pick(hospital, "physician", death.subject_id)
    if certifier is None:
        return
    doctor = ctx.who(certifier)
    base = death.death_time
    report_id = ctx.log.note(
        workflow_flows.open_report(
            session=session,
            guard=ctx.guard(base + timedelta(minutes=40)),
            principal=doctor,
            data=_report_data(death, dispatch_id),
        ),
        "open_report",
    )
    if report_id is None:
        return
    report_id = report_id.id
    ctx.log.report_ids[death.subject_id] = report_id
    ctx.log.report_hospital[report_id] = hospital
    from piguard.records import service as records

    for staff_id in death.attending_ids:
        if staff_id in ctx.loaded.principals and staff_id != certifier:
            start = death.admission_time or base - timedelta(hours=2)
            records.add_attending(
                session=session,
                report_id=report_id,
                account_id=ctx.who(staff_id).account_id,
                start=start,
                end=base + timedelta(days=30),
            )
    coder = ctx.pick(_orgs(ctx.city, "cdc", death.district)[0], "cdc_coder", death.subject_id)
    police = ctx.pick(_orgs(ctx.city, "police", death.district)[0], "police_registrar", death.subject_id)
    clerk = ctx.pick(death.funeral_home_id, "funeral_clerk", death.subject_id)
    codes: dict[str, str] = {}

    def at(delta: timedelta) -> Guard:
        return ctx.guard(base + delta)

    plan: list[tuple[timedelta, str, Callable[[Guard], Guarded[Any] | None]]] = [
        (
            timedelta(minutes=60),
            "certify",
            lambda g: workflow_flows.certify(session=session, guard=g, principal=doctor, report_id=report_id),
        ),
        (
            timedelta(minutes=70),
            "certifier_read",
            lambda g: flows.read_report(
                session=session, guard=g, principal=doctor, report_id=report_id, purpose="HOPERAT"
            ),
        ),
        (timedelta(hours=2), "issue_parts", lambda g: _issue(session, g, doctor, report_id, codes)),
        (
            timedelta(hours=6),
            "report_to_cdc",
            lambda g: (
                workflow_flows.report_to_cdc(
                    session=session, guard=g, principal=doctor, report_id=report_id, coder_id=ctx.who(coder).account_id
                )
                if coder
                else None
            ),
        ),
        (
            timedelta(days=1),
            "coder_read",
            lambda g: (
                flows.read_report(
                    session=session, guard=g, principal=ctx.who(coder), report_id=report_id, purpose="PUBHLTH"
                )
                if coder
                else None
            ),
        ),
        (
            timedelta(days=1, minutes=20),
            "code_cause",
            lambda g: (
                workflow_flows.code_cause(
                    session=session,
                    guard=g,
                    principal=ctx.who(coder),
                    report_id=report_id,
                    icd10=death.underlying_cause,
                )
                if coder
                else None
            ),
        ),
        (
            timedelta(days=2),
            "funeral_present",
            lambda g: (
                workflow_flows.present_code(session=session, guard=g, principal=ctx.who(clerk), code=codes["funeral"])
                if clerk and "funeral" in codes
                else None
            ),
        ),
        (
            timedelta(days=2, minutes=5),
            "funeral_read",
            lambda g: (
                flows.read_report(
                    session=session, guard=g, principal=ctx.who(clerk), report_id=report_id, purpose="FAMRQT"
                )
                if clerk and "funeral" in codes
                else None
            ),
        ),
        (
            timedelta(days=3),
            "police_present",
            lambda g: (
                workflow_flows.present_code(session=session, guard=g, principal=ctx.who(police), code=codes["police"])
                if police and "police" in codes
                else None
            ),
        ),
        (
            timedelta(days=3, minutes=5),
            "police_read",
            lambda g: (
                flows.read_report(
                    session=session, guard=g, principal=ctx.who(police), report_id=report_id, purpose="LEGAL"
                )
                if police and "police" in codes
                else None
            ),
        ),
    ]
    sampled = sum(map(ord, death.subject_id)) % READ_SAMPLE == 0
    for delta, name, step in plan:
        if base + delta > ctx.now:
            break
        if name.endswith("_read") and not sampled:
            continue
        outcome = step(at(delta))
        if outcome is not None:
            ctx.log.note(outcome, name)


def _issue(session: Session, guard: Guard, doctor: Principal, report_id: str, codes: dict[str, str]) -> Guarded[Any]:
    outcome = workflow_flows.issue_parts(session=session, guard=guard, principal=doctor, report_id=report_id)
    if outcome.value:
        codes.update(outcome.value)
    return outcome


def _cases(ctx: Context) -> list[tuple[datetime, str, Any]]:
    death_calls = {d.dispatch_id for d in ctx.city.deaths if d.dispatch_id}
    cases: list[tuple[datetime, str, Any]] = [(d.death_time, "death", d) for d in ctx.city.deaths]
    others = [c for c in ctx.city.dispatches if c.dispatch_id not in death_calls]
    cases += [(c.assigned, "call", c) for i, c in enumerate(others) if i % CALL_SAMPLE == 0 or c.closed > ctx.now]
    cases.sort(key=lambda item: (item[0], item[1]))
    return cases


def count_cases(ctx: Context) -> int:
    """How many cases (deaths and calls) the daily work will run."""
    return len(_cases(ctx))


def run_city(*, sessions: sessionmaker[Session], ctx: Context, tick: Callable[[], None]) -> None:
    """Run every death and the sampled calls in time order, one transaction per case."""
    by_dispatch = {d.dispatch_id: d for d in ctx.city.dispatches}
    for _, kind, case in _cases(ctx):
        with sessions() as session, session.begin():
            bind_settings(session, ctx.settings)
            if kind == "call":
                run_dispatch(session, ctx, case)
            else:
                call_id = None
                if case.dispatch_id and case.dispatch_id in by_dispatch and not case.is_canary:
                    call_id = run_dispatch(session, ctx, by_dispatch[case.dispatch_id])
                run_death(session, ctx, case, dispatch_id=call_id)
        tick()
