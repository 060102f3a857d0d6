"""Pure identity primitives: Argon2id hashing, TOTP matching and secret encryption, token shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from piguard.errors import ConfigError, InputError
from piguard.identity import passwords, tokens, totp

AT = datetime(2025, 3, 10, 9, 0, 7, tzinfo=UTC)


def test_owasp_hash_parameters_and_verification() -> None:
    stored = passwords.hash_password("a long enough secret")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(stored, "a long enough secret")
    assert not passwords.verify_password(stored, "a long enough secreT")
    assert not passwords.needs_rehash(stored)


def test_demo_hash_is_marked_for_upgrade() -> None:
    stored = passwords.hash_password("a long enough secret", demo=True)
    assert passwords.verify_password(stored, "a long enough secret")
    assert passwords.needs_rehash(stored)


def test_unknown_user_path_never_matches() -> None:
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not-a-hash", "anything at all")


@pytest.mark.parametrize(("password", "ok"), [("short", False), ("x" * 12, True), ("x" * 129, False)])
def test_password_length_rules(password: str, ok: bool) -> None:
    if ok:
        passwords.check_password_rules(password)
    else:
        with pytest.raises(InputError, match="characters") as info:
            passwords.check_password_rules(password)
        assert info.value.where == "password"


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    first, second = passwords.generate_password(), passwords.generate_password()
    passwords.check_password_rules(first)
    assert first != second


def test_totp_matches_rfc6238_vector() -> None:
    # RFC 6238 Appendix B, SHA-1 seed "12345678901234567890" at T=59 s gives 94287082 (8 digits); 6 digits: 287082.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp.code_at(secret, 59 // 30) == "287082"


def test_totp_accepts_one_step_of_drift_only() -> None:
    secret = totp.new_secret()
    now = totp.step_of(AT)
    for offset in (-1, 0, 1):
        assert totp.match_step(secret, totp.code_at(secret, now + offset), at=AT) == now + offset
    assert totp.match_step(secret, totp.code_at(secret, now + 3), at=AT) is None
    assert totp.match_step(secret, "12345a", at=AT) is None
    assert totp.match_step(secret, "1234567", at=AT) is None


def test_totp_secret_encryption_is_bound_to_key_and_account() -> None:
    secret = totp.new_secret()
    blob = totp.encrypt_secret(secret, app_secret=b"k" * 32, account_id="A1")
    assert secret.encode() not in blob
    assert totp.decrypt_secret(blob, app_secret=b"k" * 32, account_id="A1") == secret
    with pytest.raises(ConfigError):
        totp.decrypt_secret(blob, app_secret=b"j" * 32, account_id="A1")
    with pytest.raises(ConfigError):
        totp.decrypt_secret(blob, app_secret=b"k" * 32, account_id="A2")
    assert totp.encrypt_secret(secret, app_secret=b"k" * 32, account_id="A1") != blob  # fresh nonce


def test_provisioning_uri_names_issuer_and_user() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), username="wang.fang")
    assert uri.startswith("otpauth://totp/piguard:wang.fang?")
    assert "issuer=piguard" in uri


def test_tokens_are_random_well_formed_and_hashed() -> None:
    access, key = tokens.new_access_token(), tokens.new_api_key()
    assert tokens.well_formed(access) and tokens.well_formed(key)
    assert not tokens.is_api_key(access) and tokens.is_api_key(key)
    assert not tokens.well_formed(access + "x") and not tokens.well_formed("pgt_short")
    assert len(tokens.token_hash(access)) == 32
    assert tokens.new_access_token() != access
