"""Monthly privacy reports over HTTP: ``GET /oversight/reports/{org_id}/{month}`` (``city`` for the city).

The transaction records the export (or the refusal) before the report or the problem is returned.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import OrgOrCity
from piguard.api.purpose import fixed_purpose
from piguard.oversight.reports import flows

router = APIRouter(dependencies=[fixed_purpose(flows.PURPOSE, "privacy_report")])


@router.get(
    "/reports/{org_id}/{month}",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The report."}},
)
def monthly_report(
    org_id: OrgOrCity,
    month: Annotated[str, Path(min_length=7, max_length=7, description="YYYY-MM")],
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    """The monthly privacy report of an organisation (its privacy officers and administrators) or the city
    (the health commission's)."""
    with session.begin():
        outcome = flows.monthly_report(
            session=session,
            guard=guard,
            principal=principal,
            org_id=None if org_id == flows.CITY else org_id,
            month=month,
            fmt=format,
        )
    report = outcome.unwrap()
    return Response(
        content=report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
