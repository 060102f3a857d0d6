"""The pure masking operators: mask, redact, hash, keyed pseudonym, generalise."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from piguard.errors import ConfigError, InputError
from piguard.minimize.operators import (
    age_band,
    hash_value,
    mask,
    mask_email,
    pseudonymize,
    redact,
    to_month,
)

KEY = bytes(range(32))


def test_mask_keeps_last_four_and_separators() -> None:
    assert mask("13812345678") == "*******5678"
    assert mask("138 1234 5678") == "*** **** 5678"
    assert mask("110101193105070011", keep_last=4) == "**************0011"


def test_mask_keep_first_for_names() -> None:
    assert mask("张三丰", keep_first=1, keep_last=0) == "张**"


def test_mask_never_returns_a_short_value_in_clear() -> None:
    assert mask("1234", keep_last=4) == "****"
    assert mask("李四", keep_first=1, keep_last=1) == "**"


def test_mask_rejects_bad_arguments() -> None:
    with pytest.raises(InputError):
        mask("x", keep_last=-1)
    with pytest.raises(InputError):
        mask("x", char="##")


@given(st.text(max_size=40), st.integers(0, 6))
def test_mask_preserves_length_and_hides_the_middle(value: str, keep: int) -> None:
    out = mask(value, keep_last=keep, preserve=frozenset())
    assert len(out) == len(value)
    if len(value) > keep:
        assert out[: len(value) - keep] == "*" * (len(value) - keep)


def test_mask_email_keeps_domain() -> None:
    assert mask_email("zhang.san@example.cn") == "z********@example.cn"
    assert mask_email("not-an-address") == "**************"


def test_redact_hides_length() -> None:
    assert redact("13812345678") == redact("1") == "[REDACTED]"
    assert redact("x", placeholder="<PHONE>") == "<PHONE>"


def test_hash_value_is_sha256() -> None:
    assert hash_value("13812345678") == hashlib.sha256(b"13812345678").hexdigest()
    assert hash_value("x", length=12) == hashlib.sha256(b"x").hexdigest()[:12]
    with pytest.raises(InputError):
        hash_value("x", length=4)


def test_pseudonym_is_keyed_hmac_sha256() -> None:
    expected = hmac.new(KEY, b"CN_MOBILE\x0013812345678", hashlib.sha256).hexdigest()[:16]
    assert pseudonymize("13812345678", key=KEY, domain="CN_MOBILE") == expected


def test_pseudonym_depends_on_key_and_domain_and_is_stable() -> None:
    a = pseudonymize("13812345678", key=KEY)
    assert a == pseudonymize("13812345678", key=KEY)
    assert a != pseudonymize("13812345678", key=bytes(32))
    assert a != pseudonymize("13812345678", key=KEY, domain="PHONE")
    assert a != pseudonymize("13812345679", key=KEY)


def test_pseudonym_refuses_short_key() -> None:
    with pytest.raises(ConfigError):
        pseudonymize("x", key=b"short")


@pytest.mark.parametrize(
    ("value", "month"),
    [
        ("1931-05-07", "1931-05"),
        ("1931/5/7", "1931-05"),
        ("1931年5月7日", "1931-05"),
        ("19310507", "1931-05"),
        ("2025-03-01T08:15:00+08:00", "2025-03"),
        (date(1948, 12, 31), "1948-12"),
        (datetime(2024, 2, 29, 23, 59), "2024-02"),
    ],
)
def test_to_month(value: str | date, month: str) -> None:
    assert to_month(value) == month


@pytest.mark.parametrize("bad", ["", "yesterday", "1931-13-01", "1931-02-30"])
def test_to_month_rejects_non_dates(bad: str) -> None:
    with pytest.raises(InputError):
        to_month(bad)


def test_age_band() -> None:
    assert age_band(0) == "0-9"
    assert age_band(37) == "30-39"
    assert age_band(89) == "80-89"
    assert age_band(90) == "90+"
    assert age_band(103) == "90+"
    assert age_band(37, width=5) == "35-39"
    assert age_band(87, width=5, top=85) == "85+"


@pytest.mark.parametrize("bad", [-1, 151, True])
def test_age_band_rejects_impossible_ages(bad: int) -> None:
    with pytest.raises(InputError):
        age_band(bad)
