"""Per-account allowance of record-disclosing requests: a burst, a per-minute and a per-hour rate.

Two token buckets (GCRA, the "generic cell rate algorithm") kept in one row per account:

* the burst bucket holds ``burst`` requests and regains one every ``60 / per_minute`` seconds;
* the hour bucket holds ``per_hour`` requests and regains one every ``3600 / per_hour`` seconds.

A request is allowed when both buckets hold at least one request, and then takes one from each
(:func:`take`). A request that returned several records is then charged for the others
(:func:`charge`), unconditionally: the buckets may go into debt, and the account's next request
waits until the debt is refilled. Each bucket is stored as the moment it would be full again if
nothing more were taken, so a single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` decides
and counts at once (SQLite and PostgreSQL alike). It runs in the request's own transaction: on
PostgreSQL the row stays locked until that transaction ends, so concurrent requests of one
account, from any number of processes, are counted one after the other; a request that fails
and rolls back takes nothing. A refused request takes nothing either: waiting ``Retry-After``
seconds is always enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, BindParameter, Table, and_, bindparam, case, not_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.prepared import Prepared, connection_of
from piguard.identity.models import DisclosureAllowance


@dataclass(frozen=True, slots=True)
class Allowance:
    """How many record-disclosing requests an account may make: at once, per minute, per hour."""

    burst: int
    per_minute: int
    per_hour: int

    def describe(self) -> str:
        """The allowance in words, for refusal reasons and logs."""
        return f"{self.burst} at once, {self.per_minute} a minute, {self.per_hour} an hour"


def allowance_for(settings: Settings, *, kind: str) -> Allowance | None:
    """The configured allowance of a ``human`` or ``service`` account, or None when limiting is off."""
    if not settings.disclosure_limit_enabled:
        return None
    if kind == "service":
        return Allowance(
            settings.service_disclosure_burst,
            settings.service_disclosure_per_minute,
            settings.service_disclosure_per_hour,
        )
    return Allowance(settings.disclosure_burst, settings.disclosure_per_minute, settings.disclosure_per_hour)


_TABLE: Table = DisclosureAllowance.__table__  # type: ignore[assignment]


def _advanced(column: Any, amount: str) -> Any:
    """max(column, now) + amount, spelled portably (GREATEST in PostgreSQL, MAX in SQLite)."""
    now: BindParameter[int] = bindparam("now", type_=BigInteger)
    return case((column > now, column), else_=now) + bindparam(amount)


def _upsert(dialect: str) -> Any:
    """INSERT of a fresh account's row (``*_first`` parameters), to be completed with its ON CONFLICT."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(_TABLE).values(
        account_id=bindparam("account_id"),
        burst_full_ms=bindparam("burst_first"),
        hour_full_ms=bindparam("hour_first"),
        last_refused=False,
    )


def _statement(dialect: str) -> Any:
    burst, hour = _TABLE.c.burst_full_ms, _TABLE.c.hour_full_ms
    # Both buckets hold a request when neither is more than (capacity - 1) intervals from full.
    fits = and_(burst <= bindparam("burst_limit"), hour <= bindparam("hour_limit"))
    return (
        _upsert(dialect)
        .on_conflict_do_update(
            index_elements=[_TABLE.c.account_id],
            # Every right-hand side reads the row as it was before this update.
            set_={
                "burst_full_ms": case((fits, _advanced(burst, "burst_interval")), else_=burst),
                "hour_full_ms": case((fits, _advanced(hour, "hour_interval")), else_=hour),
                "last_refused": not_(fits),
            },
        )
        .returning(_TABLE.c.burst_full_ms, _TABLE.c.hour_full_ms, _TABLE.c.last_refused)
    )


def _charge_statement(dialect: str) -> Any:
    return (
        _upsert(dialect)
        .on_conflict_do_update(
            index_elements=[_TABLE.c.account_id],
            set_={
                "burst_full_ms": _advanced(_TABLE.c.burst_full_ms, "burst_cost"),
                "hour_full_ms": _advanced(_TABLE.c.hour_full_ms, "hour_cost"),
                "last_refused": False,
            },
        )
        .returning(_TABLE.c.burst_full_ms, _TABLE.c.hour_full_ms)
    )


_TAKE = {dialect: Prepared(_statement(dialect)) for dialect in ("postgresql", "sqlite")}
_CHARGE = {dialect: Prepared(_charge_statement(dialect)) for dialect in ("postgresql", "sqlite")}


@dataclass(frozen=True, slots=True)
class _Intervals:
    burst: int  # ms per request regained by the burst bucket
    hour: int  # ms per request regained by the hour bucket
    burst_slack: int  # how far from full (ms) the burst bucket may be and still hold one request
    hour_slack: int

    @classmethod
    def of(cls, allowance: Allowance) -> _Intervals:
        burst = max(1, round(60_000 / allowance.per_minute))
        hour = max(1, round(3_600_000 / allowance.per_hour))
        return cls(burst, hour, (allowance.burst - 1) * burst, (allowance.per_hour - 1) * hour)

    def wait(self, burst_full: int, hour_full: int, now: int) -> int | None:
        """Whole seconds until both buckets hold one request again, or None if they do now."""
        wait_ms = max(burst_full - self.burst_slack, hour_full - self.hour_slack) - now
        return max(1, math.ceil(wait_ms / 1000)) if wait_ms > 0 else None


def epoch_ms(at: datetime) -> int:
    """Milliseconds since the Unix epoch (``at`` must be timezone-aware)."""
    return math.floor(at.timestamp() * 1000)


def take(*, session: Session, account_id: str, allowance: Allowance, at: datetime) -> int | None:
    """Take one request from the account's allowance: None if it fits, else seconds until one does."""
    now = epoch_ms(at)
    step = _Intervals.of(allowance)
    params = {
        "account_id": account_id,
        "now": now,
        "burst_first": now + step.burst,
        "hour_first": now + step.hour,
        "burst_limit": now + step.burst_slack,
        "hour_limit": now + step.hour_slack,
        "burst_interval": step.burst,
        "hour_interval": step.hour,
    }
    dialect = connection_of(session).dialect.name
    ((burst_full, hour_full, refused),) = _TAKE[dialect].rows(session, params)
    if not refused:
        return None
    return step.wait(int(burst_full), int(hour_full), now) or 1


def charge(*, session: Session, account_id: str, allowance: Allowance, at: datetime, requests: int) -> int | None:
    """Take ``requests`` more from the account's allowance, into debt if need be: seconds until the next fits."""
    if requests < 0:
        raise ValueError("requests must not be negative")
    now = epoch_ms(at)
    step = _Intervals.of(allowance)
    params = {
        "account_id": account_id,
        "now": now,
        "burst_first": now + requests * step.burst,
        "hour_first": now + requests * step.hour,
        "burst_cost": requests * step.burst,
        "hour_cost": requests * step.hour,
    }
    dialect = connection_of(session).dialect.name
    ((burst_full, hour_full),) = _CHARGE[dialect].rows(session, params)
    return step.wait(int(burst_full), int(hour_full), now)
