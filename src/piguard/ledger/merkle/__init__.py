"""Pure RFC 9162 Merkle tree core: hashing, compact ranges, proofs and their verification.

No database, no framework: storage supplies node hashes through a ``NodeReader``.
"""

from piguard.ledger.merkle.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from piguard.ledger.merkle.tree import (
    CompactRange,
    NodeId,
    NodeReader,
    consistency_proof,
    consistency_spans,
    fold,
    inclusion_proof,
    inclusion_proofs,
    inclusion_spans,
    nodes_for,
    perfect_subtrees,
    root_at,
)
from piguard.ledger.merkle.verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "NodeId",
    "NodeReader",
    "consistency_proof",
    "consistency_spans",
    "fold",
    "inclusion_proof",
    "inclusion_proofs",
    "inclusion_spans",
    "leaf_hash",
    "node_hash",
    "nodes_for",
    "perfect_subtrees",
    "root_at",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
