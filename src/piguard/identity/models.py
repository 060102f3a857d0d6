"""Identity tables: accounts, login sessions, login throttles, disclosure allowances, API keys, training."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piguard.db.base import Base, IdMixin, utcnow

ROLES = (
    "physician",
    "nurse",
    "emt",
    "dispatcher",
    "cdc_coder",
    "cdc_epidemiologist",
    "police_registrar",
    "funeral_clerk",
    "privacy_officer",
    "admin",
    "service",
)


class Account(IdMixin, Base):
    """One person (or one named integration): never shared."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind in ('human', 'service')", name="kind"),
        CheckConstraint("(kind = 'service') = (role = 'service')", name="service_role"),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(100), default=None)
    kind: Mapped[str] = mapped_column(String(8), default="human")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Service accounts have neither: they authenticate with API keys only.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Replay protection: a code is accepted only for a step later than the last accepted one.
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class LoginSession(IdMixin, Base):
    """One login on one terminal; the bearer token is stored only as its SHA-256 digest."""

    __tablename__ = "login_sessions"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    source_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginThrottle(Base):
    """Failure counter and lock for one account, unknown username or source address.

    ``key`` is ``acct:<account id>``, or ``name:``/``ip:`` followed by an HMAC-SHA-256 under a
    subkey of the installation secret, so attempted usernames and client addresses are not kept
    in clear nor can be found by hashing candidates.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    last_failure_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class DisclosureAllowance(Base):
    """How much of its record-disclosure allowance one account has used (see ``identity.allowance``).

    Two token buckets in one row, each kept as the time (milliseconds since the epoch) at which
    the bucket would be full again if nothing more were taken: ``burst_full_ms`` for the
    burst-and-per-minute bucket, ``hour_full_ms`` for the per-hour bucket.
    """

    __tablename__ = "disclosure_allowances"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    burst_full_ms: Mapped[int] = mapped_column(BigInteger)
    hour_full_ms: Mapped[int] = mapped_column(BigInteger)
    last_refused: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiKey(IdMixin, Base):
    """A scoped API key of a service account; only its SHA-256 digest is stored."""

    __tablename__ = "api_keys"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, as in OAuth 2.0 "scope"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class TrainingCompletion(IdMixin, Base):
    """A passed training course; the policy gate reads the latest ``valid_until`` of each mandatory one."""

    __tablename__ = "training_completions"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    course_code: Mapped[str] = mapped_column(String(64), index=True)
    completed_at: Mapped[datetime] = mapped_column()
    score: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[datetime] = mapped_column()
    # When it was entered: a completion dated back must not change a past month's coverage.
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
