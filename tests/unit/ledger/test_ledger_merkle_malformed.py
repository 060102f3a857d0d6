"""The verifiers refuse malformed input with a ledger error, never a pass and never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from piguard.errors import LedgerError, ProofError
from piguard.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(11)]
TREE = CompactRange()
NODES: dict[tuple[int, int], bytes] = {}
for _i, _leaf in enumerate(LEAVES):
    NODES[(0, _i)] = _leaf
    NODES.update(TREE.append(_leaf))


def _read(ids: Any) -> dict[tuple[int, int], bytes]:
    return {node: NODES[node] for node in ids}


def _roots() -> dict[int, bytes]:
    roots, partial = {}, CompactRange()
    for size, leaf in enumerate(LEAVES, start=1):
        partial.append(leaf)
        roots[size] = partial.root()
    return roots


ROOTS = _roots()
GOOD_INCLUSION = {
    "leaf_hash": LEAVES[6],
    "index": 6,
    "size": 11,
    "proof": inclusion_proof(6, 11, _read),
    "root": ROOTS[11],
}
GOOD_CONSISTENCY = {
    "size1": 6,
    "size2": 11,
    "proof": consistency_proof(6, 11, _read),
    "root1": ROOTS[6],
    "root2": ROOTS[11],
}


def test_the_good_proofs_verify() -> None:
    verify_inclusion(**GOOD_INCLUSION)
    verify_consistency(**GOOD_CONSISTENCY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"leaf_hash": b""}, "leaf hash must be 32 bytes"),
        ({"leaf_hash": LEAVES[6][:31]}, "leaf hash must be 32 bytes"),
        ({"leaf_hash": LEAVES[6].hex()}, "leaf hash must be 32 bytes"),
        ({"root": b""}, "root must be 32 bytes"),
        ({"root": ROOTS[11] + b"\x00"}, "root must be 32 bytes"),
        ({"index": 11}, "not below tree size"),
        ({"index": 12}, "not below tree size"),
        ({"index": -1}, "non-negative"),
        ({"index": True}, "non-negative"),
        ({"size": 0, "index": 0}, "not below tree size"),
        ({"size": 11.0}, "non-negative"),
        ({"proof": GOOD_INCLUSION["proof"][:-1]}, "expected 4"),
        ({"proof": [*GOOD_INCLUSION["proof"], LEAVES[0]]}, "expected 4"),
        ({"proof": [b"", *GOOD_INCLUSION["proof"][1:]]}, "proof element 0 must be 32 bytes"),
        ({"proof": [*GOOD_INCLUSION["proof"][:-1], "x" * 32]}, "proof element 3 must be 32 bytes"),
        ({"leaf_hash": LEAVES[5]}, "does not match"),
    ],
)
def test_malformed_inclusion_input_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        verify_inclusion(**{**GOOD_INCLUSION, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"root1": b""}, "root1 must be 32 bytes"),
        ({"root2": b""}, "root2 must be 32 bytes"),
        ({"root1": b"", "root2": b"", "size1": 3, "size2": 3, "proof": []}, "root1 must be 32 bytes"),
        ({"size1": 12}, "smaller than size1"),
        ({"size1": -1}, "non-negative"),
        ({"size2": False}, "non-negative"),
        ({"proof": []}, "proof is empty"),
        ({"proof": GOOD_CONSISTENCY["proof"][:-1]}, "expected"),
        ({"proof": [*GOOD_CONSISTENCY["proof"], LEAVES[0]]}, "expected"),
        ({"proof": [LEAVES[0][:16], *GOOD_CONSISTENCY["proof"][1:]]}, "proof element 0 must be 32 bytes"),
        ({"size1": 11, "proof": [LEAVES[0]]}, "sizes are equal but the proof is not empty"),
        ({"size1": 11, "proof": [], "root1": ROOTS[10]}, "does not match"),
        ({"size1": 0, "root1": EMPTY_ROOT}, "expected an empty proof"),
        ({"size1": 0, "proof": [], "root1": ROOTS[1]}, "empty-tree root"),
        ({"root1": ROOTS[5]}, "root1"),
        ({"root2": ROOTS[10]}, "root2"),
    ],
)
def test_malformed_consistency_input_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        verify_consistency(**{**GOOD_CONSISTENCY, **change})


def test_empty_tree_consistency_needs_the_empty_root() -> None:
    verify_consistency(size1=0, size2=11, proof=[], root1=EMPTY_ROOT, root2=ROOTS[11])


def test_proof_builders_refuse_impossible_requests() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(11, 11, _read)
    with pytest.raises(ProofError):
        inclusion_proof(-1, 11, _read)
    with pytest.raises(ProofError):
        consistency_proof(7, 6, _read)
    with pytest.raises(LedgerError, match="missing"):
        inclusion_proof(6, 11, lambda ids: {})
    with pytest.raises(LedgerError, match="32 bytes"):
        CompactRange().append(b"short")


@pytest.mark.parametrize("bad", [-1, 1.5, 2.0, True, "3", None])
def test_proof_builders_refuse_sizes_and_indexes_that_are_not_natural_numbers(bad: Any) -> None:
    with pytest.raises(ProofError, match="non-negative integer"):
        inclusion_proof(bad, 11, _read)
    with pytest.raises(ProofError, match="non-negative integer"):
        inclusion_proof(0, bad, _read)
    with pytest.raises(ProofError, match="non-negative integer"):
        inclusion_proofs([0, bad], 11, _read)
    with pytest.raises(ProofError, match="non-negative integer"):
        consistency_proof(bad, 11, _read)
    with pytest.raises(ProofError, match="non-negative integer"):
        consistency_proof(0, bad, _read)
    with pytest.raises(ProofError, match="non-negative integer"):
        root_at(bad, _read)  # a negative size once gave the empty tree's root
