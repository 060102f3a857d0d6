"""Trees over stored perfect subtrees: compact ranges, roots of any prefix, proof building.

A node is named by ``(level, index)``: the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf hash. Storage keeps the
hash of every complete perfect subtree, so any proof or prefix root needs only the
O(log n) nodes computed here, fetched in one batched read (``NodeReader``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from piguard.errors import LedgerError, ProofError
from piguard.ledger.merkle.hashing import EMPTY_ROOT, HASH_SIZE, node_hash

NodeId = tuple[int, int]
Span = tuple[int, int]
#: Returns the hashes of the requested nodes; a missing node must raise, never be skipped.
NodeReader = Callable[[Collection[NodeId]], Mapping[NodeId, bytes]]


def _check_natural(value: int, what: str) -> None:
    # Callers outside the API (services, scripts) pass what they were given: a negative size once
    # gave the empty tree's root, a float or a bool crashed or passed as an integer.
    if type(value) is not int or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, got {value!r}")


def _largest_power_below(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[NodeId]:
    """Split leaves ``[begin, end)`` into maximal aligned perfect subtrees, left to right."""
    width = end - begin
    if width > 0 and width & (width - 1) == 0 and begin & (width - 1) == 0:
        level = width.bit_length() - 1  # already one perfect subtree: the common case in proofs
        return [(level, begin >> level)]
    ids: list[NodeId] = []
    while begin < end:
        level = (begin & -begin).bit_length() - 1 if begin else (end - begin).bit_length()
        while begin + (1 << level) > end:
            level -= 1
        ids.append((level, begin >> level))
        begin += 1 << level
    return ids


def fold(hashes: list[bytes]) -> bytes:
    """Hash perfect-subtree hashes (left to right, decreasing size) into their RFC 9162 root."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def span_hash(span: Span, nodes: Mapping[NodeId, bytes]) -> bytes:
    """Hash of the subtree over leaves ``[begin, end)`` from its perfect subtrees' hashes."""
    try:
        return fold([nodes[node] for node in perfect_subtrees(*span)])
    except KeyError as exc:
        raise LedgerError(f"stored tree node {exc.args[0]} is missing") from None


def inclusion_spans(index: int, size: int) -> list[Span]:
    """Leaf spans whose hashes form the RFC 9162 inclusion proof (PATH), leaf side first.

    Level by level up from the leaf: the sibling of the leaf's ancestor, cut at the tree's right
    edge; a sibling wholly beyond the edge does not exist (the ancestor is promoted as is).
    """
    _check_natural(index, "index")
    _check_natural(size, "tree size")
    if index >= size:
        raise ProofError(f"index {index} is not below tree size {size}")
    spans: list[Span] = []
    level = 0
    while (size - 1) >> level:  # the ancestor at this level is not yet the root
        begin = ((index >> level) ^ 1) << level
        if begin < size:
            spans.append((begin, min(begin + (1 << level), size)))
        level += 1
    return spans


def consistency_spans(size1: int, size2: int) -> list[Span]:
    """Leaf spans whose hashes form the RFC 9162 consistency proof (SUBPROOF)."""
    _check_natural(size1, "size1")
    _check_natural(size2, "size2")
    if size1 > size2:
        raise ProofError(f"cannot prove size {size1} consistent with size {size2}")
    if size1 in (0, size2):
        return []
    stack: list[Span] = []
    lo, hi, m, whole = 0, size2, size1, True
    while m != hi - lo:
        k = _largest_power_below(hi - lo)
        if m <= k:
            stack.append((lo + k, hi))
            hi = lo + k
        else:
            stack.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        stack.append((lo, hi))
    return list(reversed(stack))


def nodes_for(spans: Iterable[Span]) -> set[NodeId]:
    """Every stored node needed to hash the given spans."""
    return {node for span in spans for node in perfect_subtrees(*span)}


def root_at(size: int, read: NodeReader) -> bytes:
    """Root of the first ``size`` leaves (one batched read)."""
    _check_natural(size, "tree size")
    if size == 0:
        return EMPTY_ROOT
    ids = perfect_subtrees(0, size)
    return span_hash((0, size), read(ids))


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` (one batched read)."""
    spans = inclusion_spans(index, size)
    nodes = read(nodes_for(spans))
    return [span_hash(span, nodes) for span in spans]


def inclusion_proofs(indexes: Sequence[int], size: int, read: NodeReader) -> list[list[bytes]]:
    """Inclusion proofs of many leaves in the tree of ``size``, in the order of ``indexes``.

    One batched read of the union of their nodes; spans shared between proofs (every proof's
    path meets the others' towards the root) are read and hashed once.
    """
    all_spans = [inclusion_spans(index, size) for index in indexes]
    parts = {span: perfect_subtrees(*span) for span in {span for spans in all_spans for span in spans}}
    nodes = read({node for ids in parts.values() for node in ids})
    try:
        hashed = {span: fold([nodes[node] for node in ids]) for span, ids in parts.items()}
    except KeyError as exc:
        raise LedgerError(f"stored tree node {exc.args[0]} is missing") from None
    return [[hashed[span] for span in spans] for spans in all_spans]


def consistency_proof(size1: int, size2: int, read: NodeReader) -> list[bytes]:
    """RFC 9162 consistency proof from ``size1`` to ``size2`` (one batched read)."""
    spans = consistency_spans(size1, size2)
    nodes = read(nodes_for(spans))
    return [span_hash(span, nodes) for span in spans]


@dataclass
class CompactRange:
    """The right frontier of a tree: one perfect-subtree hash per set bit of ``size``."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; returns the interior nodes (level >= 1) it completed."""
        if len(leaf) != HASH_SIZE:
            raise LedgerError(f"leaf hash must be {HASH_SIZE} bytes")
        completed: list[tuple[NodeId, bytes]] = []
        current, level, index = leaf, 0, self.size
        while (index >> level) & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            completed.append(((level, index >> level), current))
        self.hashes.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """The RFC 9162 root of the tree so far."""
        return fold(self.hashes)

    def ids(self) -> list[NodeId]:
        """The node ids of ``hashes``, left to right."""
        return perfect_subtrees(0, self.size)

    def to_bytes(self) -> bytes:
        """The frontier hashes, concatenated (for storage beside the size)."""
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> CompactRange:
        """Rebuild a compact range from ``to_bytes``; raises ``LedgerError`` when inconsistent."""
        expected = bin(size).count("1") * HASH_SIZE
        if size < 0 or len(blob) != expected:
            raise LedgerError(f"stored frontier holds {len(blob)} bytes, expected {expected} for size {size}")
        hashes = [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]
        return cls(size=size, hashes=hashes)
