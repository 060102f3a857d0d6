"""One purpose of use (and one display context) per request: a repeated or contradicting one is refused and recorded.

Starlette keeps every value of a repeated query parameter and FastAPI hands the route the last
one, so ``?purpose=SELL&purpose=TREAT`` would be read as ``TREAT``. Which purpose the caller
declared is then ambiguous, so it is refused like an unknown purpose: HTTP 400 naming the
parameter, with one denied access event in the ledger (docs/access-policy.md, step 2).

The same holds for a route's other single-valued query parameters (a death-report search's ``q``
and ``district``): the route names them to :func:`refuse_repeated`.

Routes that take a declared purpose call :func:`refuse_repeated` first thing in their body, i.e.
after FastAPI has validated the path and the other query parameters (a malformed id stays a 422
that reaches no ledger). Routes that act under one fixed purpose (the oversight routes, break-glass
review, handle resolution, code presentation, corrections) take :func:`fixed_purpose` as a
dependency: a declared ``purpose`` must be that one, given once, or it is the same recorded 400.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.errors import InputError, UnknownContextError, UnknownPurposeError
from piguard.identity.schemas import Principal
from piguard.policy.purposes import PURPOSES
from piguard.records.guard import EventDraft, Guard, Guarded, refuse

# The query parameters that must hold a single value, and the 400 a repetition raises; any other
# parameter a route names (a search's ``q`` or ``district``) raises the purpose's, a 400 naming it too.
SINGLE_VALUED: dict[str, type[InputError]] = {"purpose": UnknownPurposeError, "context": UnknownContextError}
REPEATED = "given more than once; send exactly one value"

# A route's fixed purpose: one code, or one per principal (a code presentation: LEGAL or FAMRQT by role).
PurposeOf = str | Callable[[Principal], str]


def repeated_parameter(request: Request, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` given more than once in the query string, if any."""
    for name in names:
        if len(request.query_params.getlist(name)) > 1:
            return name
    return None


def refuse_repeated(
    request: Request,
    *,
    session: Session,
    guard: Guard,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    query: str | None = None,
    names: tuple[str, ...] = ("purpose",),
) -> None:
    """Raise a 400 naming the parameter if one of ``names`` is repeated, after recording the denial.

    The denied event has the shape the flow gives an unknown purpose (action, resource, no purpose).
    """
    name = repeated_parameter(request, names)
    if name is None:
        return
    draft = EventDraft(
        action=action,
        resource_type=resource_type,
        resource_id=resource_id[:64] if resource_id else None,
        query=query,
    )
    error = SINGLE_VALUED.get(name, UnknownPurposeError)(REPEATED, where=name)
    refuse_recorded(session, guard, principal, draft, error)


def refuse_recorded(session: Session, guard: Guard, principal: Principal, draft: EventDraft, error: InputError) -> None:
    """Record ``draft`` as a denied event in its own transaction, then raise ``error`` (a 400)."""
    with session.begin():
        outcome: Guarded[object] = refuse(session, principal, draft, error, guard.clock())
    outcome.unwrap()  # raises the 400 after the denial is committed


def fixed_purpose(purpose: PurposeOf, resource_type: str | Mapping[str, str], *, action: str | None = None) -> Any:
    """A dependency for routes that act under one purpose: a declared ``purpose`` must be it, once.

    No ``purpose`` (or an empty one) is accepted: the route's purpose is not the caller's choice.
    The same code (in any case) is accepted too. A different or unknown code, or the parameter
    given twice, is a 400 naming ``purpose`` and one denied event: ``action`` (default ``read``
    for a GET, ``create`` for a route answering 201, else ``update``), ``resource_type`` (for a
    router of several resources, the type its first mapped path segment names), the first path
    parameter as the resource id, no purpose. A malformed path id or query parameter is left to
    FastAPI's 422, which reaches no ledger.
    """

    described = purpose if isinstance(purpose, str) else "the purpose of the caller's role"
    # Declared for the OpenAPI description only (the annotation must resolve at module level).
    documented = Query(
        default=None,
        alias="purpose",
        description=f"Optional: this route acts for {described}; any other value, or two, is a 400 (recorded).",
    )

    def check_declared_purpose(
        request: Request,
        session: SessionDep,
        guard: GuardDep,
        principal: PrincipalDep,
        _: str | None = documented,
    ) -> None:
        # Every value is read from the query string: FastAPI would hand over only the last one.
        declared = [value for value in request.query_params.getlist("purpose") if value]
        repeated = len(request.query_params.getlist("purpose")) > 1
        expected = purpose(principal) if callable(purpose) else purpose
        if not repeated and all(value.strip().upper() == expected for value in declared):
            return
        route = request.scope.get("route")
        if not isinstance(route, APIRoute) or not _valid_path_and_query(route, request):
            return  # FastAPI answers with its 422 before anything runs
        error = UnknownPurposeError(
            REPEATED if repeated else f"this route acts only for {expected} ({PURPOSES[expected]}); send that or none",
            where="purpose",
        )
        resource_id = next(iter(request.path_params.values()), None)
        draft = EventDraft(
            action=action or _action(route, request.method),
            resource_type=_resource_type(route, resource_type),
            resource_id=str(resource_id)[:64] if resource_id is not None else None,
        )
        refuse_recorded(session, guard, principal, draft, error)

    return Depends(check_declared_purpose)


def _valid_path_and_query(route: APIRoute, request: Request) -> bool:
    """Whether the route's own path and query parameters validate (checked again by FastAPI afterwards)."""
    _, path_errors = request_params_to_args(route.dependant.path_params, request.path_params)
    _, query_errors = request_params_to_args(route.dependant.query_params, request.query_params)
    return not path_errors and not query_errors


def _action(route: APIRoute, method: str) -> str:
    if method in ("GET", "HEAD"):
        return "read"
    return "create" if route.status_code == 201 else "update"


def _resource_type(route: APIRoute, resource_type: str | Mapping[str, str]) -> str:
    if isinstance(resource_type, str):
        return resource_type
    segments = route.path.split("/")
    return next((resource_type[s] for s in segments if s in resource_type), "request")
