"""Commands that act as a named account (``--as USERNAME``): one error mapping, one transaction runner.

Used by ``piguard cases``, ``inspections``, ``training`` and ``report``. Exit codes: 0 done,
2 bad input or unknown name, 4 refused (policy, state machine, four-eyes), 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import typer

from piguard.cli.common import db_session, fail, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.identity.schemas import Principal
    from piguard.oversight.common import Outcome
    from piguard.records.guard import Guard

T = TypeVar("T")
REFUSED = 4


@contextmanager
def errors() -> Iterator[None]:
    """Expected failures become one line and an exit code, never a traceback."""
    # Imported here, not at module level, so that `piguard --help` does not load SQLAlchemy.
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from piguard.errors import (
        AccessDenied,
        AuthenticationError,
        ConflictError,
        InputError,
        NotFoundError,
        PiguardError,
        validation_reason,
    )

    try:
        yield
    except typer.Exit:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "input"
        raise fail(f"{where}: {validation_reason(first)}", code=2) from None
    except (InputError, NotFoundError) as exc:
        raise fail(str(exc) or "not found", code=2) from None
    except (AccessDenied, ConflictError, AuthenticationError) as exc:
        ids = f" [{', '.join(exc.policy_ids)}]" if isinstance(exc, AccessDenied) and exc.policy_ids else ""
        raise fail(f"refused{ids}: {exc}", code=REFUSED) from None
    except PiguardError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        # The driver's message may quote row values, so only the class is shown.
        raise fail(f"database error ({type(exc).__name__}); has 'piguard db upgrade' been run?") from None
    except OSError as exc:
        raise fail(f"{exc.strerror or 'I/O error'}: {exc.filename or ''}", code=2) from None


def run_as(username: str, flow: Callable[[Session, Guard, Principal], Outcome[T]]) -> T:
    """Run one flow as the named account in one transaction; raise its refusal after the commit."""
    from piguard.keys import load_secret
    from piguard.policy.pdp import default_engine
    from piguard.records.guard import Guard

    settings = load_settings()
    with errors():
        secret = load_secret(settings)
        with db_session(settings) as session:
            with session.begin():
                principal = _acting(session, username)
            guard = Guard(engine=default_engine(), settings=settings, secret=secret)
            with session.begin():
                outcome = flow(session, guard, principal)
            return outcome.unwrap()
    raise AssertionError("unreachable")  # errors() re-raises every failure


def _acting(session: Session, username: str) -> Principal:
    """The principal named by ``--as``; an unknown username is bad input naming the option."""
    from piguard.errors import InputError, NotFoundError
    from piguard.oversight.common import local_principal

    try:
        return local_principal(session=session, username=username)
    except NotFoundError:
        raise InputError("no account with this username", where="--as") from None


def account_id(session: Session, name: str | None, option: str) -> str:
    """The account id of a username or an account id; a missing or unknown one is bad input naming ``option``."""
    from piguard.errors import InputError, NotFoundError
    from piguard.identity import service as identity
    from piguard.identity.models import Account

    if not name:
        raise InputError("name the account (username or id)", where=option)
    try:
        return identity.get_account_by_username(session=session, username=name).id
    except (NotFoundError, InputError):
        if session.get(Account, name) is not None:
            return name
    raise InputError("no account with this username or id", where=option)


def org_id(session: Session, value: str | None, option: str) -> str | None:
    """``value`` if it names an organisation (None when not given); an unknown one is bad input naming ``option``."""
    from piguard.errors import InputError
    from piguard.records.models import Organisation

    if value is not None and session.get(Organisation, value) is None:
        raise InputError("no organisation with this id", where=option)
    return value
