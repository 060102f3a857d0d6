"""The one-person-one-account naming rule: pooling words anywhere, role/post words run together."""

from __future__ import annotations

import pytest

from piguard.errors import InputError
from piguard.identity.accounts import check_username


@pytest.mark.parametrize(
    "username",
    [
        # Pooling words that no personal name contains are refused anywhere in the name.
        "nightduty",
        "sharedlogin",
        "guestuser",
        "er.sharedacct",
        "wardteam",
        "icugroup2",
        "dutyfree",
        "commonlogin",
        # Pooling words that surnames do contain: as a whole part, or run together with role words.
        "testuser",
        "nursepool",
        "tempnurse",
        "sharelogin",
        "test1",
        "tests",
        "temp.staff",
    ],
)
def test_names_with_a_pooling_word_are_refused(username: str) -> None:
    with pytest.raises(InputError) as info:
        check_username(username, kind="human")
    assert (info.value.where, info.value.reason) == (
        "username",
        "names a shared or temporary login; accounts are personal",
    )


@pytest.mark.parametrize("username", ["icunurse", "ward3nurses", "nurses", "nightnurse", "er.doctors", "admins"])
def test_names_made_of_role_words_run_together_or_plural_are_refused(username: str) -> None:
    with pytest.raises(InputError) as info:
        check_username(username, kind="human")
    assert info.value.reason == "names a role or post, not a person; accounts are personal"


@pytest.mark.parametrize(
    "username",
    # Surnames holding a short pooling word, names next to role words, names that merely resemble one.
    ["li.poole", "j.temple", "a.testa", "m.tester", "shareef.a", "li.sharon", "p.allday", "dr.chen", "nurse.u000012"],
)
def test_personal_names_that_hold_a_short_word_by_accident_are_accepted(username: str) -> None:
    check_username(username, kind="human")
