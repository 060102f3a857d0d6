"""``piguard audit verify``: recompute the whole tree from the stored leaves and check everything.

Checks, in one pass over the entries and one over the stored nodes: every leaf hash against
its event, gapless indexes, every stored interior node, the head's frontier, and every stored
checkpoint's signature and root. The signed checkpoints are the ground truth: storage can be
rewritten by whoever controls the database, signatures cannot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from piguard.errors import LedgerError
from piguard.ledger import store
from piguard.ledger.checkpoint import Verifier, open_checkpoint
from piguard.ledger.forensics import diagnose
from piguard.ledger.merkle import HASH_SIZE, fold, perfect_subtrees

PAGE = 10_000
MAX_PER_KIND = 20
ROW_KINDS = frozenset({"modified_event", "deleted_event"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its kind, the first entry it concerns (if any) and what was seen."""

    kind: str
    index: int | None
    detail: str


@dataclass
class AuditReport:
    """Outcome of a full verification."""

    tree_size: int = 0
    entries: int = 0
    checkpoints: int = 0
    root: bytes = b""
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True only when nothing at all was found."""
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The finding at the lowest entry index (findings about no entry come last)."""
        if not self.findings:
            return None
        return min(self.findings, key=lambda f: (f.index is None, f.index or 0))

    def add(self, kind: str, index: int | None, detail: str) -> None:
        """Record a finding, keeping at most ``MAX_PER_KIND`` of each kind."""
        if sum(1 for f in self.findings if f.kind == kind) < MAX_PER_KIND:
            self.findings.append(Finding(kind, index, detail))


class _Levels:
    """Every perfect-subtree hash of the recomputed tree, level by level, in flat buffers."""

    def __init__(self, leaves: bytes) -> None:
        self.levels = [leaves]
        while len(self.levels[-1]) >= 2 * HASH_SIZE:
            below = self.levels[-1]
            pairs = len(below) // (2 * HASH_SIZE)
            prefix = b"\x01"
            sha = hashlib.sha256
            self.levels.append(
                b"".join(sha(prefix + below[64 * i : 64 * i + 64]).digest() for i in range(pairs))
            )

    def get(self, level: int, index: int) -> bytes | None:
        if level >= len(self.levels):
            return None
        value = self.levels[level][HASH_SIZE * index : HASH_SIZE * (index + 1)]
        return value if len(value) == HASH_SIZE else None

    def size(self) -> int:
        return len(self.levels[0]) // HASH_SIZE

    def root(self, size: int) -> bytes:
        return fold([self.get(level, idx) or b"" for level, idx in perfect_subtrees(0, size)])


def _entries(session: Session) -> Iterator[tuple[int, bytes, bytes]]:
    table = store.ENTRIES
    last = -1
    while True:
        rows = session.execute(
            select(table.c.idx, table.c.leaf_hash, table.c.data)
            .where(table.c.idx > last)
            .order_by(table.c.idx)
            .limit(PAGE)
        ).all()
        for idx, digest, data in rows:
            yield int(idx), bytes(digest), bytes(data)
        if len(rows) < PAGE:
            return
        last = int(rows[-1][0])


def _nodes(session: Session, level: int) -> Iterator[tuple[int, bytes]]:
    table = store.NODES
    last = -1
    while True:
        rows = session.execute(
            select(table.c.idx, table.c.hash)
            .where(table.c.level == level, table.c.idx > last)
            .order_by(table.c.idx)
            .limit(PAGE)
        ).all()
        for idx, digest in rows:
            yield int(idx), bytes(digest)
        if len(rows) < PAGE:
            return
        last = int(rows[-1][0])


def _check_checkpoints(
    session: Session, verifier: Verifier, report: AuditReport
) -> list[tuple[int, bytes]]:
    trusted: list[tuple[int, bytes]] = []
    for size, root, note in store.all_checkpoints(session):
        report.checkpoints += 1
        try:
            signed = open_checkpoint(note, verifier)
        except LedgerError as exc:
            report.add("bad_checkpoint_signature", None, f"checkpoint of size {size}: {exc}")
            continue
        if signed.tree_size != size or signed.root != root:
            report.add(
                "bad_checkpoint_signature",
                None,
                f"checkpoint row of size {size} does not match the note it stores",
            )
            continue
        trusted.append((signed.tree_size, signed.root))
    return trusted


def _scan_entries(session: Session, report: AuditReport) -> bytes:
    """Recompute every leaf hash; record modified rows and index gaps."""
    leaves = bytearray()
    expected = 0
    sha = hashlib.sha256
    for idx, stored, data in _entries(session):
        if idx > expected:
            report.add("deleted_event", expected, f"entries {expected}..{idx - 1} are missing")
        expected = idx + 1
        digest = sha(b"\x00" + data).digest()
        if digest != stored:
            report.add("modified_event", idx, f"entry {idx} no longer matches its leaf hash")
        leaves += digest
        report.entries += 1
    return bytes(leaves)


def _scan_nodes(
    session: Session, tree: _Levels, report: AuditReport
) -> tuple[list[tuple[int, int]], dict[int, bytes]]:
    """Compare stored interior nodes with the recomputed ones; returns mismatches and level 1."""
    bad: list[tuple[int, int]] = []
    level1: dict[int, bytes] = {}
    levels = session.execute(select(store.NODES.c.level).distinct()).scalars().all()
    for level in sorted(int(v) for v in levels):
        expected_idx = 0
        for idx, digest in _nodes(session, level):
            if level == 1:
                level1[idx] = digest
            for missing in range(expected_idx, idx):
                if tree.get(level, missing) is not None:
                    bad.append((level, missing))
            expected_idx = idx + 1
            if tree.get(level, idx) != digest:
                bad.append((level, idx))
        for missing in range(expected_idx, tree.size() >> level):
            bad.append((level, missing))
    return bad, level1


def verify_ledger(*, session: Session, verifier: Verifier) -> AuditReport:
    """Verify the whole ledger; the report names every kind of tampering found."""
    report = AuditReport()
    try:
        head = store.read_head(session)
    except LedgerError as exc:
        report.add("rewritten_node", None, f"ledger head is corrupt: {exc}")
        head = None
    trusted = _check_checkpoints(session, verifier, report)
    tree = _Levels(_scan_entries(session, report))
    size = tree.size()
    report.root = tree.root(size)
    report.tree_size = head.range.size if head else size
    if head is not None and head.range.size > size:
        report.add(
            "truncated_log", size, f"the head records {head.range.size} entries, {size} are stored"
        )
    if head is not None and head.range.size < size:
        report.add(
            "inserted_event",
            head.range.size,
            f"{size - head.range.size} entries lie beyond the head ({head.range.size} entries)",
        )
    signed_max = max((s for s, _ in trusted), default=0)
    if signed_max > size:
        report.add(
            "truncated_log", size, f"a signed checkpoint covers {signed_max} entries, {size} remain"
        )
    history_ok = all(tree.root(s) == r for s, r in trusted if s <= size)
    if head is not None and head.range.size <= size:
        history_ok = history_ok and tree.root(head.range.size) == head.range.root()
    bad_nodes, level1 = _scan_nodes(session, tree, report)
    if head is not None and head.range.size <= size:
        for (level, idx), digest in zip(head.range.ids(), head.range.hashes, strict=True):
            if tree.get(level, idx) != digest:
                bad_nodes.append((level, idx))
    if any(f.kind in ROW_KINDS for f in report.findings):
        return report  # rows that contradict their own hashes explain every later mismatch
    if history_ok:
        for level, idx in sorted(bad_nodes, key=lambda n: (n[1] << n[0], n[0]))[:MAX_PER_KIND]:
            report.add(
                "rewritten_node",
                idx << level,
                f"stored tree node (level {level}, index {idx}) was altered; "
                "the entries still match every signed checkpoint",
            )
        return report
    _classify(report, tree, level1, bad_nodes, trusted)
    return report


def _classify(
    report: AuditReport,
    tree: _Levels,
    level1: dict[int, bytes],
    bad_nodes: list[tuple[int, int]],
    trusted: list[tuple[int, bytes]],
) -> None:
    leaves = tree.levels[0]
    current = [leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)]
    pairs = sorted(idx for level, idx in bad_nodes if level == 1 and idx in level1)
    if pairs:
        found = diagnose(current, level1.get, pairs)
        report.add(found.kind, found.index, found.detail)
        return
    good = 0
    for size, root in sorted(trusted):
        if size <= tree.size() and tree.root(size) == root:
            good = size
            continue
        report.add(
            "rewritten_history",
            good,
            f"entries between {good} and {size} differ from the signed checkpoint of size {size}",
        )
        return
    report.add("rewritten_history", None, "the stored tree differs from its head")
