"""Prepared hot-path statements return what SQLAlchemy's own execution returns, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from piguard.db.prepared import Prepared, driver_rows
from piguard.identity.models import Account
from piguard.minimize.models import ContactHandle
from piguard.records.models import Organisation

NOW = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)

ACCOUNTS = Prepared(
    select(Account.id, Account.username, Account.disabled, Account.created_at)
    .where(Account.org_id == bindparam("org_id"), Account.role == "physician")
    .order_by(Account.username)
)
LIVE = Prepared(
    select(ContactHandle.handle, ContactHandle.expires_at).where(
        ContactHandle.viewer_id == bindparam("viewer"), ContactHandle.expires_at > bindparam("at")
    )
)


def _seed(session: Session) -> Organisation:
    org = Organisation(name="Hospital", org_type="hospital", district="310112")
    session.add(org)
    session.flush()
    for name, role, disabled in (
        ("b.li", "physician", True),
        ("a.wang", "physician", False),
        ("c.zhao", "nurse", False),
    ):
        session.add(Account(username=name, display_name=name, role=role, org_id=org.id, disabled=disabled,
                            created_at=NOW))  # fmt: skip
    return org


def test_rows_match_sqlalchemy_execution(session: Session) -> None:
    org = _seed(session)  # not flushed yet for the accounts: the prepared read must flush them first
    rows = ACCOUNTS.rows(session, {"org_id": org.id})
    expected = session.execute(
        select(Account.id, Account.username, Account.disabled, Account.created_at)
        .where(Account.org_id == org.id, Account.role == "physician")
        .order_by(Account.username)
    ).all()
    assert rows == [tuple(row) for row in expected]
    assert [(name, disabled) for _, name, disabled, _ in rows] == [("a.wang", False), ("b.li", True)]
    assert all(type(disabled) is bool for _, _, disabled, _ in rows)  # SQLite stores 0/1
    assert rows[0][3] == NOW and rows[0][3].tzinfo is not None  # UTCDateTime's result processing
    assert ACCOUNTS.names == ("id", "username", "disabled", "created_at")


def test_datetime_parameters_are_bound_as_sqlalchemy_would(session: Session) -> None:
    for offset, handle in ((-1, "9500000001"), (1, "9500000002")):
        session.add(ContactHandle(handle=handle, viewer_id="v1", resource_type="dispatch", resource_id="d1",
                                  target="caller", purpose="TREAT", issued_at=NOW,
                                  expires_at=NOW + timedelta(hours=offset)))  # fmt: skip
    assert LIVE.rows(session, {"viewer": "v1", "at": NOW}) == [("9500000002", NOW + timedelta(hours=1))]
    with pytest.raises(ValueError, match="naive"):
        LIVE.rows(session, {"viewer": "v1", "at": NOW.replace(tzinfo=None)})


def test_driver_errors_are_sqlalchemy_errors_without_parameters(session: Session) -> None:
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    with pytest.raises(DBAPIError) as caught:
        driver_rows(session, f"SELECT no_such_column FROM accounts WHERE id = {mark}", ("secret-value",))  # noqa: S608
    assert "secret-value" not in str(caught.value)
    assert "no_such_column" in str(caught.value)


def test_driver_writes_inside_a_savepoint_are_undone_with_it(session: Session) -> None:
    # The remembered connection must not let a savepoint skip its SAVEPOINT: a driver write made
    # inside it would otherwise survive the savepoint's rollback.
    org = _seed(session)
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    rename = f"UPDATE organisations SET name = {mark} WHERE id = {mark}"  # noqa: S608 - fixed SQL
    assert ACCOUNTS.rows(session, {"org_id": org.id})  # remembers the outer transaction's connection
    savepoint = session.begin_nested()
    driver_rows(session, rename, ("Renamed in the savepoint", org.id))
    savepoint.rollback()
    (name,) = driver_rows(session, f"SELECT name FROM organisations WHERE id = {mark}", (org.id,))[0]  # noqa: S608
    assert name == "Hospital"
    driver_rows(session, rename, ("Renamed outside", org.id))
    (name,) = driver_rows(session, f"SELECT name FROM organisations WHERE id = {mark}", (org.id,))[0]  # noqa: S608
    assert name == "Renamed outside"
