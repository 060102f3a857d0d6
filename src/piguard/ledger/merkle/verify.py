"""Verification of RFC 9162 inclusion and consistency proofs (section 2.1.3.2 and 2.1.4.2).

A port of transparency-dev/merkle ``proof/verify.go``, stricter on input: every hash (leaf,
root and proof element) must be exactly 32 bytes, so an empty or truncated value never verifies.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from piguard.errors import ProofError
from piguard.ledger.merkle.hashing import EMPTY_ROOT, HASH_SIZE, node_hash


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {size}")


def _check_proof(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        if type(element) is not bytes or len(element) != HASH_SIZE:  # else name the problem
            _check_hash(element, f"proof element {position}")


def _check_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer")


def _match(calculated: bytes, expected: bytes, what: str) -> None:
    # Constant-time comparison: the cost is negligible and it removes a class of doubts.
    if not hmac.compare_digest(calculated, expected):
        raise ProofError(f"calculated {what} does not match the expected {what}")


def inclusion_decomposition(index: int, size: int) -> tuple[int, int]:
    """Number of inner and border proof nodes for leaf ``index`` in a tree of ``size`` leaves."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, element in enumerate(proof):
        seed = node_hash(seed, element) if (index >> i) & 1 == 0 else node_hash(element, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, element in enumerate(proof):
        if (index >> i) & 1 == 1:
            seed = node_hash(element, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for element in proof:
        seed = node_hash(element, seed)
    return seed


def root_from_inclusion_proof(*, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof; raises ``ProofError`` on malformed input."""
    _check_size(index, "index")
    _check_size(size, "size")
    if index >= size:
        raise ProofError(f"index {index} is not below tree size {size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_proof(proof)
    inner, border = inclusion_decomposition(index, size)
    if len(proof) != inner + border:
        raise ProofError(f"inclusion proof has {len(proof)} nodes, expected {inner + border}")
    result = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(result, proof[inner:])


def verify_inclusion(*, leaf_hash: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``; raises ``ProofError``."""
    _check_hash(root, "root")
    calculated = root_from_inclusion_proof(leaf_hash=leaf_hash, index=index, size=size, proof=proof)
    _match(calculated, root, "root")


def verify_consistency(*, size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree (size1, root1) is a prefix of (size2, root2); raises ``ProofError``."""
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    _check_proof(proof)
    if size2 < size1:
        raise ProofError(f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("sizes are equal but the proof is not empty")
        _match(root1, root2, "root")
        return
    if size1 == 0:
        # Every tree extends the empty tree, whose root is fixed.
        if proof:
            raise ProofError(f"expected an empty proof from size 0, got {len(proof)} nodes")
        _match(root1, EMPTY_ROOT, "empty-tree root")
        return
    if not proof:
        raise ProofError("consistency proof is empty")

    inner, border = inclusion_decomposition(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # trailing zeros of size1
    inner -= shift
    # The proof starts with the root of the subtree of size 2**shift, unless that is size1 itself.
    seed, start = (root1, 0) if size1 == 1 << shift else (proof[0], 1)
    if len(proof) != start + inner + border:
        raise ProofError(f"consistency proof has {len(proof)} nodes, expected {start + inner + border}")
    rest = proof[start:]
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    _match(hash1, root1, "root1")
    hash2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    _match(hash2, root2, "root2")
