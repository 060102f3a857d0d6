"""Identity fixtures: an organisation, the app secret and an account factory in the rolled-back session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.identity import service as identity
from piguard.identity.schemas import NewAccount
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records

T0 = datetime(2025, 3, 10, 9, 0, 7, tzinfo=UTC)
SECRET = bytes(range(32))
PASSWORD = "correct horse battery"


@pytest.fixture
def id_settings(settings: Settings) -> Settings:
    """Settings with a small failure limit so lockout tests stay short."""
    tuned = settings.model_copy(update={"login_max_failures": 5, "login_lockout_seconds": 600})
    ensure_signing_key(tuned)
    return tuned


@pytest.fixture
def org_id(session: Session, id_settings: Settings) -> str:
    """A hospital in Minhang."""
    ledger.bind_settings(session, id_settings)
    return records.create_organisation(session=session, name="Hospital A", org_type="hospital", district="310112").id


@pytest.fixture
def make_account(session: Session, org_id: str) -> Callable[..., NewAccount]:
    """Create accounts with the demo hash parameters (fast) and a known password."""

    def make(username: str, role: str = "physician", **extra: object) -> NewAccount:
        params: dict[str, object] = {"password": PASSWORD, "demo": True, "now": T0} | extra
        if params.get("kind") == "service":
            params.pop("password")
        return identity.create_account(
            session=session,
            secret=SECRET,
            username=username,
            display_name=username.title(),
            role=role,
            org_id=org_id,
            **params,  # type: ignore[arg-type]
        )

    return make
