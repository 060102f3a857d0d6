"""Property tests: the compact range, stored-node proofs and verifiers against a naive RFC 9162 tree."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piguard.errors import LedgerError, ProofError
from piguard.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeId,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 section 2.1.1."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH from RFC 9162 section 2.1.3.1."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_root(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_root(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF from RFC 9162 section 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [naive_root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], whole), naive_root(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_root(leaves[:k])]


class Store:
    """Nodes as storage keeps them: leaves plus every interior node the compact range completed."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self.range = CompactRange()
        self.reads = 0
        for index, leaf in enumerate(leaves):
            self.nodes[(0, index)] = leaf
            self.nodes.update(self.range.append(leaf))

    def read(self, ids: Collection[NodeId]) -> Mapping[NodeId, bytes]:
        self.reads += 1
        return {node: self.nodes[node] for node in ids}


def leaves_of(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


sizes = st.integers(min_value=1, max_value=150)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(min_value=0, max_value=150))
def test_compact_range_root_matches_naive_for_every_prefix(n: int) -> None:
    leaves = leaves_of(n)
    store = Store(leaves)
    assert store.range.root() == naive_root(leaves)
    for size in range(n + 1):
        assert root_at(size, store.read) == naive_root(leaves[:size])


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_proofs_match_naive_and_verify(data: st.DataObject, n: int) -> None:
    leaves = leaves_of(n)
    store = Store(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(index, size, store.read)
    assert proof == naive_path(index, leaves[:size])
    root = naive_root(leaves[:size])
    verify_inclusion(leaf_hash=leaves[index], index=index, size=size, proof=proof, root=root)
    wrong = leaves_of(1, salt=1)[0]
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash=wrong, index=index, size=size, proof=proof, root=root)
    if size > 1:
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash=leaves[index], index=(index + 1) % size, size=size, proof=proof, root=root)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_proofs_match_naive_and_verify(data: st.DataObject, n: int) -> None:
    leaves = leaves_of(n)
    store = Store(leaves)
    size2 = data.draw(st.integers(min_value=1, max_value=n))
    size1 = data.draw(st.integers(min_value=1, max_value=size2))
    proof = consistency_proof(size1, size2, store.read)
    expected = [] if size1 == size2 else naive_subproof(size1, leaves[:size2], True)
    assert proof == expected
    root1, root2 = naive_root(leaves[:size1]), naive_root(leaves[:size2])
    verify_consistency(size1=size1, size2=size2, proof=proof, root1=root1, root2=root2)
    # A fork: the same size-2 tree with one earlier leaf changed is not consistent.
    forked = list(leaves[:size2])
    forked[data.draw(st.integers(min_value=0, max_value=size1 - 1))] = leaf_hash(b"forged")
    with pytest.raises(ProofError):
        verify_consistency(size1=size1, size2=size2, proof=proof, root1=root1, root2=naive_root(forked))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(min_value=2, max_value=100))
def test_any_single_bit_flip_in_a_proof_fails(data: st.DataObject, n: int) -> None:
    leaves = leaves_of(n)
    store = Store(leaves)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = inclusion_proof(index, n, store.read)
    which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    flipped = bytearray(proof[which])
    flipped[bit // 8] ^= 1 << (bit % 8)
    proof[which] = bytes(flipped)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash=leaves[index], index=index, size=n, proof=proof, root=naive_root(leaves))


def test_proofs_need_one_batched_read_of_logarithmic_size() -> None:
    store = Store(leaves_of(1000))
    requested: list[int] = []

    def counting(ids: Collection[NodeId]) -> Mapping[NodeId, bytes]:
        requested.append(len(ids))
        return store.read(ids)

    inclusion_proof(377, 999, counting)
    consistency_proof(333, 999, counting)
    assert len(requested) == 2
    assert max(requested) <= 2 * 10


def test_compact_range_round_trips_and_rejects_bad_frontier() -> None:
    store = Store(leaves_of(13))
    again = CompactRange.from_bytes(13, store.range.to_bytes())
    assert again.root() == store.range.root()
    with pytest.raises(LedgerError, match="frontier"):
        CompactRange.from_bytes(16, store.range.to_bytes())


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_batched_inclusion_proofs_equal_single_ones_from_one_read(data: st.DataObject, n: int) -> None:
    store = Store(leaves_of(n))
    size = data.draw(st.integers(min_value=1, max_value=n))
    indexes = data.draw(st.lists(st.integers(min_value=0, max_value=size - 1), max_size=40))
    before = store.reads
    proofs = inclusion_proofs(indexes, size, store.read)
    assert store.reads - before == 1
    assert proofs == [inclusion_proof(index, size, store.read) for index in indexes]
    with pytest.raises(ProofError):
        inclusion_proofs([*indexes, size], size, store.read)


def test_every_inclusion_and_consistency_proof_of_small_trees_matches_rfc() -> None:
    leaves = leaves_of(70)
    store = Store(leaves)
    for size in range(1, 71):
        for index in range(size):
            assert inclusion_proof(index, size, store.read) == naive_path(index, leaves[:size]), (index, size)
        for size1 in range(1, size):
            assert consistency_proof(size1, size, store.read) == naive_subproof(size1, leaves[:size], True)
