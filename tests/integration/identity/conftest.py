"""The real app over real SQLite and PostgreSQL databases that requests commit to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from piguard.api.app import create_app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.identity import totp
from piguard.identity.schemas import NewAccount
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url

PASSWORD = "correct horse battery"


@dataclass
class Api:
    """A test client over a committed database, with the accounts it was seeded with."""

    client: TestClient
    settings: Settings
    engine: Engine
    org_id: str
    accounts: dict[str, NewAccount] = field(default_factory=dict)
    bridge_key: str = ""

    def session(self) -> Session:
        """A fresh session on the app's database (for assertions)."""
        return make_session_factory(self.engine)()

    def code(self, name: str, offset: int = 0) -> str:
        """The TOTP code of ``name`` for the current step plus ``offset`` (replay protection: use each once)."""
        secret = self.accounts[name].totp_secret
        assert secret is not None
        return totp.code_at(secret, totp.step_of(datetime.now(UTC)) + offset)

    def login(
        self, name: str, *, terminal: str = "ws-101", offset: int = 0, password: str = PASSWORD, otp: str | None = None
    ) -> Any:
        """POST /auth/login; returns the response."""
        return self.client.post(
            "/api/v1/auth/login",
            json={
                "username": self.accounts[name].account.username,
                "password": password,
                "totp": otp or self.code(name, offset),
                "terminal_id": terminal,
            },
        )

    def event_count(self) -> int:
        """Entries in the ledger."""
        with self.session() as db:
            return ledger.count(session=db)

    def events(self) -> list:  # type: ignore[type-arg]
        """Every event in the ledger."""
        with self.session() as db:
            return list(ledger.iter_events(session=db))


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app with a hospital, two physicians, an admin and a telephony-bridge service account."""
    load_all_models()
    for url in private_database_url(request.param, tmp_path, prefix="identity_api"):
        settings = Settings(
            data_dir=tmp_path / "data", database_url=url, login_max_failures=3, login_lockout_seconds=120
        )
        ensure_secret(settings)
        ensure_signing_key(settings)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        secret = load_secret(settings)
        # A documentation address as the peer: TestClient's own "testclient" is no address to count.
        client = TestClient(create_app(settings), client=("192.0.2.10", 50000))
        api = Api(client=client, settings=settings, engine=engine, org_id="")
        with api.session() as db, db.begin():
            ledger.bind_settings(db, settings)
            api.org_id = records.create_organisation(
                session=db, name="Hospital A", org_type="hospital", district="310112"
            ).id
            for name, role in (("wang.fang", "physician"), ("li.na", "nurse"), ("zhou.min", "admin")):
                api.accounts[name] = identity.create_account(
                    session=db,
                    secret=secret,
                    username=name,
                    display_name=name,
                    role=role,
                    org_id=api.org_id,
                    password=PASSWORD,
                    demo=True,
                )
            bridge = identity.create_account(
                session=db,
                secret=secret,
                username="svc-telephony",
                display_name="Telephony bridge",
                role="service",
                org_id=api.org_id,
                kind="service",
            )
            api.bridge_key = identity.create_api_key(
                session=db, account_id=bridge.account.id, scopes=["handles:resolve"]
            )
        with api.client:
            yield api
        api.client.app.state.engine.dispose()  # type: ignore[attr-defined]
        engine.dispose()
