"""Settings, read from the environment (prefix ``PIGUARD_``); created by factories, never at import."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(value: str) -> list[ProxyNetwork]:
    """Comma-separated IP addresses or CIDR networks as networks; ValueError names the bad entry's position."""
    if not value.strip():
        return []
    entries = [entry.strip() for entry in value.split(",")]
    return [_proxy_network(entry, position=n, total=len(entries)) for n, entry in enumerate(entries, start=1)]


def _proxy_network(entry: str, *, position: int, total: int) -> ProxyNetwork:
    # The reason names the entry's position, not its text (settings are never echoed).
    where = f"entry {position} of {total}"
    if not entry:
        raise ValueError(f"{where} is empty (separate the addresses with single commas)")
    if entry == "*":
        raise ValueError(f"{where} trusts every address; name the proxies' own addresses")
    if "%" in entry:
        # A zone index never matches the peer addresses uvicorn compares against.
        raise ValueError(f"{where} has a zone index (after %); write the address without it")
    try:
        network = ipaddress.ip_network(entry, strict=True)
    except ValueError:
        if _is_network(entry):
            raise ValueError(
                f"{where} has bits set after the prefix length (write the network's first address)"
            ) from None
        raise ValueError(f"{where} is not an IP address or CIDR network (such as 10.0.0.5 or 10.0.0.0/24)") from None
    if network.prefixlen == 0:
        # Trusting every address is what lets any client choose the address it is recorded under.
        raise ValueError(f"{where} trusts every address; name the proxies' own addresses")
    return network


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


class Settings(BaseSettings):
    """Runtime configuration of one piguard installation."""

    model_config = SettingsConfigDict(env_prefix="PIGUARD_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where the database, keys and reports live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is an SQLite file in the data directory.",
    )
    token_lifetime_seconds: int = Field(default=900, gt=0, le=3600)
    secret_key_file: Path | None = Field(
        default=None, description="Installation secret: pseudonym key and TOTP seed encryption."
    )
    ledger_key_file: Path | None = Field(default=None, description="Ed25519 key that signs checkpoints.")
    ledger_origin: str = Field(default="piguard.example/ledger", description="Checkpoint origin line.")
    # Upper bounds keep a typo from switching a protection off (a lockout of 30 years, a checkpoint
    # every billion entries) and keep times within what the clock arithmetic can hold.
    checkpoint_every_entries: int = Field(default=1000, gt=0, le=1_000_000)
    checkpoint_every_seconds: int = Field(default=300, gt=0, le=86_400)
    login_max_failures: int = Field(default=5, gt=0, le=100)
    login_lockout_seconds: int = Field(default=900, gt=0, le=7 * 86_400)
    breakglass_minutes: int = Field(default=60, gt=0, le=240)
    mdt_grace_minutes: int = Field(default=30, ge=0, le=240)
    trusted_proxies: str = Field(
        default="",
        description=(
            "Reverse proxies whose X-Forwarded-For is believed: comma-separated IP addresses or CIDR networks; "
            "empty trusts none (the client is the TCP peer)."
        ),
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=64 * 1_048_576,
        description="Largest request body accepted (bytes); larger ones are refused with 413 before any route runs.",
    )

    # Record-disclosing requests per account (docs/identity.md, "Disclosure rate limit").
    disclosure_limit_enabled: bool = Field(
        default=True, description="Limit how fast one account may pull records (429 with Retry-After beyond)."
    )
    disclosure_burst: int = Field(default=30, ge=1, le=10_000, description="Requests a person may make at once.")
    disclosure_per_minute: int = Field(
        default=12, ge=1, le=6_000, description="Sustained rate at which a person's burst allowance refills."
    )
    disclosure_per_hour: int = Field(
        default=480, ge=1, le=360_000, description="A person's hourly allowance (refilled continuously)."
    )
    service_disclosure_burst: int = Field(
        default=120, ge=1, le=100_000, description="Requests a service account (telephony bridge) may make at once."
    )
    service_disclosure_per_minute: int = Field(default=120, ge=1, le=60_000)
    service_disclosure_per_hour: int = Field(default=3_600, ge=1, le=3_600_000)

    @field_validator("ledger_origin")
    @classmethod
    def _origin_is_a_key_name(cls, value: str) -> str:
        # The origin is the signing key's name in every checkpoint note (C2SP signed note).
        if not value or len(value) > 200 or any(c.isspace() or c == "+" or not c.isprintable() for c in value):
            raise ValueError(
                "must be a log name without spaces or '+' (e.g. hospital.example/ledger), of at most 200 characters"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        parse_trusted_proxies(value)
        return value

    @field_validator("disclosure_per_hour", "service_disclosure_per_hour")
    @classmethod
    def _hour_holds_the_burst(cls, value: int, info: ValidationInfo) -> int:
        burst_field = info.field_name.removesuffix("per_hour") + "burst" if info.field_name else ""
        burst = info.data.get(burst_field)
        if burst is not None and value < burst:
            raise ValueError(
                f"must be at least PIGUARD_{burst_field.upper()} ({burst}), or the burst can never be used"
            )
        return value

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///DATA_DIR/piguard.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'piguard.db').resolve()}"

    def trusted_proxy_networks(self) -> list[ProxyNetwork]:
        """The reverse proxies whose forwarding headers are believed (empty: none)."""
        return parse_trusted_proxies(self.trusted_proxies)

    def keys_dir(self) -> Path:
        """Folder for generated secrets (mode 0700)."""
        return self.data_dir / "keys"

    def secret_key_path(self) -> Path:
        """Path of the HMAC secret file."""
        return self.secret_key_file or self.keys_dir() / "secret.key"

    def ledger_key_path(self) -> Path:
        """Path of the ledger's Ed25519 private key file."""
        return self.ledger_key_file or self.keys_dir() / "ledger_ed25519.key"
