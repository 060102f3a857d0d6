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
    department: str | None = None
    session_id: str | None = None
    terminal_id: str | None = None
    source_ip: str | None = None
    training_valid_until: datetime | None = None
    scopes: tuple[str, ...] = ()
