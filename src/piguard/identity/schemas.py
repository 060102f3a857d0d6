"""Identity read models: the authenticated principal every decision is made for."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Principal(BaseModel):
    """Who is asking: one personal account (or a scoped service account) on one terminal."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    username: str
    kind: Literal["human", "service"] = "human"
    role: str
    org_id: str
    district: str | None = None
    org_level: str | None = None
    department: str | None = None
    session_id: str | None = None
    terminal_id: str | None = None
    source_ip: str | None = None
    training_valid_until: datetime | None = None
    scopes: tuple[str, ...] = ()


class AccountInfo(BaseModel):
    """An account as shown to administrators (no secrets)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    username: str
    display_name: str
    role: str
    org_id: str
    department: str | None = None
    kind: Literal["human", "service"] = "human"
    disabled: bool = False
    created_at: datetime


class NewAccount(BaseModel):
    """A created account with its initial credentials, shown once and never stored in clear."""

    model_config = ConfigDict(frozen=True)

    account: AccountInfo
    password: str | None = None
    totp_secret: str | None = None
    totp_uri: str | None = None


class LoginResult(BaseModel):
    """A successful login: the bearer token (shown once) bound to the terminal."""

    model_config = ConfigDict(frozen=True)

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_at: datetime
    session_id: str


class SessionInfo(BaseModel):
    """One of your login sessions."""

    model_config = ConfigDict(frozen=True)

    id: str
    terminal_id: str
    source_ip: str | None = None
    created_at: datetime
    expires_at: datetime
    current: bool = False


class TrainingInfo(BaseModel):
    """A recorded training completion."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    account_id: str
    course_code: str
    completed_at: datetime
    score: int
    valid_until: datetime


class ApiKeyInfo(BaseModel):
    """An API key as shown to operators: its id and scopes, never the key or its digest."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    account_id: str
    scopes: str
    created_at: datetime
    revoked_at: datetime | None = None
