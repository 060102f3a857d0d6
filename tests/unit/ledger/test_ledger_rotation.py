"""Key rotation notes: what endorses a new key, and which key may sign which tree sizes."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from piguard.errors import InputError, SignatureError
from piguard.ledger.checkpoint import Checkpoint, Verifier, sign_note, verifier_for
from piguard.ledger.rotation import (
    StoredRotation,
    chain,
    from_published,
    open_in_history,
    open_rotation,
    periods,
    published,
    rotation_body,
    sign_twice,
)

ORIGIN = "example.org/log"


def _root(size: int) -> bytes:
    return hashlib.sha256(str(size).encode()).digest()


def _checkpoint(size: int) -> Checkpoint:
    return Checkpoint(origin=ORIGIN, size=size, root=_root(size))


def _rotate(old: Ed25519PrivateKey, new: Ed25519PrivateKey, size: int) -> StoredRotation:
    body = rotation_body(_checkpoint(size), verifier_for(ORIGIN, new))
    note = sign_twice(body, name=ORIGIN, first=old, second=new)
    return StoredRotation(old_vkey=verifier_for(ORIGIN, old).vkey(), note=note)


def _signed(key: Ed25519PrivateKey, size: int) -> str:
    return sign_note(_checkpoint(size).body(), name=ORIGIN, key=key)


@pytest.fixture
def keys() -> list[Ed25519PrivateKey]:
    return [Ed25519PrivateKey.generate() for _ in range(4)]


def _v(key: Ed25519PrivateKey) -> Verifier:
    return verifier_for(ORIGIN, key)


def test_a_rotation_names_the_new_key_under_both_signatures(keys: list[Ed25519PrivateKey]) -> None:
    stored = _rotate(keys[0], keys[1], 10)
    rotation = open_rotation(stored.note, _v(keys[0]))
    assert (rotation.tree_size, rotation.root, rotation.new) == (10, _root(10), _v(keys[1]))


def test_an_old_checkpoint_with_a_signature_added_is_not_a_rotation(keys: list[Ed25519PrivateKey]) -> None:
    # Anyone can add their own signature line to a checkpoint the old key signed; without the
    # old key's signature over the line naming the new key it endorses nothing.
    plain = sign_twice(_checkpoint(10).body(), name=ORIGIN, first=keys[0], second=keys[3])
    with pytest.raises(SignatureError, match="exactly one 'piguard-key-rotation' line"):
        open_rotation(plain, _v(keys[0]))


def test_a_rotation_the_new_key_did_not_sign_is_refused(keys: list[Ed25519PrivateKey]) -> None:
    body = rotation_body(_checkpoint(10), _v(keys[1]))
    only_old = sign_note(body, name=ORIGIN, key=keys[0])
    with pytest.raises(SignatureError, match="not signed by the new key"):
        open_rotation(only_old, _v(keys[0]))
    signed_by_other = sign_twice(body, name=ORIGIN, first=keys[0], second=keys[2])
    with pytest.raises(SignatureError, match="not signed by the new key"):
        open_rotation(signed_by_other, _v(keys[0]))


def test_a_rotation_the_old_key_did_not_sign_is_refused(keys: list[Ed25519PrivateKey]) -> None:
    forged = _rotate(keys[3], keys[1], 10)
    with pytest.raises(SignatureError):
        open_rotation(forged.note, _v(keys[0]))


def test_periods_give_each_key_its_sizes_and_any_key_of_the_chain_can_be_trusted(
    keys: list[Ed25519PrivateKey],
) -> None:
    rotations = [_rotate(keys[0], keys[1], 10), _rotate(keys[1], keys[2], 25)]
    for trusted in keys[:3]:
        history = periods(rotations, _v(trusted))
        assert [(p.verifier, p.first, p.last) for p in history] == [
            (_v(keys[0]), 0, 10),
            (_v(keys[1]), 10, 25),
            (_v(keys[2]), 25, None),
        ]
    with pytest.raises(SignatureError, match="not one of the log's signing keys"):
        periods(rotations, _v(keys[3]))


def test_a_retired_key_cannot_sign_later_history(keys: list[Ed25519PrivateKey]) -> None:
    history = periods([_rotate(keys[0], keys[1], 10)], _v(keys[0]))
    assert open_in_history(_signed(keys[0], 10), history).size == 10
    assert open_in_history(_signed(keys[1], 10), history).size == 10  # the rotation's size: both
    assert open_in_history(_signed(keys[1], 11), history).size == 11
    with pytest.raises(SignatureError, match="retired at tree size 10"):
        open_in_history(_signed(keys[0], 11), history)  # a leaked old key
    with pytest.raises(SignatureError, match="signs sizes from 10 only"):
        open_in_history(_signed(keys[1], 9), history)
    with pytest.raises(SignatureError):
        open_in_history(_signed(keys[3], 11), history)


def test_a_broken_chain_is_refused(keys: list[Ed25519PrivateKey]) -> None:
    with pytest.raises(SignatureError, match="rotation 2 retires a key"):
        chain([_rotate(keys[0], keys[1], 10), _rotate(keys[2], keys[3], 20)])
    with pytest.raises(SignatureError, match="smaller tree size"):
        chain([_rotate(keys[0], keys[1], 10), _rotate(keys[1], keys[2], 5)])
    lying = StoredRotation(old_vkey=_v(keys[2]).vkey(), note=_rotate(keys[0], keys[1], 10).note)
    with pytest.raises(SignatureError, match="key rotation 1"):
        chain([lying])


def test_published_rotations_round_trip_and_bad_json_is_named(keys: list[Ed25519PrivateKey]) -> None:
    rotations = [_rotate(keys[0], keys[1], 10), _rotate(keys[1], keys[2], 25)]
    data = published(rotations)
    assert [item["new_key"] for item in data] == [_v(keys[1]).vkey(), _v(keys[2]).vkey()]
    assert from_published({"rotations": data}, "r.json") == rotations
    with pytest.raises(InputError, match=r"r\.json: key rotation 2 needs"):
        from_published([data[0], {"note": "x"}], "r.json")
    with pytest.raises(InputError, match=r"r\.json: key rotations must be a JSON list"):
        from_published("nope", "r.json")
