"""Training service: the course catalogue, completions, attestations, status, reminders, coverage.

Functions are keyword-only and never commit. Every change appends an access event (action
``create``) to the ledger in the caller's transaction; the flows decide with the policy first.
Completions are identity's ``training_completions`` rows (``identity.record_training``), so the
training gate the policy applies reads the same records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from piguard.errors import AccessDenied, ConflictError, InputError, NotFoundError
from piguard.identity import service as identity
from piguard.identity import training as gate
from piguard.identity.models import Account, TrainingCompletion
from piguard.identity.schemas import AccountInfo, Principal, TrainingInfo
from piguard.oversight.training.models import TrainingAttestation, TrainingCourse
from piguard.oversight.training.rules import RULES_VERSION as RULES_VERSION  # re-exported
from piguard.oversight.training.rules import rules_text as rules_text  # re-exported
from piguard.oversight.training.schemas import (
    AttestationOut,
    CompletionIn,
    CompletionOut,
    CourseIn,
    CourseOut,
    CourseState,
    CourseStatus,
    Reminder,
    TrainingStatus,
)
from piguard.records.guard import EventDraft, record_event

PURPOSE = "HOPERAT"  # keeping staff training records is a healthcare-operations purpose of use
REMINDER_DAYS = 30
FOUR_EYES = "four-eyes"  # the policy id of the refusal to record one's own completion
# The built-in mandatory course (identity's default): one year, pass mark 80.
BUILTIN = CourseOut(
    code=gate.MANDATORY_COURSE,
    title="Privacy basics: handling the deceased's data",
    mandatory=True,
    validity_days=365,
    pass_mark=80,
)


def _event(session: Session, principal: Principal, *, at: datetime, kind: str, ref: str, reason: str) -> str:
    """Append the change's access event; returns its id (stored on the row)."""
    draft = EventDraft(action="create", resource_type=kind, resource_id=ref[:64], purpose=PURPOSE)
    return record_event(session, principal, draft, at=at, outcome="allowed", reason=reason).event_id


def _course_out(row: TrainingCourse) -> CourseOut:
    return CourseOut.model_validate(row)


def list_courses(*, session: Session) -> list[CourseOut]:
    """The catalogue by code, with the built-in ``privacy-basics`` unless the catalogue redefines it."""
    rows = {row.code: _course_out(row) for row in session.scalars(select(TrainingCourse))}
    rows.setdefault(BUILTIN.code, BUILTIN)
    return [rows[code] for code in sorted(rows)]


def get_course(*, session: Session, code: str) -> CourseOut:
    """One course by code (the built-in one too), or NotFoundError."""
    row = session.scalar(select(TrainingCourse).where(TrainingCourse.code == code))
    if row is not None:
        return _course_out(row)
    if code == BUILTIN.code:
        return BUILTIN
    raise NotFoundError(f"no course '{code}' in the catalogue")


#: How long staff have to take a new mandatory course before it gates their access (the default).
ADOPTION_PERIOD = timedelta(days=30)
#: A binding time this little in the past is "now" (the clock moved on while the command ran).
_BINDS_NOW_SLACK = timedelta(minutes=5)


def _binds_from(data: CourseIn, at: datetime) -> datetime:
    """When a new course starts to gate access: a mandatory one after its adoption period."""
    if not data.mandatory:
        if data.binds_from is not None:
            raise InputError("only a mandatory course binds; leave it out for an optional one", where="binds_from")
        return at
    if data.binds_from is None:
        return at + ADOPTION_PERIOD
    if data.binds_from.tzinfo is None:
        raise InputError("must carry a UTC offset, e.g. 2026-12-31T00:00:00+08:00", where="binds_from")
    if data.binds_from < at - _BINDS_NOW_SLACK:
        raise InputError("lies in the past: a course cannot bind people before it existed", where="binds_from")
    return max(data.binds_from, at)


def add_course(*, session: Session, principal: Principal, at: datetime, data: CourseIn) -> CourseOut:
    """Add a course to the catalogue; codes are never reused and courses never edited.

    A mandatory course gates access from ``binds_from`` (by default 30 days on): until then staff
    see it as due in their status and reminders, so adding one never locks a city out at once.
    """
    if data.code == BUILTIN.code and not data.mandatory:
        raise InputError(f"'{BUILTIN.code}' is always mandatory", where="mandatory")
    binds_from = _binds_from(data, at)
    binding = f", binding from {binds_from.isoformat(timespec='minutes')}" if data.mandatory else ""
    if session.scalar(select(TrainingCourse.id).where(TrainingCourse.code == data.code)) is not None:
        raise ConflictError(f"course '{data.code}' already exists; courses are never edited, add a new code")
    event_id = _event(
        session,
        principal,
        at=at,
        kind="training_course",
        ref=data.code,
        reason=(
            f"course added: {data.code} ({'mandatory' if data.mandatory else 'optional'}, "
            f"valid {data.validity_days} days, pass mark {data.pass_mark}"
            f"{', rules attestation required' if data.requires_attestation else ''}{binding})"
        ),
    )
    row = TrainingCourse(
        code=data.code,
        title=data.title,
        mandatory=data.mandatory,
        validity_days=data.validity_days,
        pass_mark=data.pass_mark,
        requires_attestation=data.requires_attestation,
        created_by=principal.account_id,
        created_at=at,
        binds_from=binds_from,
        ledger_event_id=event_id,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(f"course '{data.code}' already exists") from None
    return _course_out(row)


def completion_valid_until(*, course: CourseOut, completed_at: datetime, at: datetime) -> datetime:
    """When a completion dated ``completed_at`` lapses, if it may be recorded at ``at``; else InputError."""
    # The one date rule for completions, `piguard training complete` and the operator's
    # `piguard users training` alike: not in the future, not so old it would be lapsed already.
    if completed_at.tzinfo is None:
        raise InputError("must carry a UTC offset", where="completed_at")
    if completed_at > at:
        raise InputError("lies in the future: a completion is recorded after it happened", where="completed_at")
    valid_until = completed_at + timedelta(days=course.validity_days)
    if valid_until <= at:
        raise InputError(
            f"older than the course's validity ({course.validity_days} days): it would be lapsed already",
            where="completed_at",
        )
    return valid_until


def record_completion(*, session: Session, principal: Principal, at: datetime, data: CompletionIn) -> CompletionOut:
    """Record a passed course; valid for the course's validity period from the completion date.

    Four eyes: nobody records their own completion (it opens their own training gate); another
    officer or administrator of their organisation, the health commission, or the server's
    operator (``piguard users training``) does.
    """
    if data.account_id == principal.account_id:
        raise AccessDenied(
            "four-eyes rule: nobody records their own training completion; another privacy officer or "
            "administrator must record it",
            policy_ids=(FOUR_EYES,),
        )
    course = get_course(session=session, code=data.course_code)
    identity.get_account(session=session, account_id=data.account_id)  # NotFoundError for unknown accounts
    valid_until = completion_valid_until(course=course, completed_at=data.completed_at, at=at)
    done = identity.record_training(
        session=session,
        account_id=data.account_id,
        course_code=course.code,
        score=data.score,
        completed_at=data.completed_at,
        valid_until=valid_until,
        pass_mark=course.pass_mark,
        now=at,
    )
    _event(
        session,
        principal,
        at=at,
        kind="training_completion",
        ref=done.id,
        reason=f"completion recorded: {course.code}, score {data.score}/{course.pass_mark}, account {data.account_id}",
    )
    # Courses are never edited, so the course's pass mark is the one this completion was held to.
    return CompletionOut.model_validate({**done.model_dump(), "pass_mark": course.pass_mark})


def attest(*, session: Session, principal: Principal, at: datetime, version: str | None = None) -> AttestationOut:
    """Record that the principal has read the current rules text (only the current version can be attested)."""
    rules = rules_text()
    if version is not None and version != rules.version:
        raise InputError(f"the current rules text is version {rules.version}", where="version")
    event_id = _event(
        session,
        principal,
        at=at,
        kind="training_attestation",
        ref=principal.account_id,
        reason=f"rules attested: version {rules.version}, sha256 {rules.sha256}",
    )
    row = TrainingAttestation(
        account_id=principal.account_id,
        text_version=rules.version,
        text_sha256=rules.sha256,
        attested_at=at,
        ledger_event_id=event_id,
    )
    session.add(row)
    session.flush()
    return AttestationOut.model_validate(row)


def _state(until: datetime | None, *, at: datetime, window: timedelta) -> tuple[CourseState, int | None]:
    if until is None:
        return "missing", None
    days = (until - at).days if until > at else -((at - until).days)
    if until <= at:
        return "lapsed", days
    return ("expiring" if until - at <= window else "valid"), days


def status(*, session: Session, account_id: str, at: datetime, days: int = REMINDER_DAYS) -> TrainingStatus:
    """One account's training: each mandatory course, the gate's verdict at ``at``, the attestation."""
    account = identity.get_account(session=session, account_id=account_id)
    courses = gate.mandatory_courses(session=session, as_of=at)
    expiries = gate.mandatory_expiries(session=session, account_ids=[account_id], courses=courses, as_of=at)[account_id]
    until = gate.effective_until(expiries)
    window = timedelta(days=days)
    lines = []
    for code in courses:
        state, left = _state(expiries[code], at=at, window=window)
        lines.append(CourseStatus(course_code=code, valid_until=expiries[code], state=state, days_left=left))
    lines += _due(session, [account_id], at=at, window=None).get(account_id, [])
    if gate.ATTESTATION in expiries:  # a mandatory course requires the rules attestation
        attested = expiries[gate.ATTESTATION] is not None
        lines.append(
            CourseStatus(
                course_code=gate.ATTESTATION, valid_until=None, state="valid" if attested else "missing", days_left=None
            )
        )
    latest = session.scalars(
        select(TrainingAttestation)
        .where(TrainingAttestation.account_id == account_id, TrainingAttestation.attested_at <= at)
        .order_by(TrainingAttestation.attested_at.desc(), TrainingAttestation.id.desc())
        .limit(1)
    ).first()
    marks = {course.code: course.pass_mark for course in list_courses(session=session)}
    completions = session.scalars(
        select(TrainingCompletion)
        .where(TrainingCompletion.account_id == account_id)
        .order_by(TrainingCompletion.completed_at.desc(), TrainingCompletion.id)
    )
    return TrainingStatus(
        account_id=account.id,
        username=account.username,
        org_id=account.org_id,
        training_ok=account.kind == "service" or (until is not None and until > at),
        valid_until=until,
        courses=lines,
        attested_version=latest.text_version if latest else None,
        attested_at=latest.attested_at if latest else None,
        attestation_current=latest is not None and latest.text_sha256 == rules_text().sha256,
        completions=[
            CompletionOut.model_validate(
                {
                    **TrainingInfo.model_validate(row).model_dump(),
                    "pass_mark": marks.get(row.course_code, BUILTIN.pass_mark),
                }
            )
            for row in completions
        ],
    )


def _due(
    session: Session, account_ids: list[str], *, at: datetime, window: timedelta | None
) -> dict[str, list[CourseStatus]]:
    """Per account, the mandatory courses in their adoption period not passed for when they bind.

    ``days_left`` counts to the binding; with ``window``, only courses binding within it.
    """
    upcoming = {
        code: binds for code, binds in gate.upcoming_courses(session=session, at=at).items()
        if window is None or binds - at <= window
    }  # fmt: skip
    if not upcoming or not account_ids:
        return {}
    latest = gate.mandatory_expiries(session=session, account_ids=account_ids, courses=list(upcoming), as_of=at)
    out: dict[str, list[CourseStatus]] = {}
    for account_id in account_ids:
        for code, binds in sorted(upcoming.items()):
            until = latest[account_id].get(code)
            if until is not None and until > binds:
                continue  # passed already, and still valid when the course starts to bind
            days = max((binds - at).days, 0)
            line = CourseStatus(course_code=code, valid_until=until, state="due", days_left=days)
            out.setdefault(account_id, []).append(line)
    return out


def _staff(session: Session, org_id: str | None) -> list[AccountInfo]:
    """Active human accounts (of one organisation, or all)."""
    return [
        account
        for account in identity.list_accounts(session=session, org_id=org_id, include_disabled=False)
        if account.kind == "human"
    ]


def reminders(
    *, session: Session, org_id: str, at: datetime, days: int = REMINDER_DAYS, include_lapsed: bool = True
) -> list[Reminder]:
    """Mandatory courses of the organisation's staff that lapse within ``days`` (soonest first).

    Lapsed and never-passed courses are listed too (first), unless ``include_lapsed`` is False.
    """
    if not 0 <= days <= 3660:
        raise InputError("must be between 0 and 3660", where="days")
    staff = _staff(session, org_id)
    courses = gate.mandatory_courses(session=session, as_of=at)
    expiries = gate.mandatory_expiries(session=session, account_ids=[a.id for a in staff], courses=courses, as_of=at)
    window = timedelta(days=days)
    due = _due(session, [a.id for a in staff], at=at, window=window)
    out: list[Reminder] = []
    for account in staff:
        lines = list(due.get(account.id, []))
        for code, until in sorted(expiries[account.id].items()):
            state, left = _state(until, at=at, window=window)
            if code == gate.ATTESTATION and until is not None:
                continue  # attested: nothing to remind of
            if state == "valid" or (state in ("lapsed", "missing") and not include_lapsed):
                continue
            lines.append(CourseStatus(course_code=code, valid_until=until, state=state, days_left=left))
        out += [
            Reminder(
                account_id=account.id,
                username=account.username,
                display_name=account.display_name,
                org_id=account.org_id,
                **line.model_dump(),
            )
            for line in lines
        ]
    rank = {"missing": 0, "lapsed": 1, "expiring": 2, "due": 2}
    return sorted(out, key=lambda r: (rank[r.state], r.days_left if r.days_left is not None else -(10**6), r.username))


@dataclass(frozen=True, slots=True)
class Coverage:
    """Staff with valid mandatory training at a moment, per organisation."""

    staff: int
    trained: int
    by_org: dict[str, tuple[int, int]]  # org id -> (trained, staff)

    @property
    def share(self) -> float:
        """Share of staff with valid mandatory training (1.0 with no staff)."""
        return self.trained / self.staff if self.staff else 1.0


def _staff_at(session: Session, at: datetime, org_ids: Sequence[str] | None) -> list[tuple[str, str]]:
    """(account id, organisation id) of the human staff at ``at``: created by then and not yet disabled.

    Read from the accounts' own ``created_at`` and ``disabled_at``, so a past month's figure does not
    change when an account is disabled later. An account disabled without a recorded time (none
    is) counts as gone.
    """
    query = select(Account.id, Account.org_id).where(
        Account.kind == "human",
        Account.created_at <= at,
        or_(Account.disabled_at > at, and_(Account.disabled_at.is_(None), Account.disabled.is_(False))),
    )
    if org_ids is not None:
        query = query.where(Account.org_id.in_(list(org_ids)))
    return [(account_id, org_id) for account_id, org_id in session.execute(query.order_by(Account.id))]


def coverage(*, session: Session, at: datetime, org_ids: Sequence[str] | None = None) -> Coverage:
    """Training coverage at ``at`` of the human staff at that moment (of the given organisations, or all).

    Completions count as the gate's batch reader counts them at ``at`` (completed by then).
    """
    staff = _staff_at(session, at, org_ids)
    expiries = gate.mandatory_expiries(session=session, account_ids=[account_id for account_id, _ in staff], as_of=at)
    by_org: dict[str, list[int]] = {}
    for account_id, org_id in staff:
        until = gate.effective_until(expiries[account_id])
        counts = by_org.setdefault(org_id, [0, 0])
        counts[1] += 1
        if until is not None and until > at:
            counts[0] += 1
    trained = sum(c[0] for c in by_org.values())
    return Coverage(staff=len(staff), trained=trained, by_org={org: (c[0], c[1]) for org, c in sorted(by_org.items())})
