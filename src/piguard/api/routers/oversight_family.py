"""Close relatives' requests over HTTP (PIPL Art. 49): thin doors over ``piguard.oversight.family.flows``.

Every route opens one transaction; a refusal (policy or request rules) is recorded in the ledger
and committed before it is returned as problem+json. A request's issued document is fetched from
``/account`` (the account of accesses), ``/copy`` (the copy of the deceased's data) or ``/letter``
(the answer to a correction or deletion request), by its kind. The certifier sees a correction
request at ``/review``, decides its items at ``/decisions`` and finds the requests awaiting them at
``/family-referrals`` (``correction_flows``).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import PathId
from piguard.api.purpose import fixed_purpose
from piguard.identity.schemas import Principal
from piguard.oversight.family import correction_flows, flows, render, rules
from piguard.oversight.family import service as family_requests
from piguard.oversight.family.schemas import (
    CorrectionLetter,
    CorrectionReview,
    DecisionIn,
    DeletionLetter,
    DisclosureAccount,
    FamilyCopy,
    FamilyDocument,
    FamilyRequestIn,
    FamilyRequestOut,
    ItemOut,
    RefusalIn,
    State,
)
from piguard.records.guard import Guard

router = APIRouter(dependencies=[fixed_purpose(rules.PURPOSE, family_requests.RESOURCE)])
RequestId = PathId
Answer = Annotated[DisclosureAccount | FamilyCopy | CorrectionLetter | DeletionLetter, Field(discriminator="format")]
DocFormat = Annotated[Literal["html", "json"], Query()]
DocLang = Annotated[Literal["zh", "en"], Query(description="Language of the HTML page.")]


class FamilyRequestList(BaseModel):
    """Requests, oldest due first."""

    count: int
    items: list[FamilyRequestOut]


class ReferralList(BaseModel):
    """Correction requests awaiting the certifier's decision, oldest due first."""

    count: int
    items: list[CorrectionReview]


@router.post("/family-requests", response_model=FamilyRequestOut, status_code=201)
def register(body: FamilyRequestIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> FamilyRequestOut:
    """Register a close relative's request after checking identity and relationship in person."""
    with session.begin():
        outcome = flows.register(session=session, guard=guard, principal=principal, data=body)
    return outcome.unwrap()


@router.get("/family-requests", response_model=FamilyRequestList)
def list_requests(
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    state: State | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FamilyRequestList:
    """Requests, oldest due first; ``overdue=true`` for those unanswered past their 30 days."""
    with session.begin():
        outcome = flows.list_requests(
            session=session, guard=guard, principal=principal, state=state, overdue=overdue, limit=limit
        )
    items = outcome.unwrap()
    return FamilyRequestList(count=len(items), items=items)


@router.get("/family-requests/{request_id}", response_model=FamilyRequestOut)
def get_request(
    request_id: RequestId, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> FamilyRequestOut:
    """One request and where it stands."""
    with session.begin():
        outcome = flows.get_request(session=session, guard=guard, principal=principal, request_id=request_id)
    return outcome.unwrap()


@router.post("/family-requests/{request_id}/answer", response_model=Answer)
def answer(request_id: RequestId, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> FamilyDocument:
    """Answer by the request's kind: the account of every recorded access, or the copy (final once issued)."""
    with session.begin():
        outcome = flows.answer(session=session, guard=guard, principal=principal, request_id=request_id)
    return outcome.unwrap()


@router.post("/family-requests/{request_id}/refuse", response_model=FamilyRequestOut)
def refuse(
    request_id: RequestId, body: RefusalIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> FamilyRequestOut:
    """Refuse, stating the ground (e.g. the deceased arranged otherwise during their lifetime)."""
    with session.begin():
        outcome = flows.refuse_request(
            session=session, guard=guard, principal=principal, request_id=request_id, reason=body.reason
        )
    return outcome.unwrap()


def _issued(
    kind: str, request_id: str, session: Session, guard: Guard, principal: Principal, fmt: str, lang: str
) -> Response:
    """An issued ``account``, ``copy`` or ``letter`` served again, in one transaction (its read recorded)."""
    with session.begin():
        outcome = flows.reissue(kind, session=session, guard=guard, principal=principal, request_id=request_id)
    document: FamilyDocument = outcome.unwrap()
    return _document(document, f"{kind}-{request_id}", fmt, lang)


def _document(document: FamilyDocument, name: str, fmt: str, lang: str) -> Response:
    media = "application/json" if fmt == "json" else "text/html; charset=utf-8"
    return Response(
        content=render.render(document, fmt, lang),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.get(
    "/family-requests/{request_id}/account",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/json": {}}, "description": "The issued account."}},
)
def issued_account(
    request_id: RequestId,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    format: DocFormat = "html",
    lang: DocLang = "zh",
) -> Response:
    """The account exactly as issued, as the family's HTML page (Chinese or English) or its canonical JSON."""
    return _issued("account", request_id, session, guard, principal, format, lang)


@router.get(
    "/family-requests/{request_id}/copy",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/json": {}}, "description": "The issued copy."}},
)
def issued_copy(
    request_id: RequestId,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    format: DocFormat = "html",
    lang: DocLang = "zh",
) -> Response:
    """The copy of the deceased's data exactly as issued, as the family's HTML page or its canonical JSON."""
    return _issued("copy", request_id, session, guard, principal, format, lang)


@router.get(
    "/family-requests/{request_id}/letter",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/json": {}}, "description": "The issued letter."}},
)
def issued_letter(
    request_id: RequestId,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    format: DocFormat = "html",
    lang: DocLang = "zh",
) -> Response:
    """The answer to a correction or deletion request exactly as issued, as the family's HTML page or its JSON."""
    return _issued("letter", request_id, session, guard, principal, format, lang)


@router.get("/family-referrals", response_model=ReferralList)
def referrals(session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> ReferralList:
    """The certifier's correction requests awaiting their decision, oldest due first."""
    with session.begin():
        outcome = correction_flows.referrals(session=session, guard=guard, principal=principal)
    items = outcome.unwrap()
    return ReferralList(count=len(items), items=items)


@router.get("/family-requests/{request_id}/review", response_model=CorrectionReview)
def review(request_id: RequestId, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> CorrectionReview:
    """A correction request as its certifier sees it: the items, not the requester's name or proof."""
    with session.begin():
        outcome = correction_flows.review(session=session, guard=guard, principal=principal, request_id=request_id)
    return outcome.unwrap()


@router.post("/family-requests/{request_id}/decisions", response_model=ItemOut)
def decide(
    request_id: RequestId, body: DecisionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> ItemOut:
    """The certifier corrects an item through the report's correction workflow, or declines it with the reason."""
    with session.begin():
        outcome = correction_flows.decide(
            session=session,
            guard=guard,
            principal=principal,
            request_id=request_id,
            position=body.item,
            correct=body.decision == "correct",
            reason=body.reason,
        )
    return outcome.unwrap()


@router.get("/family-requests/{request_id}/evidence", response_class=Response)
def evidence(request_id: RequestId, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> Response:
    """The account's lines, or another request's own events, as an evidence bundle (zip; ``verify-evidence``)."""
    with tempfile.TemporaryDirectory(prefix="piguard-family-") as tmp:
        out = FsPath(tmp) / "bundle"
        with session.begin():
            outcome = flows.export_evidence(
                session=session, guard=guard, principal=principal, request_id=request_id, out=out
            )
        outcome.unwrap()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.iterdir()):
                archive.write(path, arcname=f"family-request-{request_id}/{path.name}")
    return Response(
        content=buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="family-request-{request_id}.zip"'},
    )
