"""Notes are read strictly, and a retired key's signature counts only up to its rotation's size,
for a witness too, whichever key it pinned."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from piguard.errors import SignatureError
from piguard.ledger.checkpoint import Checkpoint, open_checkpoint, sign_note, verifier_for
from piguard.ledger.rotation import StoredRotation, rotation_body, sign_twice
from piguard.ledger.witness import open_new

ORIGIN = "example.org/log"


def _checkpoint(size: int) -> Checkpoint:
    return Checkpoint(origin=ORIGIN, size=size, root=hashlib.sha256(str(size).encode()).digest())


def _signed(key: Ed25519PrivateKey, size: int) -> str:
    return sign_note(_checkpoint(size).body(), name=ORIGIN, key=key)


def test_a_checkpoint_with_a_line_after_the_root_is_refused_unless_a_rotation_reads_it() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_note(_checkpoint(5).body() + "extra line\n", name=ORIGIN, key=key)
    with pytest.raises(SignatureError, match=r"1 line\(s\) after the root hash"):
        open_checkpoint(note, verifier_for(ORIGIN, key))
    assert open_checkpoint(note, verifier_for(ORIGIN, key), extensions=True).checkpoint.extensions == ("extra line",)


def test_every_signature_line_by_the_key_must_verify() -> None:
    key = Ed25519PrivateKey.generate()
    note = _signed(key, 5)
    other = sign_note(_checkpoint(6).body(), name=ORIGIN, key=key)  # the same key over another text
    doubled = note + other[other.rindex("\u2014") :]
    with pytest.raises(SignatureError, match="does not verify"):
        open_checkpoint(doubled, verifier_for(ORIGIN, key))


def test_a_witness_pinned_to_the_retired_key_accepts_it_only_up_to_the_rotation() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pinned = verifier_for(ORIGIN, old)
    body = rotation_body(_checkpoint(10), verifier_for(ORIGIN, new))
    rotations = [StoredRotation(old_vkey=pinned.vkey(), note=sign_twice(body, name=ORIGIN, first=old, second=new))]
    signed, pin = open_new(_signed(old, 10), pinned, rotations)
    assert (signed.tree_size, pin) == (10, pinned)  # the key that signed it stays pinned
    with pytest.raises(SignatureError, match="retired at tree size 10"):
        open_new(_signed(old, 11), pinned, rotations)
    signed, pin = open_new(_signed(new, 11), pinned, rotations)
    assert (signed.tree_size, pin) == (11, verifier_for(ORIGIN, new))
    assert open_new(_signed(old, 11), pinned, None)[0].tree_size == 11  # without the rotations, nothing shows it
