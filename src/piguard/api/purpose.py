"""One purpose of use (and one display context) per request: a repeated one is refused and recorded.

Starlette keeps every value of a repeated query parameter and FastAPI hands the route the last
one, so ``?purpose=SELL&purpose=TREAT`` would be read as ``TREAT``. Which purpose the caller
declared is then ambiguous, so it is refused like an unknown purpose: HTTP 400 naming the
parameter, with one denied access event in the ledger (docs/access-policy.md, step 2).

Routes call :func:`refuse_repeated` first thing in their body, i.e. after FastAPI has validated
the path and the other query parameters (a malformed id stays a 422 that reaches no ledger).
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from piguard.errors import InputError, UnknownContextError, UnknownPurposeError
from piguard.identity.schemas import Principal
from piguard.records.guard import EventDraft, Guard, Guarded, refuse

# The query parameters that must hold a single value, and the 400 a repetition raises.
SINGLE_VALUED: dict[str, type[InputError]] = {"purpose": UnknownPurposeError, "context": UnknownContextError}


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
    error = SINGLE_VALUED.get(name, UnknownPurposeError)("given more than once; send exactly one value", where=name)
    draft = EventDraft(
        action=action,
        resource_type=resource_type,
        resource_id=resource_id[:64] if resource_id else None,
        query=query,
    )
    with session.begin():
        outcome: Guarded[object] = refuse(session, principal, draft, error, guard.clock())
    outcome.unwrap()  # raises the 400 after the denial is committed
