"""The training gate's input: when an account's mandatory training lapses.

The mandatory courses are ``privacy-basics`` (always) and every catalogue course marked
mandatory (``oversight/training``). An account's training is valid until the earliest of the
latest ``valid_until`` of each mandatory course; a mandatory course never passed means no valid
training at all. When a mandatory course requires it, an attestation of the current rules text
is required too (it does not expire; a new text needs a new attestation). The policy's
``training-gate`` forbids every access once that time has passed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, exists, func, literal, select, union, union_all
from sqlalchemy.orm import Session

from piguard.identity.courses import MANDATORY_COURSE as MANDATORY_COURSE  # re-exported
from piguard.identity.models import TrainingCompletion
from piguard.oversight.training.models import TrainingAttestation, TrainingCourse
from piguard.oversight.training.rules import rules_text

#: The pseudo-course standing for "has attested the current rules text" in expiry maps.
ATTESTATION = "rules-attestation"
#: An attestation does not lapse by time: it counts as valid until this far date.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def _required(as_of: Any) -> Any:
    """Whether some mandatory course (binding at ``as_of``) requires the rules attestation (SQL)."""
    query = select(TrainingCourse.id).where(
        TrainingCourse.mandatory.is_(True), TrainingCourse.requires_attestation.is_(True)
    )
    if as_of is not None:
        query = query.where(TrainingCourse.binds_from <= as_of)
    return exists(query)


def mandatory_courses(*, session: Session, as_of: datetime | None = None) -> list[str]:
    """Codes of the mandatory courses (binding at ``as_of``; all without it), sorted; ``privacy-basics`` is one."""
    query = select(TrainingCourse.code).where(TrainingCourse.mandatory.is_(True))
    if as_of is not None:
        query = query.where(TrainingCourse.binds_from <= as_of)
    codes = set(session.scalars(query))
    return sorted(codes | {MANDATORY_COURSE})


def upcoming_courses(*, session: Session, at: datetime) -> dict[str, datetime]:
    """Mandatory courses that do not bind yet at ``at`` (their adoption period), with when they will."""
    query = select(TrainingCourse.code, TrainingCourse.binds_from).where(
        TrainingCourse.mandatory.is_(True), TrainingCourse.binds_from > at
    )
    return {code: binds_from for code, binds_from in session.execute(query)}


def mandatory_expiries(
    *,
    session: Session,
    account_ids: Collection[str],
    courses: Collection[str] | None = None,
    as_of: datetime | None = None,
) -> dict[str, dict[str, datetime | None]]:
    """Per account, the latest ``valid_until`` of each mandatory course (None: never passed).

    When the rules attestation is required, the map also has ``ATTESTATION``: ``NEVER`` if the
    account attested the current text, else None. With ``as_of``, only courses, completions and
    attestations recorded by then count (a past month's report).
    """
    codes = sorted(courses) if courses is not None else mandatory_courses(session=session, as_of=as_of)
    out: dict[str, dict[str, datetime | None]] = {account: dict.fromkeys(codes) for account in account_ids}
    required = bool(session.scalar(select(_required(as_of))))
    ids = sorted(out)
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start : start + 500]
        query = (
            select(
                TrainingCompletion.account_id, TrainingCompletion.course_code, func.max(TrainingCompletion.valid_until)
            )
            .where(TrainingCompletion.account_id.in_(chunk), TrainingCompletion.course_code.in_(codes))
            .group_by(TrainingCompletion.account_id, TrainingCompletion.course_code)
        )
        if as_of is not None:
            query = query.where(TrainingCompletion.completed_at <= as_of, TrainingCompletion.recorded_at <= as_of)
        for account_id, code, until in session.execute(query):
            out[account_id][code] = until
        if required:
            attested = select(TrainingAttestation.account_id).where(
                TrainingAttestation.account_id.in_(chunk), TrainingAttestation.text_sha256 == rules_text().sha256
            )
            if as_of is not None:
                attested = attested.where(TrainingAttestation.attested_at <= as_of)
            done = set(session.scalars(attested))
            for account_id in chunk:
                out[account_id][ATTESTATION] = NEVER if account_id in done else None
    return out


def effective_until(expiries: Mapping[str, datetime | None]) -> datetime | None:
    """The earliest expiry of the mandatory courses, or None when one was never passed."""
    values = list(expiries.values())
    if not values or any(value is None for value in values):
        return None
    return min(value for value in values if value is not None)


def _gate_statement() -> Any:
    # Every authentication runs this: one statement (built once) gives each mandatory course with
    # the account's latest expiry of it (NULL: never passed), and, when a mandatory course requires
    # it, the time of the account's attestation of the current rules text (NULL: none).
    moment: BindParameter[datetime] = bindparam("at")
    mandatory = union(
        select(TrainingCourse.code.label("code")).where(
            TrainingCourse.mandatory.is_(True), TrainingCourse.binds_from <= moment
        ),
        select(literal(MANDATORY_COURSE).label("code")),
    ).subquery()
    courses = (
        select(mandatory.c.code, func.max(TrainingCompletion.valid_until).label("until"))
        .select_from(mandatory)
        .outerjoin(
            TrainingCompletion,
            and_(
                TrainingCompletion.course_code == mandatory.c.code,
                TrainingCompletion.account_id == bindparam("account_id"),
            ),
        )
        .group_by(mandatory.c.code)
    )
    attested = (
        select(func.max(TrainingAttestation.attested_at))
        .where(
            TrainingAttestation.account_id == bindparam("account_id"),
            TrainingAttestation.text_sha256 == bindparam("rules_sha256"),
        )
        .scalar_subquery()
    )
    attestation = select(literal(ATTESTATION).label("code"), attested.label("until")).where(_required(moment))
    return union_all(courses, attestation)


_GATE = _gate_statement()


def training_valid_until(*, session: Session, account_id: str, at: datetime | None = None) -> datetime | None:
    """When the account's mandatory training lapses (None: some mandatory course binding at ``at`` never passed)."""
    params = {"account_id": account_id, "rules_sha256": rules_text().sha256, "at": at or datetime.now(UTC)}
    rows = session.execute(_GATE, params).all()
    expiries = {code: (NEVER if code == ATTESTATION and until is not None else until) for code, until in rows}
    return effective_until(expiries)
