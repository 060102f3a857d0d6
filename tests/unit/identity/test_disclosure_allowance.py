"""The per-account disclosure allowance: two token buckets counted by one upsert, and its settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.identity import allowance
from piguard.identity import service as identity
from piguard.identity.models import DisclosureAllowance
from piguard.identity.schemas import NewAccount, Principal
from tests.unit.identity.conftest import T0

SMALL = allowance.Allowance(burst=3, per_minute=6, per_hour=20)  # one back every 10 s; 180 s for the hour


def _take(session: Session, account_id: str, seconds: float, limit: allowance.Allowance = SMALL) -> int | None:
    return allowance.take(session=session, account_id=account_id, allowance=limit, at=T0 + timedelta(seconds=seconds))


def _charge(
    session: Session, account_id: str, seconds: float, requests: int, limit: allowance.Allowance = SMALL
) -> int | None:
    at = T0 + timedelta(seconds=seconds)
    return allowance.charge(session=session, account_id=account_id, allowance=limit, at=at, requests=requests)


def test_burst_then_one_back_per_interval(session: Session, make_account: Callable[..., NewAccount]) -> None:
    me = make_account("wang.fang").account.id
    assert [_take(session, me, 0) for _ in range(5)] == [None, None, None, 10, 10]
    assert _take(session, me, 9.2) == 1  # whole seconds, rounded up
    assert _take(session, me, 10) is None
    assert _take(session, me, 10) == 10
    row = session.scalars(select(DisclosureAllowance).where(DisclosureAllowance.account_id == me)).one()
    assert row.last_refused is True


def test_refusals_take_nothing_and_rests_refill_the_burst(
    session: Session, make_account: Callable[..., NewAccount]
) -> None:
    me = make_account("wang.fang").account.id
    for _ in range(3):
        assert _take(session, me, 0) is None
    for _ in range(50):
        assert _take(session, me, 5) == 5  # hammering does not push the wait further out
    assert [_take(session, me, 40) for _ in range(4)] == [None, None, None, 10]  # a rest of 30 s refills 3


def test_the_hour_bucket_caps_a_steady_stream(session: Session, make_account: Callable[..., NewAccount]) -> None:
    me = make_account("wang.fang").account.id
    results = [_take(session, me, 10 * i) for i in range(22)]
    assert results[:21] == [None] * 21  # 20 from the full hour bucket, one more regained at 180 s
    wait = results[21]
    assert wait is not None and 10 < wait <= 180
    assert _take(session, me, 210 + wait - 1) is not None
    assert _take(session, me, 210 + wait) is None


def test_accounts_and_kinds_have_their_own_allowance(
    session: Session, make_account: Callable[..., NewAccount], id_settings: Settings
) -> None:
    tuned = id_settings.model_copy(
        update={"disclosure_burst": 2, "service_disclosure_burst": 4, "service_disclosure_per_hour": 100}
    )
    accounts = [make_account(name).account for name in ("wang.fang", "chen.jie")]
    accounts.append(make_account("svc-telephony", role="service", kind="service").account)
    people = [
        Principal(account_id=a.id, username=a.username, kind=a.kind, role=a.role, org_id=a.org_id) for a in accounts
    ]

    def fits(who: Principal) -> bool:
        return identity.take_disclosure_allowance(session=session, settings=tuned, principal=who, now=T0) is None

    assert [fits(people[0]) for _ in range(3)] == [True, True, False]
    assert [fits(people[1]) for _ in range(3)] == [True, True, False]  # the first one's use is not shared
    assert [fits(people[2]) for _ in range(5)] == [True, True, True, True, False]
    off = tuned.model_copy(update={"disclosure_limit_enabled": False})
    assert allowance.allowance_for(off, kind="human") is None
    assert (
        identity.describe_disclosure_allowance(settings=tuned, kind="service") == "4 at once, 120 a minute, 100 an hour"
    )


def test_defaults_fit_a_coder_working_a_queue_and_stop_a_scraper(
    session: Session, make_account: Callable[..., NewAccount]
) -> None:
    defaults = Settings()
    limit = allowance.allowance_for(defaults, kind="human")
    assert limit is not None
    coder, scraper = (make_account(name).account.id for name in ("li.coder", "chen.scraper"))
    # A coder opening a report every 15 s, and every 5 minutes a search listing 10 still to code
    # (charged 10: one before, nine after), for three hours: 6 a minute on average.
    for t in range(0, 3 * 3600, 15):
        assert _take(session, coder, t, limit) is None
        if t % 300 == 0:
            assert _take(session, coder, t, limit) is None
            _charge(session, coder, t, 9, limit)
    # 300 reports in 10 minutes (one every 2 s): the burst and the per-minute rate stop it early.
    allowed = sum(_take(session, scraper, 2 * i, limit) is None for i in range(300))
    assert allowed < 300 * 0.6 and allowed >= limit.burst


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"disclosure_burst": 0}, "disclosure_burst"),
        ({"disclosure_per_minute": -1}, "disclosure_per_minute"),
        ({"disclosure_per_hour": 10**9}, "disclosure_per_hour"),
        ({"disclosure_burst": 50, "disclosure_per_hour": 40}, "disclosure_per_hour"),
        ({"service_disclosure_burst": 500, "service_disclosure_per_hour": 100}, "service_disclosure_per_hour"),
        ({"disclosure_limit_enabled": "maybe"}, "disclosure_limit_enabled"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**overrides)  # type: ignore[arg-type]
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("PIGUARD_DISCLOSURE_BURST", "0", "greater than or equal to 1"),
        ("PIGUARD_DISCLOSURE_PER_MINUTE", "lots", "valid integer"),
        ("PIGUARD_DISCLOSURE_PER_HOUR", "10", "at least PIGUARD_DISCLOSURE_BURST"),
        ("PIGUARD_SERVICE_DISCLOSURE_PER_MINUTE", "70000", "less than or equal to 60000"),
        ("PIGUARD_DISCLOSURE_LIMIT_ENABLED", "perhaps", "valid boolean"),
    ],
)
def test_a_bad_limit_setting_names_the_variable_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, rule: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert f"configuration: {variable}: " in result.stderr and rule in result.stderr
    assert "Traceback" not in result.output


def test_limit_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGUARD_DISCLOSURE_PER_MINUTE", "20")
    monkeypatch.setenv("PIGUARD_SERVICE_DISCLOSURE_BURST", "200")
    monkeypatch.setenv("PIGUARD_DISCLOSURE_LIMIT_ENABLED", "false")
    loaded = Settings()
    assert (loaded.disclosure_per_minute, loaded.service_disclosure_burst) == (20, 200)
    assert loaded.disclosure_limit_enabled is False


def test_a_charge_goes_into_debt_and_the_next_request_waits_it_out(
    session: Session, make_account: Callable[..., NewAccount]
) -> None:
    me = make_account("wang.fang").account.id
    assert _take(session, me, 0) is None
    assert _charge(session, me, 0, 1) is None  # two of three used: one left
    assert _charge(session, me, 0, 3) == 30  # two in debt: three intervals until one fits
    assert _take(session, me, 29) == 1  # the refusal agrees, and takes nothing
    assert _take(session, me, 30) is None
    assert _take(session, me, 30) == 10


def test_charging_nothing_changes_nothing_and_negative_is_an_error(
    session: Session, make_account: Callable[..., NewAccount]
) -> None:
    me = make_account("wang.fang").account.id
    assert _charge(session, me, 0, 0) is None  # also creates the row of an account never counted
    assert [_take(session, me, 0) for _ in range(4)] == [None, None, None, 10]
    with pytest.raises(ValueError, match="must not be negative"):
        _charge(session, me, 0, -1)


def test_a_charge_reaches_the_hour_bucket_too(session: Session, make_account: Callable[..., NewAccount]) -> None:
    me = make_account("wang.fang").account.id
    hourly = allowance.Allowance(burst=3, per_minute=60_000, per_hour=20)  # the burst refills at once
    assert _take(session, me, 0, hourly) is None
    assert _charge(session, me, 0, 21, hourly) == 3 * 180  # 22 of 20: two in debt, one back every 180 s
    assert _take(session, me, 539, hourly) == 1
    assert _take(session, me, 540, hourly) is None


def test_defaults_stop_the_certificate_prefix_searches_after_about_the_burst(
    session: Session, make_account: Callable[..., NewAccount]
) -> None:
    """The auditor's pattern: q=DC0 ... q=DCF, one a second, each returning 17 full reports (261 in 8 before)."""
    limit = allowance.allowance_for(Settings(), kind="human")
    assert limit is not None
    me = make_account("chen.scraper").account.id
    disclosed = 0
    for second in range(16):
        if _take(session, me, second, limit) is not None:
            break
        _charge(session, me, second, 16, limit)
        disclosed += 17
    assert limit.burst <= disclosed <= limit.burst + 17  # 34 records, against 261 before


def test_defaults_let_a_certifier_list_a_ward_and_open_each(
    session: Session, make_account: Callable[..., NewAccount]
) -> None:
    """A night shift's 12 deaths: one search listing them (12) and 12 reads, 10 s apart, all allowed."""
    limit = allowance.allowance_for(Settings(), kind="human")
    assert limit is not None
    me = make_account("wang.fang").account.id
    assert _take(session, me, 0, limit) is None
    _charge(session, me, 0, 11, limit)
    assert all(_take(session, me, 10 * (i + 1), limit) is None for i in range(12))
