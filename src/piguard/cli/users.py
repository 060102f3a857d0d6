"""``piguard users``: add, list and disable accounts; issue service API keys; record training."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from piguard.cli.common import console, db_session, fail, id_column, load_settings, print_whole
from piguard.errors import PiguardError
from piguard.identity.courses import MANDATORY_COURSE

# SQLAlchemy and the identity services are imported inside the commands so `piguard --help` starts fast.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.identity.schemas import AccountInfo

# What the other commands take (a username, an organisation id, an account id): never cropped,
# whatever the terminal width; the other columns fold instead.
_WHOLE = frozenset({"username", "organisation", "id"})

app = typer.Typer(help="Personal accounts, service accounts and their credentials.", no_args_is_help=True)


@contextmanager
def _transaction() -> Iterator[tuple[Session, bytes]]:
    """One committed transaction with the installation's secret; every failure becomes a clean error.

    Bad input (a name, a role, an unknown username) exits 2, any other error 1.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from piguard.errors import ConfigError, InputError
    from piguard.keys import load_secret
    from piguard.ledger.service import bind_settings

    settings = load_settings()
    try:
        secret = load_secret(settings)
        with db_session(settings) as session:
            bind_settings(session, settings)
            with session.begin():
                yield session, secret
    except (InputError, ConfigError) as exc:  # bad input, or an installation to fix first (init, db upgrade)
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        # The driver's message may quote row values, so only the class is shown.
        raise fail(f"database error ({type(exc).__name__}); has 'piguard db upgrade' been run?") from None


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Personal username, e.g. 'wang.fang' (service: 'svc-...').")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[str, typer.Option("--role", help="physician, nurse, emt, ..., admin, or service.")],
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    department: Annotated[str | None, typer.Option("--department")] = None,
    service: Annotated[bool, typer.Option("--service", help="A service account (API keys only).")] = False,
) -> None:
    """Create an account; prints the initial password and TOTP URI once."""
    from piguard.identity import audit
    from piguard.identity import service as identity

    if service and role != "service":
        # A service account has role 'service' and no other (docs/identity.md): say so, never drop --role.
        raise fail("--role: a service account (--service) has role 'service'", code=2)
    with _transaction() as (session, secret):
        created = identity.create_account(
            session=session,
            secret=secret,
            username=username,
            display_name=name,
            role=role,
            org_id=org,
            department=department,
            kind="service" if service else "human",
        )
        # Who may log in is an access decision too: the operator's change is in the ledger.
        audit.record_operator_change(
            session,
            at=datetime.now(UTC),
            org_id=created.account.org_id,
            action="create",
            reason=f"account created by the operator: role {created.account.role}",
            resource_type="account",
            resource_id=created.account.id,
        )
    account = created.account
    console.print(f"created [bold]{account.username}[/] ({account.role}) id {account.id}", highlight=False)
    if created.password is not None:
        console.print("Shown once; hand over in person, never by e-mail:", style="yellow")
        # Never wrapped at the terminal width: these are copied (or piped) as they are.
        console.print(f"  initial password: {created.password}", highlight=False, soft_wrap=True)
        console.print(f"  TOTP secret:      {created.totp_secret}", highlight=False, soft_wrap=True)
        console.print(f"  TOTP URI:         {created.totp_uri}", highlight=False, soft_wrap=True)
    else:
        console.print("service account: issue a key with 'piguard users api-key'", highlight=False)


@app.command("list")
def list_(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Only this role.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Hide disabled accounts.")] = False,
) -> None:
    """List accounts in a table."""
    from piguard.errors import InputError, NotFoundError
    from piguard.identity import service as identity
    from piguard.identity.models import ROLES
    from piguard.records import service as records

    if role is not None and role not in ROLES:
        raise fail(f"--role: unknown role; one of {', '.join(ROLES)}", code=2)
    with _transaction() as (session, _):
        if org is not None:
            try:
                records.get_organisation(session=session, org_id=org)
            except NotFoundError:
                raise InputError("no such organisation ('piguard orgs list' shows them)", where="--org") from None
        accounts = identity.list_accounts(session=session, org_id=org, role=role, include_disabled=not active)
    rows = [
        (
            account.username,
            account.display_name,
            account.role,
            account.kind,
            account.org_id,
            account.department or "",
            "disabled" if account.disabled else "active",
            account.id,
        )
        for account in accounts
    ]
    table = Table(title=f"{len(accounts)} account(s)")
    for index, column in enumerate(("username", "name", "role", "kind", "organisation", "department", "status", "id")):
        if column in _WHOLE:
            longest = max((len(row[index]) for row in rows), default=0)
            table.add_column(column, no_wrap=True, min_width=max(longest, len(column)))
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    print_whole(table)


@app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="Account to disable.")]) -> None:
    """Disable an account and revoke its sessions and API keys."""
    from piguard.identity import service as identity

    with _transaction() as (session, _):
        account = _account(session, username)
        revoked = identity.disable_account(session=session, account_id=account.id)
    console.print(f"disabled [bold]{account.username}[/]; {revoked} session(s) revoked", highlight=False)


@app.command("api-key")
def api_key(
    username: Annotated[str, typer.Argument(help="Service account ('svc-...').")],
    scope: Annotated[list[str], typer.Option("--scope", help="e.g. handles:resolve (repeatable).")],
) -> None:
    """Issue a scoped API key for a service account; prints it once."""
    from piguard.identity import service as identity

    with _transaction() as (session, _):
        account = _account(session, username)
        key = identity.create_api_key(session=session, account_id=account.id, scopes=scope)
        _record_key_change(
            session, account, "create", f"API key issued by the operator: scopes {' '.join(sorted(scope))}"
        )
    console.print("Shown once; store it in the integration's secret store:", style="yellow")
    console.print(f"  {key}", highlight=False)
    console.print(
        "List the account's keys (ids, scopes) with 'piguard users api-keys'; revoke one with "
        "'piguard users revoke-api-key'."
    )


@app.command("api-keys")
def api_keys(username: Annotated[str, typer.Argument(help="Service account ('svc-...').")]) -> None:
    """List a service account's API keys: id, scopes, issued, revoked (never the keys themselves)."""
    from piguard.identity import service as identity

    with _transaction() as (session, _):
        account = _account(session, username)
        keys = identity.list_api_keys(session=session, account_id=account.id)
    if not keys:
        console.print(f"{escape(account.username)} has no API keys", highlight=False)
        return
    table = Table()
    id_column(table, "key id")
    for column in ("scopes", "issued (UTC)", "revoked (UTC)"):
        table.add_column(column, overflow="fold")
    for key in keys:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-"
        table.add_row(key.id, escape(key.scopes), f"{key.created_at:%Y-%m-%d %H:%M}", revoked)
    print_whole(table)


@app.command("revoke-api-key")
def revoke_api_key(
    username: Annotated[str, typer.Argument(help="Service account the key belongs to.")],
    key_id: Annotated[str, typer.Argument(help="The key's id, from 'piguard users api-keys'.")],
) -> None:
    """Revoke one API key of a service account at once (a leaked key); its other keys keep working."""
    from piguard.identity import service as identity

    with _transaction() as (session, _):
        account = _account(session, username)
        key = identity.revoke_api_key_by_id(session=session, account_id=account.id, key_id=key_id)
        _record_key_change(session, account, "update", f"API key {key.id} revoked by the operator")
    console.print(f"revoked API key {key.id} of {escape(account.username)}", highlight=False)


@app.command("training")
def training(
    username: Annotated[str, typer.Argument(help="Account that completed the course.")],
    score: Annotated[int, typer.Option("--score", min=0, max=100)],
    course: Annotated[str, typer.Option("--course")] = MANDATORY_COURSE,
    completed: Annotated[datetime | None, typer.Option("--completed", help="Completion time (UTC).")] = None,
) -> None:
    """Record a passed course (the pass mark and date rules of 'piguard training complete')."""
    from piguard.errors import InputError, NotFoundError
    from piguard.identity import audit
    from piguard.identity import service as identity
    from piguard.oversight.training import service as courses

    now = datetime.now(UTC)
    at = completed.replace(tzinfo=UTC) if completed else now
    # The course's pass mark and the one date rule, with exit 2 for bad input: as `training complete`.
    with _transaction() as (session, _):
        account = _account(session, username)
        try:
            known = courses.get_course(session=session, code=course)
        except NotFoundError as exc:
            raise InputError(str(exc), where="course") from None
        valid_until = courses.completion_valid_until(course=known, completed_at=at, at=now)
        done = identity.record_training(
            session=session,
            account_id=account.id,
            course_code=known.code,
            score=score,
            completed_at=at,
            valid_until=valid_until,
            pass_mark=known.pass_mark,
            now=now,
        )
        # Every change to training records is in the ledger; here the server's operator makes it.
        audit.record_operator_change(
            session,
            at=now,
            org_id=account.org_id,
            action="create",
            reason=f"completion recorded by the operator: {course}, score {score}, account {account.id}",
            resource_type="training_completion",
            resource_id=done.id,
        )
    console.print(f"{account.username}: {course} valid until {done.valid_until:%Y-%m-%d}", highlight=False)


def _account(session: Session, username: str) -> AccountInfo:
    """The account named ``username``; an unknown name is bad input naming it (exit 2)."""
    from piguard.errors import InputError, NotFoundError
    from piguard.identity import service as identity

    try:
        return identity.get_account_by_username(session=session, username=username)
    except NotFoundError:
        raise InputError("no account with this username ('piguard users list' shows them)", where=username) from None


def _record_key_change(
    session: Session, account: AccountInfo, action: Literal["create", "update"], reason: str
) -> None:
    """The operator's change to a service account's API keys, in the ledger (the account's id, never a key)."""
    from piguard.identity import audit

    audit.record_operator_change(
        session,
        at=datetime.now(UTC),
        org_id=account.org_id,
        action=action,
        reason=reason,
        resource_type="api_key",
        resource_id=account.id,
    )
