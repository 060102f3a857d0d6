"""``/api/v1/audit``: the public signed checkpoint and consistency proofs; inclusion proofs for auditors.

Nothing here carries personal data: checkpoints and proofs are hashes, sizes and signatures. What
an independent witness needs (the checkpoint, the key rotations, a consistency proof between two
signed tree sizes) is public and, like the checkpoint, records nothing per request; consistency
proofs reach no further than the latest signed checkpoint, so they publish nothing the signed
checkpoints do not already commit to, and each costs O(log n) stored nodes.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from piguard.api.deps import PrincipalDep, SessionDep, SettingsDep
from piguard.api.errors import problem
from piguard.db.base import utcnow
from piguard.errors import AccessDenied, ConfigError, InputError, LedgerError, NotFoundError, ProofError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.ledger import rotation
from piguard.ledger import service as ledger
from piguard.ledger.checkpoint import SignedCheckpoint
from piguard.ledger.extension import ForeignKeyError, RetiredKeyError

router = APIRouter()
PROOF_ROLES = frozenset({"privacy_officer", "admin"})
Size = Annotated[int, Query(ge=0, le=2**62)]


class CheckpointOut(BaseModel):
    """The latest signed checkpoint (C2SP signed note) and what it commits to."""

    origin: str
    tree_size: int
    root: str
    note: str
    log_key: str


class InclusionProofOut(BaseModel):
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size`` entries."""

    index: int
    tree_size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    """RFC 9162 consistency proof between two tree sizes."""

    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _integrity_failure(exc: LedgerError) -> JSONResponse:
    """Stored ledger data that contradicts itself (a missing node, a bad signature): say what."""
    return problem(500, "Ledger integrity failure", f"{exc}; run 'piguard audit verify'")


def _require_auditor(session: Session, principal: Principal, proof: str) -> None:
    """Admit privacy officers and administrators with valid training; every request is recorded."""
    now = utcnow()
    lapsed = principal.kind == "human" and (
        principal.training_valid_until is None or principal.training_valid_until <= now
    )
    if principal.role not in PROOF_ROLES:
        reason = "ledger proofs are for privacy officers and administrators"
    elif lapsed:
        reason = "training-gate: mandatory privacy training has lapsed"  # as for every other request
    else:
        reason = ""
    # Proofs carry no personal data, but who asks for them (and who is refused) is worth knowing:
    # each request is an event, committed before the answer.
    with session.begin():
        identity.record_request(
            session=session,
            principal=principal,
            action="read",
            reason=reason or "ledger proof for the privacy office",
            resource_type="ledger_proof",
            resource_id=proof,
            outcome="denied" if reason else "allowed",
            now=now,
        )
    if reason:
        raise AccessDenied(reason)


def _key_unavailable(exc: ConfigError) -> JSONResponse:
    """The server cannot check its stored checkpoint: say why, without paths (the public may ask)."""
    if isinstance(exc, RetiredKeyError):
        detail = (
            f"the server's ledger key (key id {exc.key_id}) was retired at tree size {exc.tree_size} by a key "
            f"rotation; the log's current key is key id {exc.current}: a copy of the retired key is in the key "
            "file (restored from a backup?); the operator must put the current key back"
        )
    elif isinstance(exc, ForeignKeyError):
        detail = (
            f"the server's ledger key (key id {exc.key_id}) did not sign the latest stored checkpoint "
            f"(signed by key id {exc.signed_by}): the key file was replaced; the operator must restore it"
        )
    else:
        detail = (
            "the ledger's signing key is missing or unusable on the server and its public key was not saved, "
            "so the stored checkpoint cannot be checked before it is served; the operator must restore the "
            "key file ('piguard audit checkpoint' says what is wrong)"
        )
    return problem(503, "Ledger key unavailable", detail)


@router.get("/checkpoint", response_model=CheckpointOut)
def get_checkpoint(session: SessionDep, settings: SettingsDep) -> CheckpointOut | JSONResponse:
    """The latest signed checkpoint of the audit ledger (public).

    Only the public key is needed: with the private key missing, the note is checked with the
    public key saved beside the key file (``ledger.keys``), else the answer is a 503 saying so.
    """
    try:
        verifier = ledger.public_verifier(settings)
        with session.begin():
            ledger.bind_settings(session, settings)
            signed = ledger.latest_checkpoint(session=session, verifier=verifier)
    except ConfigError as exc:
        return _key_unavailable(exc)
    except LedgerError as exc:
        return _integrity_failure(exc)
    if signed is None:
        raise NotFoundError("no checkpoint has been made yet")
    return CheckpointOut(
        origin=signed.checkpoint.origin,
        tree_size=signed.tree_size,
        root=_b64(signed.root),
        note=signed.note,
        log_key=verifier.vkey(),
    )


class KeyRotationOut(BaseModel):
    """A rotation of the log's signing key: the note both keys signed (see ``piguard audit keys``)."""

    tree_size: int
    old_key: str
    new_key: str
    note: str


@router.get("/key-rotations", response_model=list[KeyRotationOut])
def key_rotations(session: SessionDep) -> list[KeyRotationOut] | JSONResponse:
    """The log's signing-key rotations, oldest first (public: keys, sizes and signatures only)."""
    try:
        with session.begin():
            stored = rotation.stored_rotations(session)
        published = rotation.published(stored)  # each link verified: a broken chain is not served
    except LedgerError as exc:
        return _integrity_failure(exc)
    return [KeyRotationOut.model_validate(item) for item in published]


@router.get("/proofs/inclusion", response_model=InclusionProofOut)
def inclusion_proof(
    session: SessionDep, principal: PrincipalDep, index: Size, size: Size
) -> InclusionProofOut | JSONResponse:
    """Inclusion proof of one entry (privacy officers and administrators)."""
    _require_auditor(session, principal, "inclusion")
    if index >= size:
        raise InputError("index must be below size", where="index")
    try:
        with session.begin():
            try:
                proof = ledger.inclusion_proof(session=session, index=index, size=size)
            except ProofError as exc:
                raise InputError(str(exc), where="size") from None
            root = ledger.root(session=session, size=size)
            leaf = ledger.read_leaf_hash(session=session, index=index)
    except LedgerError as exc:
        return _integrity_failure(exc)
    return InclusionProofOut(
        index=index, tree_size=size, leaf_hash=_b64(leaf), root=_b64(root), proof=[_b64(p) for p in proof]
    )


@router.get("/proofs/consistency", response_model=ConsistencyProofOut)
def consistency_proof(
    session: SessionDep,
    settings: SettingsDep,
    size1: Annotated[int, Query(alias="from", ge=0, le=2**62)],
    size2: Annotated[int, Query(alias="to", ge=0, le=2**62)],
) -> ConsistencyProofOut | JSONResponse:
    """Consistency proof between two tree sizes up to the latest signed checkpoint (public, as the checkpoint)."""
    if size1 > size2:
        raise InputError("'from' must not exceed 'to'", where="from")
    try:
        verifier = ledger.public_verifier(settings)
        with session.begin():
            ledger.bind_settings(session, settings)
            _check_signed(size2, ledger.latest_checkpoint(session=session, verifier=verifier))
            try:
                proof = ledger.consistency_proof(session=session, size1=size1, size2=size2)
            except ProofError as exc:
                raise InputError(str(exc), where="to") from None
            root1 = ledger.root(session=session, size=size1)
            root2 = ledger.root(session=session, size=size2)
    except ConfigError as exc:
        return _key_unavailable(exc)
    except LedgerError as exc:
        return _integrity_failure(exc)
    return ConsistencyProofOut(
        size1=size1, size2=size2, root1=_b64(root1), root2=_b64(root2), proof=[_b64(p) for p in proof]
    )


def _check_signed(size: int, signed: SignedCheckpoint | None) -> None:
    """Refuse a size beyond the latest signed checkpoint: the public sees no unsigned tree."""
    if signed is None and size > 0:
        raise InputError(f"'to' ({size}) is beyond the latest signed checkpoint: none has been signed yet", where="to")
    if signed is not None and size > signed.tree_size:
        raise InputError(
            f"'to' ({size}) is beyond the latest signed checkpoint ({signed.tree_size} entries): "
            "proofs reach up to its tree size",
            where="to",
        )
