"""Accounts on real SQLite and PostgreSQL: naming rule, credentials at rest, disabling, keys, training."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import ConflictError, InputError, NotFoundError
from piguard.identity import passwords, totp
from piguard.identity import service as identity
from piguard.identity.models import Account
from piguard.identity.schemas import NewAccount, Principal
from piguard.ledger import service as ledger
from tests.unit.identity.conftest import PASSWORD, SECRET, T0

MakeAccount = Callable[..., NewAccount]


def test_create_account_returns_credentials_once_and_stores_them_protected(
    session: Session, make_account: MakeAccount
) -> None:
    created = make_account("Wang.Fang", department="cardiology")
    assert created.account.username == "wang.fang"
    assert created.password == PASSWORD
    assert created.totp_secret is not None
    assert created.totp_uri is not None
    assert created.totp_uri.startswith("otpauth://totp/")
    row = session.scalars(select(Account).where(Account.id == created.account.id)).one()
    assert row.password_hash is not None
    assert row.totp_secret_enc is not None
    assert PASSWORD not in row.password_hash
    assert passwords.verify_password(row.password_hash, PASSWORD)
    assert created.totp_secret.encode() not in row.totp_secret_enc
    assert totp.decrypt_secret(row.totp_secret_enc, app_secret=SECRET, account_id=row.id) == created.totp_secret
    assert row.created_at == T0
    assert len(row.id) == 26


def test_generated_password_when_none_given(session: Session, org_id: str) -> None:
    created = identity.create_account(
        session=session, secret=SECRET, username="li.na", display_name="Li Na", role="nurse", org_id=org_id, demo=True
    )
    assert created.password is not None
    passwords.check_password_rules(created.password)


@pytest.mark.parametrize(
    "username",
    [
        "admin",
        "nurse1",
        "nurse-01",
        "ward3",
        "shared",
        "er.shared",
        "night_duty",
        "doctor",
        "icu-nurse-2",
        "temp.li",
        "ab",
        "1wang",
        "wang fang",
        "svc-bridge",
    ],
)
def test_generic_or_malformed_usernames_are_refused(make_account: MakeAccount, username: str) -> None:
    with pytest.raises(InputError) as info:
        make_account(username)
    assert info.value.where == "username"


@pytest.mark.parametrize("username", ["wang.fang", "zhang-wei2", "li_na", "dr.chen"])
def test_personal_usernames_are_accepted(make_account: MakeAccount, username: str) -> None:
    assert make_account(username).account.username == username


def test_one_person_one_account_duplicate_username_conflicts(make_account: MakeAccount) -> None:
    make_account("wang.fang")
    with pytest.raises(ConflictError):
        make_account("WANG.FANG")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("role", {"role": "surgeon"}),
        ("role", {"role": "service"}),
        ("kind", {"kind": "robot"}),
        ("display_name", {"display_name": " "}),
        ("password", {"password": "short"}),
    ],
)
def test_bad_fields_name_the_field(session: Session, org_id: str, field: str, kwargs: dict[str, object]) -> None:
    params: dict[str, object] = {"display_name": "Wang Fang", "role": "physician", "password": PASSWORD} | kwargs
    with pytest.raises(InputError) as info:
        identity.create_account(session=session, secret=SECRET, username="wang.fang", org_id=org_id, **params)  # type: ignore[arg-type]
    assert info.value.where == field


def test_unknown_organisation_is_an_input_error(session: Session, org_id: str) -> None:
    with pytest.raises(InputError) as info:
        identity.create_account(
            session=session, secret=SECRET, username="wang.fang", display_name="W", role="nurse", org_id="NOPE"
        )
    assert info.value.where == "org_id"


def test_service_account_has_no_password_and_gets_scoped_keys(session: Session, make_account: MakeAccount) -> None:
    bridge = make_account("svc-telephony", role="service", kind="service")
    assert bridge.password is None
    assert bridge.totp_secret is None
    key = identity.create_api_key(session=session, account_id=bridge.account.id, scopes=["handles:resolve"])
    assert key.startswith("pgk_")
    with pytest.raises(InputError, match="scope"):
        identity.create_api_key(session=session, account_id=bridge.account.id, scopes=["everything"])
    with pytest.raises(InputError):
        identity.create_api_key(session=session, account_id=bridge.account.id, scopes=[])
    with pytest.raises(InputError, match="unknown scope; known: handles:resolve"):  # a typo issues no dead key
        identity.create_api_key(session=session, account_id=bridge.account.id, scopes=["handle:resolve"])
    human = make_account("wang.fang")
    with pytest.raises(InputError, match="service accounts only"):
        identity.create_api_key(session=session, account_id=human.account.id, scopes=["handles:resolve"])


def test_get_and_list_accounts(session: Session, make_account: MakeAccount, org_id: str) -> None:
    a = make_account("wang.fang")
    make_account("li.na", role="nurse")
    assert identity.get_account(session=session, account_id=a.account.id).username == "wang.fang"
    assert identity.get_account_by_username(session=session, username="Wang.Fang").id == a.account.id
    assert [x.username for x in identity.list_accounts(session=session, org_id=org_id)] == ["li.na", "wang.fang"]
    assert [x.username for x in identity.list_accounts(session=session, role="nurse")] == ["li.na"]
    with pytest.raises(NotFoundError):
        identity.get_account(session=session, account_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_disable_account_is_recorded_and_requires_an_admin(session: Session, make_account: MakeAccount) -> None:
    target = make_account("wang.fang")
    admin = make_account("zhou.min", role="admin")
    nurse = Principal(account_id="x", username="x", role="nurse", org_id=target.account.org_id)
    with pytest.raises(InputError):
        identity.disable_account(session=session, account_id=target.account.id, actor=nurse)
    actor = Principal(account_id=admin.account.id, username="zhou.min", role="admin", org_id=admin.account.org_id)
    with pytest.raises(ConflictError):
        identity.disable_account(session=session, account_id=admin.account.id, actor=actor)
    before = ledger.count(session=session)
    assert identity.disable_account(session=session, account_id=target.account.id, actor=actor) == 0
    assert identity.get_account(session=session, account_id=target.account.id).disabled
    assert ledger.count(session=session) == before + 1
    event = list(ledger.iter_events(session=session))[-1]
    assert event.user_id == admin.account.id
    assert event.resource_id == target.account.id
    assert event.action == "update"
    with pytest.raises(ConflictError):
        identity.disable_account(session=session, account_id=target.account.id, actor=actor)
    assert [a.username for a in identity.list_accounts(session=session, include_disabled=False)] == ["zhou.min"]


def test_training_gate_data_is_the_latest_valid_until_of_the_mandatory_course(
    session: Session, make_account: MakeAccount
) -> None:
    account_id = make_account("wang.fang").account.id
    assert identity.training_valid_until(session=session, account_id=account_id) is None
    identity.record_training(
        session=session, account_id=account_id, course_code="privacy-basics", score=90, completed_at=T0
    )
    identity.record_training(
        session=session,
        account_id=account_id,
        course_code="privacy-basics",
        score=85,
        completed_at=T0 - timedelta(days=400),
    )
    identity.record_training(
        session=session, account_id=account_id, course_code="ethics", score=99, completed_at=T0 + timedelta(days=30)
    )
    until = identity.training_valid_until(session=session, account_id=account_id)
    assert until == T0 + timedelta(days=365)
    assert until is not None
    assert until.tzinfo is not None


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("score", {"score": 79}),
        ("score", {"score": 101}),
        ("course_code", {"course_code": "Privacy Basics"}),
        ("valid_until", {"valid_until": T0 - timedelta(days=1)}),
    ],
)
def test_training_input_errors(
    session: Session, make_account: MakeAccount, field: str, kwargs: dict[str, object]
) -> None:
    account_id = make_account("wang.fang").account.id
    params: dict[str, object] = {"course_code": "privacy-basics", "score": 90, "completed_at": T0} | kwargs
    with pytest.raises(InputError) as info:
        identity.record_training(session=session, account_id=account_id, **params)  # type: ignore[arg-type]
    assert info.value.where == field
