"""What the oversight API tests share: the app over a committed database, and its people logged in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from piguard.db import make_session_factory
from piguard.identity import service as identity
from piguard.identity import totp
from piguard.interchange.events import AccessEvent
from piguard.ledger import service as ledger

PASSWORD = "correct horse battery"


@dataclass
class ApiSite:
    """A test client over a committed database; people by role key, logged in on first use."""

    client: TestClient
    engine: Engine
    ids: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    terminal: ClassVar[str] = "ws-7"

    def h(self, who: str) -> dict[str, str]:
        """Headers of ``who``'s session (logged in once: a TOTP code is accepted once per step)."""
        if who not in self.tokens:
            code = totp.code_at(self.secrets[who], totp.step_of(datetime.now(UTC)))
            response = self.client.post(
                "/api/v1/auth/login",
                json={
                    "username": self.usernames[who],
                    "password": PASSWORD,
                    "totp": code,
                    "terminal_id": self.terminal,
                },
            )
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
            self.tokens[who] = {"Authorization": f"Bearer {token}", "X-Terminal-Id": self.terminal}
        return self.tokens[who]

    def last_event(self) -> AccessEvent:
        """The newest event of the ledger."""
        with make_session_factory(self.engine)() as db:
            return list(ledger.iter_events(session=db))[-1]

    def add_person(
        self, db: Session, *, secret: bytes, who: str, username: str, role: str, org_id: str, trained_at: datetime
    ) -> str:
        """Create ``who``'s account with privacy training completed at ``trained_at``; its id."""
        made = identity.create_account(
            session=db,
            secret=secret,
            username=username,
            display_name=who,
            role=role,
            org_id=org_id,
            password=PASSWORD,
            demo=True,
        )
        self.ids[who], self.usernames[who] = made.account.id, made.account.username
        self.secrets[who] = made.totp_secret or ""
        identity.record_training(
            session=db, account_id=made.account.id, course_code="privacy-basics", score=90, completed_at=trained_at
        )
        return made.account.id

