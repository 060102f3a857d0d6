"""Investigation cases over HTTP: thin doors over ``piguard.oversight.cases.flows``.

Every route opens one transaction; a refusal (policy, case rules, four-eyes) is recorded in the
ledger and committed before it is returned as problem+json.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from piguard.api.deps import GuardDep, PrincipalDep, SessionDep
from piguard.api.ids import PathId
from piguard.api.purpose import fixed_purpose
from piguard.oversight.cases import flows
from piguard.oversight.cases import service as cases
from piguard.oversight.cases.schemas import (
    AssignIn,
    CaseDetail,
    CaseOpen,
    CaseOut,
    CorrectionIn,
    DispositionIn,
    DispositionOut,
    EvidenceIn,
    EvidenceOut,
    State,
    SubjectsIn,
    TransitionIn,
)

router = APIRouter(dependencies=[fixed_purpose(cases.PURPOSE, "case")])
CaseId = PathId
DispositionId = PathId


class CaseList(BaseModel):
    """Cases, newest first."""

    count: int
    items: list[CaseOut]


class ReasonIn(BaseModel):
    """Why (at least 10 characters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=10, max_length=1000)


@router.post("/cases", response_model=CaseDetail, status_code=201)
def open_case(body: CaseOpen, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> CaseDetail:
    """Open a case (from an alert, a complaint, a canary hit or by hand) and assign its investigator."""
    with session.begin():
        outcome = flows.open_case(session=session, guard=guard, principal=principal, data=body)
    return outcome.unwrap()


@router.get("/cases", response_model=CaseList)
def list_cases(
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
    state: State | None = None,
    assignee: Annotated[str | None, Query(max_length=26)] = None,
    org: Annotated[str | None, Query(max_length=26)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CaseList:
    """Cases within the officer's jurisdiction, optionally by state, assignee and organisation."""
    with session.begin():
        outcome = flows.list_cases(
            session=session,
            guard=guard,
            principal=principal,
            state=state,
            assignee_id=assignee,
            org_id=org,
            limit=limit,
        )
    items = outcome.unwrap()
    return CaseList(count=len(items), items=items)


@router.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: CaseId, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> CaseDetail:
    """One case with subjects, evidence, dispositions and its full history."""
    with session.begin():
        outcome = flows.get_case(session=session, guard=guard, principal=principal, case_id=case_id)
    return outcome.unwrap()


@router.post("/cases/{case_id}/transitions", response_model=CaseDetail)
def transition(
    case_id: CaseId, body: TransitionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> CaseDetail:
    """Move the case to its next state (409 with the reason if the state machine does not allow it)."""
    with session.begin():
        outcome = flows.transition(
            session=session,
            guard=guard,
            principal=principal,
            case_id=case_id,
            to_state=body.to_state,
            reason=body.reason,
        )
    return outcome.unwrap()


@router.post("/cases/{case_id}/assignee", response_model=CaseDetail)
def assign(
    case_id: CaseId, body: AssignIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> CaseDetail:
    """Hand the case to another privacy officer (access moves with it)."""
    with session.begin():
        outcome = flows.assign(
            session=session,
            guard=guard,
            principal=principal,
            case_id=case_id,
            assignee_id=body.assignee_id,
            reason=body.reason,
        )
    return outcome.unwrap()


@router.post("/cases/{case_id}/subjects", response_model=CaseDetail)
def add_subjects(
    case_id: CaseId, body: SubjectsIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> CaseDetail:
    """Add records the case concerns (while open or investigating)."""
    with session.begin():
        outcome = flows.add_subjects(
            session=session,
            guard=guard,
            principal=principal,
            case_id=case_id,
            subjects=body.subjects,
            reason=body.reason,
        )
    return outcome.unwrap()


@router.post("/cases/{case_id}/evidence", response_model=EvidenceOut, status_code=201)
def attach_evidence(
    case_id: CaseId, body: EvidenceIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> EvidenceOut:
    """Attach evidence by reference: an alert, ledger events, an evidence bundle or a document (SHA-256)."""
    with session.begin():
        outcome = flows.attach_evidence(session=session, guard=guard, principal=principal, case_id=case_id, item=body)
        item = EvidenceOut.model_validate(outcome.value) if outcome.value is not None else None
    outcome.unwrap()
    assert item is not None
    return item


@router.post("/cases/{case_id}/corrections", response_model=CaseDetail)
def correct(
    case_id: CaseId, body: CorrectionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> CaseDetail:
    """Record a correction of a history entry (the entry itself is never edited)."""
    with session.begin():
        outcome = flows.correct(
            session=session,
            guard=guard,
            principal=principal,
            case_id=case_id,
            corrects_seq=body.corrects_seq,
            reason=body.reason,
        )
    return outcome.unwrap()


def _disposition(session: Session, case_id: str, disposition_id: str) -> DispositionOut:
    found = [d for d in cases.dispositions(session=session, case_id=case_id) if d.id == disposition_id]
    return found[0]


@router.post("/cases/{case_id}/dispositions", response_model=DispositionOut, status_code=201)
def propose(
    case_id: CaseId, body: DispositionIn, session: SessionDep, guard: GuardDep, principal: PrincipalDep
) -> DispositionOut:
    """Propose a disposition on a substantiated case; another officer must approve it."""
    with session.begin():
        outcome = flows.propose_disposition(
            session=session, guard=guard, principal=principal, case_id=case_id, item=body
        )
        made = _disposition(session, case_id, outcome.value.id) if outcome.value is not None else None
    outcome.unwrap()
    assert made is not None
    return made


def _decide(
    decision: str,
    case_id: str,
    disposition_id: str,
    body: ReasonIn,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
) -> DispositionOut:
    with session.begin():
        outcome = flows.decide_disposition(
            session=session,
            guard=guard,
            principal=principal,
            case_id=case_id,
            disposition_id=disposition_id,
            decision=decision,
            reason=body.reason,
        )
        made = _disposition(session, case_id, disposition_id) if outcome.value is not None else None
    outcome.unwrap()
    assert made is not None
    return made


@router.post("/cases/{case_id}/dispositions/{disposition_id}/approve", response_model=DispositionOut)
def approve(
    case_id: CaseId,
    disposition_id: DispositionId,
    body: ReasonIn,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
) -> DispositionOut:
    """Approve a disposition (403 for the person who proposed it: four-eyes)."""
    return _decide("approved", case_id, disposition_id, body, session, guard, principal)


@router.post("/cases/{case_id}/dispositions/{disposition_id}/reject", response_model=DispositionOut)
def reject(
    case_id: CaseId,
    disposition_id: DispositionId,
    body: ReasonIn,
    session: SessionDep,
    guard: GuardDep,
    principal: PrincipalDep,
) -> DispositionOut:
    """Reject a disposition (four-eyes as for approval)."""
    return _decide("rejected", case_id, disposition_id, body, session, guard, principal)


@router.get("/cases/{case_id}/bundle", response_class=Response)
def export_bundle(case_id: CaseId, session: SessionDep, guard: GuardDep, principal: PrincipalDep) -> Response:
    """The case's evidence bundle as a zip (verify with ``piguard audit verify-evidence``)."""
    with tempfile.TemporaryDirectory(prefix="piguard-case-") as tmp:
        out = FsPath(tmp) / "bundle"
        with session.begin():
            outcome = flows.export_case(session=session, guard=guard, principal=principal, case_id=case_id, out=out)
        outcome.unwrap()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.iterdir()):
                archive.write(path, arcname=f"case-{case_id}/{path.name}")
    return Response(
        content=buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}.zip"'},
    )
