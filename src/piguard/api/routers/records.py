"""Death reports, dispatches (MDT), statistics and contact handles: thin doors over the guarded flows.

Routes that disclose record content run their flow through ``ratelimit.limited`` (the account's
disclosure allowance), and death-report searches through ``ratelimit.limited_search``
(charged per record); an ambulance crew's own calls, statistics (aggregates only) and
corrections do not count.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import PathId
from piguard.api.purpose import fixed_purpose, refuse_repeated, repeated_parameter
from piguard.api.ratelimit import crew_own_call, declared_purpose, limited, limited_search
from piguard.errors import UnknownContextError
from piguard.identity.schemas import Principal
from piguard.minimize.contexts import parse_context
from piguard.minimize.views import AmbulanceMdtView, CdcStatisticsView
from piguard.records import dispatch_flows, flows, support_flows, workflow_flows
from piguard.records.guard import EventDraft, Guarded, refuse

router = APIRouter()

# No length limit here: a purpose or context of any length reaches the flow, which refuses an
# unknown one with a 400 and records the refusal (the value itself is never recorded or echoed).
Purpose = Annotated[
    str | None,
    Query(
        description="HL7 v3 ActReason purpose of use, e.g. TREAT. Required, once: missing, unknown or repeated is a 400"
        " (recorded as a denied access).",
    ),
]
Context = Annotated[
    str | None,
    Query(description="Display context (defaults to the role's screen); unknown or repeated is a 400 (recorded)."),
]


class ReportList(BaseModel):
    """Search results, each projected onto the caller's display context."""

    context: str
    count: int
    items: list[dict[str, Any]]


class DispatchList(BaseModel):
    """The calls the caller may see on the MDT."""

    context: str = "ambulance_mdt"
    count: int
    items: list[AmbulanceMdtView]


class ResolveRequest(BaseModel):
    """A virtual number to resolve (telephony bridge only)."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=6, max_length=20, pattern=r"^[0-9]+$")


class ResolveResponse(BaseModel):
    """The real number behind a handle, for connecting the call."""

    handle: str
    number: str


@router.get("/death-reports", response_model=ReportList)
def search_death_reports(
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    purpose: Purpose = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Name or certificate number; once (repeated: a recorded 400).")
    ] = None,
    district: Annotated[
        str | None, Query(pattern=r"^[0-9]{6}$", description="One district code; once (repeated: a recorded 400).")
    ] = None,
    context: Context = None,
) -> ReportList:
    """Search the reports you have a task relationship with."""
    # FastAPI would hand over only the last of a repeated filter: which search was asked is ambiguous.
    refuse_repeated(
        request,
        session=session,
        guard=guard,
        principal=principal,
        action="search",
        resource_type="death_report",
        names=("purpose", "context", "q", "district"),
    )
    query = ";".join(f"{k}={v}" for k, v in (("q", q), ("district", district)) if v) or None
    draft = EventDraft(action="search", resource_type="death_report", purpose=declared_purpose(purpose), query=query)
    # A filter (q, district) can walk a caseload search by search, so each record returned is
    # charged; the plain worklist returns the same newest 50 of one's own tasks every time (there
    # is no paging to walk with), so refreshing it costs one request.
    charged = limited_search if (q or district) else limited
    with session.begin():
        outcome = charged(
            session=session,
            guard=guard,
            principal=principal,
            draft=draft,
            flow=lambda: flows.search_reports(
                session=session,
                guard=guard,
                principal=principal,
                q=q,
                district=district,
                purpose=purpose,
                context=context,
            ),
        )
    views = outcome.unwrap()
    name = views[0].model_dump()["context"] if views else (context or _default_context(principal.role))
    return ReportList(context=name, count=len(views), items=[v.model_dump(mode="json") for v in views])


def _default_context(role: str) -> str:
    from piguard.minimize.contexts import ROLE_REPORT_CONTEXT

    return ROLE_REPORT_CONTEXT.get(role, "hospital_certifier")


@router.get("/death-reports/{report_id}")
def read_death_report(
    report_id: PathId,
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    purpose: Purpose = None,
    context: Context = None,
) -> dict[str, Any]:
    """One report, projected onto your display context (top-level ``context`` names it)."""
    refuse_repeated(
        request,
        session=session,
        guard=guard,
        principal=principal,
        action="read",
        resource_type="death_report",
        resource_id=report_id,
        names=("purpose", "context"),
    )
    draft = EventDraft(
        action="read", resource_type="death_report", resource_id=report_id, purpose=declared_purpose(purpose)
    )
    with session.begin():
        outcome = limited(
            session=session,
            guard=guard,
            principal=principal,
            draft=draft,
            flow=lambda: flows.read_report(
                session=session,
                guard=guard,
                principal=principal,
                report_id=report_id,
                purpose=purpose,
                context=context,
            ),
        )
    return outcome.unwrap().model_dump(mode="json")


@router.get("/dispatches", response_model=DispatchList)
def list_dispatches(
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    purpose: Purpose = None,
    context: Context = None,
) -> DispatchList:
    """Calls you may see now: your crew's assigned calls, or your centre's open calls (``dispatch_id`` opens one)."""
    refuse_repeated(
        request,
        session=session,
        guard=guard,
        principal=principal,
        action="search",
        resource_type="dispatch",
        query="assigned",  # as the flow records the list
        names=("purpose", "context"),
    )
    draft = EventDraft(action="search", resource_type="dispatch", purpose=declared_purpose(purpose), query="assigned")
    with session.begin():

        def flow() -> Guarded[list[AmbulanceMdtView]]:
            return dispatch_flows.list_visible(
                session=session, guard=guard, principal=principal, purpose=purpose, context=context
            )

        if crew_own_call(session=session, guard=guard, principal=principal, dispatch_id=None):
            outcome = flow()  # a crew's own calls: not counted
        else:
            # One request however many open calls it lists: a centre's console takes no search text to
            # walk with, and its calls show callers only as virtual numbers.
            outcome = limited(session=session, guard=guard, principal=principal, draft=draft, flow=flow)
    views = outcome.unwrap()
    return DispatchList(count=len(views), items=views)


@router.get("/dispatches/{dispatch_id}/display", response_model=AmbulanceMdtView)
def dispatch_display(
    dispatch_id: PathId,
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    purpose: Purpose = None,
    context: Context = None,
) -> AmbulanceMdtView:
    """The MDT display of one call (assigned crew, open call or grace period only)."""
    refuse_repeated(
        request,
        session=session,
        guard=guard,
        principal=principal,
        action="read",
        resource_type="dispatch",
        resource_id=dispatch_id,
        names=("purpose", "context"),
    )
    draft = EventDraft(
        action="read", resource_type="dispatch", resource_id=dispatch_id, purpose=declared_purpose(purpose)
    )
    with session.begin():

        def flow() -> Guarded[AmbulanceMdtView]:
            if context and draft.purpose is not None:
                # A call has one screen; another context is refused as the list refuses it (a bad
                # purpose is refused first, by the flow).
                try:
                    parse_context(context, role=principal.role, kind="dispatch")
                except UnknownContextError as exc:
                    return refuse(session, principal, draft, exc, guard.clock())
            return dispatch_flows.display(
                session=session, guard=guard, principal=principal, dispatch_id=dispatch_id, purpose=purpose
            )

        if crew_own_call(session=session, guard=guard, principal=principal, dispatch_id=dispatch_id):
            outcome = flow()  # a call assigned to this crew member: not counted
        else:
            outcome = limited(session=session, guard=guard, principal=principal, draft=draft, flow=flow)
    return outcome.unwrap()


class StatisticsQuery(BaseModel):
    """The statistics query: a filter the route does not implement is a 422 naming it, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(
        default=None, description="PUBHLTH. Required, once: missing, unknown or repeated is a 400 (recorded)."
    )
    # No length limit: the flow refuses any other context with a recorded 400 (the value is never recorded).
    context: str | None = Field(
        default=None, description="cdc_statistics (the default); any other, or repeated, is a 400 (recorded)."
    )
    district: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="One district's cells only; repeated is a 400 (recorded)."
    )
    closed_only: bool = Field(
        default=False,
        description="Only months that have ended (Beijing time): the current month moves with each death."
        " Repeated is a 400 (recorded).",
    )


# Every statistics parameter holds one value: FastAPI would silently use the last of a repeated one.
STATISTICS_SINGLE = ("purpose", "context", "district", "closed_only")


@router.get("/statistics/deaths", response_model=CdcStatisticsView)
def death_statistics(
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    params: Annotated[StatisticsQuery, Query()],
) -> CdcStatisticsView:
    """City-wide deaths as aggregates only: every chapter cell of each district and month; counts 0-4 suppressed."""
    refuse_repeated(
        request,
        session=session,
        guard=guard,
        principal=principal,
        action="read",
        resource_type="statistics",
        # A repeated filter is recorded without its values: which one was meant is what is unknown.
        query=None
        if repeated_parameter(request, ("district", "closed_only"))
        else support_flows.statistics_query(params.district, params.closed_only),
        names=STATISTICS_SINGLE,
    )
    with session.begin():
        outcome = support_flows.statistics(
            session=session,
            guard=guard,
            principal=principal,
            purpose=params.purpose,
            district=params.district,
            context=params.context,
            closed_only=params.closed_only,
        )
    return outcome.unwrap()


@router.post(
    "/handles/resolve",
    response_model=ResolveResponse,
    dependencies=[fixed_purpose(support_flows.RESOLVE_PURPOSE, "contact", action="resolve_handle")],
)
def resolve_handle(
    body: ResolveRequest, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ResolveResponse:
    """Telephony bridge only: the real number behind a live virtual number."""
    draft = EventDraft(action="resolve_handle", resource_type="contact", purpose=support_flows.RESOLVE_PURPOSE)
    with session.begin():
        outcome = limited(
            session=session,
            guard=guard,
            principal=principal,
            draft=draft,
            flow=lambda: support_flows.resolve_handle(
                session=session, guard=guard, principal=principal, handle=body.handle
            ),
        )
    return ResolveResponse(handle=body.handle, number=outcome.unwrap())


class PresentCode(BaseModel):
    """The one-time code the family hands over with its certificate part."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=4, max_length=32)


class Presented(BaseModel):
    """The report the code opened for you (read it with your purpose of use)."""

    report_id: str


class Correction(BaseModel):
    """A correction by the certifier: field, new value and why."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=64)
    value: str | None = Field(default=None, max_length=300)
    reason: str = Field(min_length=10, max_length=500)


def _presenting_purpose(principal: Principal) -> str:
    """The purpose a code presentation acts under, as the flow records it."""
    return "LEGAL" if principal.role == "police_registrar" else "FAMRQT"


@router.post(
    "/death-reports/present-code",
    response_model=Presented,
    dependencies=[fixed_purpose(_presenting_purpose, "death_report")],
)
def present_code(body: PresentCode, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> Presented:
    """A police registrar or funeral clerk records the family's code; only then can they read their part."""
    # A presented code opens a report to the caller, so presentations count like reads.
    draft = EventDraft(action="update", resource_type="death_report", purpose=_presenting_purpose(principal))
    with session.begin():
        outcome = limited(
            session=session,
            guard=guard,
            principal=principal,
            draft=draft,
            flow=lambda: workflow_flows.present_code(session=session, guard=guard, principal=principal, code=body.code),
        )
    return Presented(report_id=outcome.unwrap().id)


# A certifier's correction is healthcare operations (as ``workflow_flows.correct_report`` records it).
@router.post(
    "/death-reports/{report_id}/corrections",
    status_code=204,
    dependencies=[fixed_purpose("HOPERAT", "death_report")],
)
def correct(
    report_id: PathId,
    body: Correction,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
) -> None:
    """The certifier corrects one field with a reason (history kept)."""
    with session.begin():
        outcome = workflow_flows.correct_report(
            session=session,
            guard=guard,
            principal=principal,
            report_id=report_id,
            field=body.field,
            value=body.value,
            reason=body.reason,
        )
    outcome.unwrap()
