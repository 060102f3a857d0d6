"""Accounts: creation under the one-person-one-account rule, lookup, disabling, API keys, training."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from piguard.db.base import utcnow
from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.identity import audit, passwords, tokens, totp
from piguard.identity.models import ROLES, Account, ApiKey, LoginSession, TrainingCompletion
from piguard.identity.schemas import AccountInfo, ApiKeyInfo, NewAccount, Principal, TrainingInfo
from piguard.identity.training import MANDATORY_COURSE, training_valid_until
from piguard.records import service as records

__all__ = ["MANDATORY_COURSE", "training_valid_until"]  # re-exported: the gate's input lives in identity.training
PASS_MARK = 80
DEFAULT_VALIDITY = timedelta(days=365)
SERVICE_PREFIX = "svc-"

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")
SCOPE = re.compile(r"^[a-z][a-z_]*:[a-z][a-z_]*$")
#: The scopes a service account's key may carry (each is checked where the service uses it).
KNOWN_SCOPES = ("handles:resolve",)
COURSE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
# One person, one account: a username made only of these words (and digits or separators) names a
# post or a group, not a person. Each may be written in the plural and run together
# ("icunurse", "ward3nurses").
GENERIC_WORDS = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "user",
        "account",
        "login",
        "default",
        "system",
        "operator",
        "support",
        "info",
        "office",
        "desk",
        "reception",
        "ward",
        "station",
        "unit",
        "dept",
        "night",
        "day",
        "shift",
        "er",
        "icu",
        "ambulance",
        "mdt",
        "car",
        "vehicle",
        "cdc",
        "hospital",
        "police",
        "funeral",
        "home",
        "doctor",
        "dr",
        "physician",
        "nurse",
        "emt",
        "medic",
        "dispatch",
        "dispatcher",
        "coder",
        "epi",
        "epidemiologist",
        "registrar",
        "clerk",
        "privacy",
        "officer",
        "service",
        "staff",
        "all",
        "everyone",
    }
)
# Words that mark a pooled or throwaway login. None of these occurs inside a personal name, so a
# username containing one anywhere is refused ("nightduty", "sharedlogin", "guestuser").
POOLED_ANYWHERE = frozenset({"shared", "common", "team", "group", "generic", "duty", "guest"})
# These do occur inside surnames (Shareef, Poole, Temple, Testa), so they are refused only as a
# whole part of the name, or run together with role/post words of three letters or more
# ("testuser", "nursepool", "temp.staff"); "li.poole" and "m.tester" are personal names.
POOLED_PARTS = frozenset({"share", "pool", "temp", "test"})


def _singulars(word: str) -> tuple[str, ...]:
    """``word`` and what it would be without a plural ending."""
    return (word, word.removesuffix("s"), word.removesuffix("es"))


def _pieces(part: str, words: frozenset[str]) -> tuple[str, ...] | None:
    """``part`` read as a run of ``words`` (each optionally plural), or None if it is not one."""
    # From the end backwards: ``found[i]`` is a reading of ``part[i:]``, or None.
    found: dict[int, tuple[str, ...] | None] = {len(part): ()}
    for start in range(len(part) - 1, -1, -1):
        found[start] = None
        for end in range(len(part), start, -1):
            rest = found[end]
            word = next((w for w in _singulars(part[start:end]) if w in words), None)
            if rest is not None and word is not None:
                found[start] = (word, *rest)
                break
    return found[0]


_POOLED_RUNS = frozenset(word for word in GENERIC_WORDS if len(word) >= 3) | POOLED_PARTS


def _pooled(part: str) -> bool:
    """Whether one part of a username marks a pooled or throwaway login."""
    if any(word in part for word in POOLED_ANYWHERE):
        return True
    pieces = _pieces(part, _POOLED_RUNS)
    return pieces is not None and any(piece in POOLED_PARTS for piece in pieces)


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively; they are stored lowercase."""
    return username.strip().lower()


def check_username(username: str, *, kind: str) -> None:
    """Apply the naming rule; raises InputError naming the reason (see docs/identity.md)."""
    if not USERNAME.fullmatch(username):
        raise InputError(
            "must be 3-64 characters: a lowercase letter, then letters, digits, '.', '_' or '-'", where="username"
        )
    if kind == "service":
        if not username.startswith(SERVICE_PREFIX) or len(username) <= len(SERVICE_PREFIX):
            raise InputError(f"service account names start with '{SERVICE_PREFIX}'", where="username")
        return
    if username.startswith(SERVICE_PREFIX):
        raise InputError(f"'{SERVICE_PREFIX}' names are reserved for service accounts", where="username")
    parts = [part for part in re.split(r"[._\-0-9]+", username) if part]
    if any(_pooled(part) for part in parts):
        raise InputError("names a shared or temporary login; accounts are personal", where="username")
    if all(_pieces(part, GENERIC_WORDS) is not None for part in parts):
        raise InputError("names a role or post, not a person; accounts are personal", where="username")


def _check_fields(*, role: str, kind: str, display_name: str, department: str | None) -> None:
    if kind not in ("human", "service"):
        raise InputError("must be 'human' or 'service'", where="kind")
    if role not in ROLES:
        raise InputError(f"unknown role; one of {', '.join(ROLES)}", where="role")
    if (kind == "service") != (role == "service"):
        raise InputError("role 'service' is for service accounts only, and they have no other role", where="role")
    if not display_name.strip() or len(display_name) > 200:
        raise InputError("must be 1-200 characters", where="display_name")
    if department is not None and len(department) > 100:
        raise InputError("must be at most 100 characters", where="department")


def info(account: Account) -> AccountInfo:
    """The administrator's view of an account."""
    return AccountInfo.model_validate(account)


def create_account(
    *,
    session: Session,
    secret: bytes,
    username: str,
    display_name: str,
    role: str,
    org_id: str,
    department: str | None = None,
    kind: str = "human",
    password: str | None = None,
    demo: bool = False,
    now: datetime | None = None,
) -> NewAccount:
    """Create a personal account with a password and TOTP secret (service accounts get neither).

    ``password`` defaults to a generated one; ``demo`` selects the cheap demo-only hash
    parameters (upgraded at the first login). The returned credentials are shown once.
    """
    username = normalise_username(username)
    check_username(username, kind=kind)
    _check_fields(role=role, kind=kind, display_name=display_name, department=department)
    try:
        records.get_organisation(session=session, org_id=org_id)
    except NotFoundError:
        raise InputError("no such organisation", where="org_id") from None
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise ConflictError("username already taken")
    account = Account(
        username=username,
        display_name=display_name.strip(),
        role=role,
        org_id=org_id,
        department=department,
        kind=kind,
        created_at=now or utcnow(),
    )
    session.add(account)
    try:
        session.flush()  # assigns the id the TOTP ciphertext is bound to
    except IntegrityError:
        raise ConflictError("username already taken") from None
    if kind == "service":
        return NewAccount(account=info(account))
    if password is None:
        password = passwords.generate_password()
    passwords.check_password_rules(password)
    totp_secret = totp.new_secret()
    account.password_hash = passwords.hash_password(password, demo=demo)
    account.totp_secret_enc = totp.encrypt_secret(totp_secret, app_secret=secret, account_id=account.id)
    return NewAccount(
        account=info(account),
        password=password,
        totp_secret=totp_secret,
        totp_uri=totp.provisioning_uri(totp_secret, username=username),
    )


def account_row(*, session: Session, account_id: str) -> Account:
    """The account row, or NotFoundError."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFoundError("account not found")
    return account


def get_account(*, session: Session, account_id: str) -> AccountInfo:
    """One account by id."""
    return info(account_row(session=session, account_id=account_id))


def get_account_by_username(*, session: Session, username: str) -> AccountInfo:
    """One account by username (case-insensitive)."""
    account = session.scalar(select(Account).where(Account.username == normalise_username(username)))
    if account is None:
        raise NotFoundError("account not found")
    return info(account)


def list_accounts(
    *,
    session: Session,
    org_id: str | None = None,
    role: str | None = None,
    include_disabled: bool = True,
) -> list[AccountInfo]:
    """Accounts ordered by username, optionally filtered by organisation and role."""
    query = select(Account).order_by(Account.username)
    if org_id is not None:
        query = query.where(Account.org_id == org_id)
    if role is not None:
        query = query.where(Account.role == role)
    if not include_disabled:
        query = query.where(Account.disabled.is_(False))
    return [info(account) for account in session.scalars(query)]


def disable_account(
    *,
    session: Session,
    account_id: str,
    actor: Principal | None = None,
    now: datetime | None = None,
) -> int:
    """Disable an account and revoke its sessions and API keys; returns the sessions revoked.

    ``actor`` is the administrator doing it (None: the local operator on the server's CLI).
    """
    now = now or utcnow()
    account = account_row(session=session, account_id=account_id)
    if actor is not None and actor.role != "admin":
        raise InputError("only administrators disable accounts", where="actor")
    if actor is not None and actor.account_id == account_id:
        raise ConflictError("administrators cannot disable their own account")
    if account.disabled:
        raise ConflictError("account already disabled")
    account.disabled = True
    account.disabled_at = now
    active = session.scalars(
        select(LoginSession).where(
            LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None), LoginSession.expires_at > now
        )
    ).all()
    for row in active:
        row.revoked_at = now
    revoked = len(active)
    session.execute(
        update(ApiKey).where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None)).values(revoked_at=now)
    )
    operator = actor or Principal(
        account_id=audit.LOCAL_OPERATOR, username=audit.LOCAL_OPERATOR, role="admin", org_id=account.org_id
    )
    audit.record(
        session,
        at=now,
        action="update",
        account=account,
        actor=operator,
        reason=f"account disabled; {revoked} session(s) revoked",
        resource_type="account",
        resource_id=account.id,
    )
    return revoked


def create_api_key(*, session: Session, account_id: str, scopes: Sequence[str], now: datetime | None = None) -> str:
    """Issue an API key for a service account; the key is returned once and stored only hashed."""
    account = account_row(session=session, account_id=account_id)
    if account.kind != "service":
        raise InputError("API keys are issued to service accounts only", where="account_id")
    if account.disabled:
        raise ConflictError("account is disabled")
    cleaned = sorted({scope.strip() for scope in scopes})
    if not cleaned:
        raise InputError("at least one scope is required", where="scopes")
    for scope in cleaned:
        if not SCOPE.fullmatch(scope):
            raise InputError("a scope looks like 'resource:verb', e.g. 'handles:resolve'", where="scopes")
        if scope not in KNOWN_SCOPES:
            # A typo ('handle:resolve') would issue a key that works for nothing, silently.
            raise InputError(f"unknown scope; known: {', '.join(KNOWN_SCOPES)}", where="scopes")
    key = tokens.new_api_key()
    row = ApiKey(account_id=account_id, key_hash=tokens.token_hash(key), scopes=" ".join(cleaned))
    row.created_at = now or utcnow()
    session.add(row)
    session.flush()
    return key


def list_api_keys(*, session: Session, account_id: str) -> list[ApiKeyInfo]:
    """The account's API keys, oldest first, revoked ones included (ids and scopes only)."""
    account_row(session=session, account_id=account_id)
    rows = session.scalars(select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at, ApiKey.id))
    return [ApiKeyInfo.model_validate(row) for row in rows]


def revoke_api_key_by_id(*, session: Session, account_id: str, key_id: str, now: datetime | None = None) -> ApiKeyInfo:
    """Revoke one of the account's API keys by its id (a leaked key, when the key itself is not at hand)."""
    account_row(session=session, account_id=account_id)
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id.strip(), ApiKey.account_id == account_id))
    if row is None:
        raise NotFoundError("this account has no API key with that id")
    if row.revoked_at is not None:
        raise ConflictError("this API key is already revoked")
    row.revoked_at = now or utcnow()
    session.flush()
    return ApiKeyInfo.model_validate(row)


def revoke_api_key(*, session: Session, key: str, now: datetime | None = None) -> None:
    """Revoke an API key (given the key itself, as the integration's operator holds it)."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == tokens.token_hash(key)))
    if row is None or row.revoked_at is not None:
        raise NotFoundError("API key not found")
    row.revoked_at = now or utcnow()


def record_training(
    *,
    session: Session,
    account_id: str,
    course_code: str,
    score: int,
    completed_at: datetime,
    valid_until: datetime | None = None,
    pass_mark: int = PASS_MARK,
    now: datetime | None = None,
) -> TrainingInfo:
    """Record a passed course (score >= ``pass_mark``); valid for a year unless ``valid_until`` is given.

    ``now`` is when it is recorded (default: the clock); a replay of history passes its own time.
    """
    account_row(session=session, account_id=account_id)
    if not COURSE.fullmatch(course_code):
        raise InputError("must be 2-64 lowercase letters, digits or '-'", where="course_code")
    if not 0 <= score <= 100:
        raise InputError("must be between 0 and 100", where="score")
    if not 0 <= pass_mark <= 100:
        raise InputError("must be between 0 and 100", where="pass_mark")
    if score < pass_mark:
        raise InputError(f"below the pass mark of {pass_mark}: not a completion", where="score")
    if completed_at.tzinfo is None:
        raise InputError("must carry a UTC offset", where="completed_at")
    valid_until = valid_until or completed_at + DEFAULT_VALIDITY
    if valid_until <= completed_at:
        raise InputError("must be after completed_at", where="valid_until")
    row = TrainingCompletion(
        account_id=account_id,
        course_code=course_code,
        completed_at=completed_at,
        score=score,
        valid_until=valid_until,
        recorded_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return TrainingInfo.model_validate(row)
