"""``piguard init``, ``piguard serve`` and ``piguard rotate-secret``."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, TypedDict

import typer

from piguard.cli.common import console, err_console, fail, load_settings, setup_errors
from piguard.errors import ConfigError

if TYPE_CHECKING:
    from piguard.config import ProxyNetwork, Settings


class ProxyOptions(TypedDict):
    """uvicorn's settings for forwarding headers (``X-Forwarded-For``, ``X-Forwarded-Proto``)."""

    proxy_headers: bool
    forwarded_allow_ips: list[str]


def init() -> None:
    """Create the data directory, generate secrets and signing keys (0600), migrate the database."""
    from sqlalchemy.engine import make_url

    from piguard.db import migrate
    from piguard.keys import ensure_secret
    from piguard.ledger.keys import ensure_signing_key

    settings = load_settings()
    with setup_errors(settings):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.secret_key_path().exists():
            _check_secret_may_be_created(settings)
        if not settings.ledger_key_path().exists():
            _check_ledger_key_may_be_created(settings)
        made_secret = ensure_secret(settings)
        made_key = ensure_signing_key(settings)
        migrate.upgrade(settings)
        secret_state = "new" if made_secret else _settle_secret(settings)
    console.print(f"data directory  {settings.data_dir.resolve()}")
    console.print(f"secret          {settings.secret_key_path()} ({secret_state})", highlight=False, soft_wrap=True)
    console.print(f"ledger key      {settings.ledger_key_path()} ({'new' if made_key else 'kept'})")
    where = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
    console.print(f"database        {where}, migrated to the newest schema", highlight=False, soft_wrap=True)


def _check_secret_may_be_created(settings: Settings) -> None:
    """Exit 2 when a missing secret cannot be replaced because seeds are encrypted under it."""
    from piguard.cli.common import db_session_factory
    from piguard.identity.secret_rotation import check_secret_may_be_created

    try:
        with db_session_factory(settings) as sessions:
            check_secret_may_be_created(settings=settings, sessions=sessions)
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None


def _check_ledger_key_may_be_created(settings: Settings) -> None:
    """Exit 2 when a missing ledger key cannot be replaced: checkpoints it signed are stored."""
    from sqlalchemy import func, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from piguard.cli.common import db_session_factory
    from piguard.ledger.models import LedgerCheckpoint as Checkpoint

    try:
        with db_session_factory(settings) as sessions, sessions() as session:
            if Checkpoint.__tablename__ not in inspect(session.connection()).get_table_names():
                return  # a new database: nothing signed yet
            signed = session.scalar(select(func.count()).select_from(Checkpoint)) or 0
    except SQLAlchemyError:
        return  # an unreachable database: migrating it next says so, in one line
    if signed:
        raise fail(
            f"ledger key file {settings.ledger_key_path()} is missing but the database holds {signed} checkpoints "
            "signed with it: restore the key file from backup (a new key would make every one of them fail "
            "verification; to change keys, restore it and run 'piguard audit rotate-key')",
            code=2,
        )


def _settle_secret(settings: Settings) -> str:
    """Keep a usable secret; replace a placeholder or weak one nothing is encrypted under; else exit 2."""
    from piguard.cli.common import db_session_factory
    from piguard.identity.secret_rotation import replace_unusable_secret
    from piguard.keys import ReplaceableSecretError, load_secret

    try:
        load_secret(settings)
    except ReplaceableSecretError as problem:
        try:
            with db_session_factory(settings) as sessions:
                replace_unusable_secret(settings=settings, sessions=sessions, problem=problem)
        except ConfigError as exc:
            raise fail(str(exc), code=2) from None
        return f"replaced: it held {problem.what}; no TOTP seed was encrypted under it"
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    return "kept"


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    trusted_proxies: str | None = typer.Option(
        None,
        "--trusted-proxies",
        help="Reverse proxies whose X-Forwarded-For is believed: comma-separated IP addresses or CIDR "
        "networks (overrides PIGUARD_TRUSTED_PROXIES; empty trusts none).",
    ),
) -> None:
    """Run the HTTP API (refuses to start with missing or placeholder secrets, or an empty or older schema)."""
    import uvicorn

    from piguard.api.accesslog import log_config
    from piguard.api.app import create_app
    from piguard.db import migrate

    settings = load_settings()
    proxies = proxy_options(_trusted_networks(settings, trusted_proxies))
    try:
        with setup_errors(settings):
            app = create_app(settings)
            # The app checks this when it starts too, but uvicorn would print a traceback: exit 2 here.
            migrate.check_database(settings)
            _check_signing(settings)
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    if not settings.disclosure_limit_enabled:
        # Meant for load tests only: say so wherever the service's output is kept.
        err_console.print("warning: PIGUARD_DISCLOSURE_LIMIT_ENABLED=false: no per-account limit on record requests")
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config(), **proxies)


def _check_signing(settings: Settings) -> None:
    """ConfigError unless the ledger can sign its next checkpoint (see ``ledger.service.check_signing_ready``)."""
    from piguard.cli.common import db_session
    from piguard.errors import LedgerError
    from piguard.ledger import service as ledger

    with db_session(settings) as session, session.begin():
        ledger.bind_settings(session, settings)
        try:
            ledger.check_signing_ready(session=session)
        except LedgerError as exc:  # the stored checkpoint does not verify: no service on a ledger in doubt
            raise ConfigError(
                f"the latest stored checkpoint does not verify ({exc}): run 'piguard audit verify'"
            ) from None


def _trusted_networks(settings: Settings, option: str | None) -> list[ProxyNetwork]:
    """The trusted proxies: the option when given, else the setting; a malformed option exits 2."""
    from piguard.config import parse_trusted_proxies

    if option is None:
        return settings.trusted_proxy_networks()
    try:
        return parse_trusted_proxies(option)
    except ValueError as exc:
        raise fail(f"--trusted-proxies: {exc}", code=2) from None


def proxy_options(trusted: list[ProxyNetwork]) -> ProxyOptions:
    """uvicorn's proxy settings: believe forwarding headers only from ``trusted`` (none: the TCP peer is the client)."""
    allowed: list[str] = []
    for network in trusted:
        allowed.append(str(network))
        if isinstance(network, IPv4Network):
            # On a dual-stack socket an IPv4 proxy connects as ::ffff:a.b.c.d.
            allowed.append(f"::ffff:{network.network_address}/{96 + network.prefixlen}")
    # uvicorn trusts 127.0.0.1 (or $FORWARDED_ALLOW_IPS) by default: with no proxy, read no headers at all.
    return ProxyOptions(proxy_headers=bool(allowed), forwarded_allow_ips=allowed)


def rotate_secret(
    finish: bool = typer.Option(False, "--finish", help="Settle a rotation that was interrupted."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Replace the installation secret: re-encrypt every TOTP seed, then swap the key file.

    Stop every `piguard serve` first: a running service keeps the old secret in memory.
    """
    from piguard.cli.common import db_session_factory
    from piguard.identity.secret_rotation import finish_rotation
    from piguard.identity.secret_rotation import rotate_secret as rotate

    settings = load_settings()
    if not finish and not yes:
        typer.confirm(
            "Rotate the installation secret? Stop every running service first; pseudonyms made from now on "
            "will not match earlier ones",
            abort=True,
        )
    try:
        with db_session_factory(settings) as sessions:
            done = (
                finish_rotation(settings=settings, sessions=sessions)
                if finish
                else rotate(settings=settings, sessions=sessions)
            )
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    console.print(f"secret {done.outcome}: {done.seeds} TOTP seeds under the secret in force", highlight=False)
    if done.outcome != "rolled back":
        console.print("Back up the new key file now; restart the services.", style="yellow")


def register(app: typer.Typer) -> None:
    """Add init, serve and rotate-secret to the main app."""
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("rotate-secret")(rotate_secret)
