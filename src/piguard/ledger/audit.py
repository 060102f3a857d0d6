"""``piguard audit verify``: recompute the whole tree from the stored leaves and check everything.

Checks every leaf hash against its event, each entry's copied selection columns against its
event, gapless indexes, every stored interior node, the head's frontier, and every stored
checkpoint's signature and root. The signed checkpoints are
the ground truth: storage can be rewritten by whoever controls the database, signatures cannot.

One streaming pass: entries are read in keyset pages straight from the driver, hashed, and
folded into aligned chunks of ``2**CHUNK_LEVEL`` leaves. Each complete chunk's subtree is
recomputed level by level in flat buffers and compared with the stored nodes of that range in
one read per level (a byte-string comparison when they agree, which is the normal case); chunk
roots feed a compact range for the levels above. Memory is bounded by a chunk, not by the log.
Only when the stored tree disagrees with the signed history does a second pass load every leaf
hash to name the kind of tampering.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from piguard.errors import LedgerError
from piguard.ledger import columns, store
from piguard.ledger.checkpoint import Verifier
from piguard.ledger.forensics import diagnose
from piguard.ledger.merkle import EMPTY_ROOT, HASH_SIZE, CompactRange, NodeId, fold, perfect_subtrees
from piguard.ledger.rotation import KeyPeriod, chain, open_in_history, periods, stored_rotations

PAGE = 10_000
#: Leaves per chunk: 2**16 (2 MiB of leaf hashes, as much again for the levels above them).
CHUNK_LEVEL = 16
MAX_PER_KIND = 20
ROW_KINDS = frozenset({"modified_event", "deleted_event"})
ALTERED = "was altered"
MISSING = "is missing"
EXTRA = "is stored but is not part of the tree"


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


def _levels(leaves: bytes) -> list[bytes]:
    """Every complete perfect-subtree hash over ``leaves`` (concatenated), level by level."""
    sha = hashlib.sha256
    levels = [leaves]
    below = leaves
    while len(below) >= 2 * HASH_SIZE:
        below = b"".join([sha(b"\x01" + below[i : i + 64]).digest() for i in range(0, len(below) - 63, 64)])
        levels.append(below)
    return levels


def _hash_at(levels: list[bytes], level: int, offset: int) -> bytes:
    return levels[level][HASH_SIZE * offset : HASH_SIZE * (offset + 1)]


class _Recomputed:
    """The tree recomputed from the stored leaves, compared with the stored nodes as it grows.

    ``sizes`` are the tree sizes whose perfect-subtree hashes (and so roots) are wanted: the
    signed checkpoints' and the head's; they are captured as the pass goes by.
    """

    def __init__(self, session: Session, sizes: Iterable[int]) -> None:
        self.session = session
        self.chunk_level = CHUNK_LEVEL  # read at run time: tests use small chunks
        self.chunk = 1 << self.chunk_level
        self.pending = bytearray()
        self.done = 0  # leaves in complete chunks
        self.upper = CompactRange()  # over chunk roots: nodes of level >= chunk_level
        self.upper_nodes: dict[NodeId, bytes] = {}
        self.wanted = sorted(set(sizes))
        self.prefixes: dict[int, list[bytes]] = {0: []} if 0 in self.wanted else {}
        self.bad: list[NodeId] = []
        #: Why each bad node is bad: "was altered", "is missing" or "is stored but not part of the tree".
        self.why: dict[NodeId, str] = {}
        self.size = 0

    def add(self, digests: bytes) -> None:
        """Append leaf hashes (concatenated); full chunks are checked at once."""
        self.pending += digests
        self.size += len(digests) // HASH_SIZE
        whole = HASH_SIZE * self.chunk
        while len(self.pending) >= whole:
            self._chunk(bytes(self.pending[:whole]), last=False)
            del self.pending[:whole]

    def finish(self) -> None:
        """Check the last, partial chunk, the levels above the chunks and stray stored nodes."""
        self.wanted = sorted({*self.wanted, self.size})
        self._chunk(bytes(self.pending), last=True)
        self.pending.clear()
        # Outside levels 1 .. chunk_level - 1 few nodes exist: the chunk roots, the nodes above
        # them (which the chunk roots' compact range completed) and nothing below level 1.
        stored = {
            (lv, idx): bytes(digest) for lv, idx, digest in store.nodes_outside(self.session, 1, self.chunk_level - 1)
        }
        for node, digest in stored.items():
            mine = self.upper_nodes.get(node)
            if mine != digest:
                self._bad(node, ALTERED if mine is not None else EXTRA)
        for node in self.upper_nodes:
            if node not in stored:
                self._bad(node, MISSING)

    def _bad(self, node: NodeId, why: str) -> None:
        self.bad.append(node)
        self.why[node] = why

    def _chunk(self, leaves: bytes, *, last: bool) -> None:
        count = len(leaves) // HASH_SIZE
        first = self.done  # leaf position of this chunk's first leaf (a multiple of self.chunk)
        levels = _levels(leaves)
        for level in range(1, self.chunk_level):
            start = first >> level
            expected = levels[level] if level < len(levels) else b""
            # The last chunk reads open-ended, so stored nodes beyond the tree are caught too.
            end = None if last else start + len(expected) // HASH_SIZE
            self._compare(level, start, expected, store.node_range(self.session, level, start, end))
        if last:
            self._capture(first, first + count, levels)
            return
        self._capture(first, first + count - 1, levels)
        root = levels[self.chunk_level]
        self.upper_nodes[(self.chunk_level, first >> self.chunk_level)] = root
        for (level, idx), digest in self.upper.append(root):
            self.upper_nodes[(level + self.chunk_level, idx)] = digest
        self.done += self.chunk
        if self.done in self.wanted:
            self.prefixes[self.done] = list(self.upper.hashes)

    def _compare(self, level: int, start: int, expected: bytes, rows: list[tuple[int, bytes]]) -> None:
        count = len(expected) // HASH_SIZE
        if (
            len(rows) == count
            and (not rows or (rows[0][0] == start and rows[-1][0] == start + count - 1))
            and b"".join([digest for _, digest in rows]) == expected
        ):
            return
        stored = {int(idx): bytes(digest) for idx, digest in rows}
        for offset in range(count):
            found = stored.pop(start + offset, None)
            if found != expected[HASH_SIZE * offset : HASH_SIZE * (offset + 1)]:
                self._bad((level, start + offset), MISSING if found is None else ALTERED)
        for idx in stored:  # beyond the recomputed tree
            self._bad((level, idx), EXTRA)

    def _capture(self, begin: int, end: int, levels: list[bytes]) -> None:
        """Perfect-subtree hashes of every wanted size in ``(begin, end]``, inside one chunk.

        Below a chunk boundary the decomposition of a size is the compact range of the chunks
        before it followed by perfect subtrees inside the chunk, which never merge with them.
        """
        for size in self.wanted[bisect.bisect_right(self.wanted, begin) : bisect.bisect_right(self.wanted, end)]:
            inner = [_hash_at(levels, lv, idx - (begin >> lv)) for lv, idx in perfect_subtrees(begin, size)]
            self.prefixes[size] = list(self.upper.hashes) + inner

    def root(self, size: int) -> bytes | None:
        """Root of the recomputed tree of ``size`` leaves (a wanted size), or None if beyond it."""
        if size == 0:
            return EMPTY_ROOT
        hashes = self.prefixes.get(size)
        return None if hashes is None else fold(hashes)


def _key_history(
    session: Session, verifier: Verifier, report: AuditReport
) -> tuple[list[KeyPeriod], list[tuple[int, bytes]]]:
    """The keys that sign each size, and the rotation checkpoints (signed trees too)."""
    rotations = stored_rotations(session)
    try:
        history = periods(rotations, verifier)
        links = chain(rotations)
    except LedgerError as exc:
        # Without a sound chain only the trusted key itself vouches for anything.
        report.add("bad_key_rotation", None, str(exc))
        return [KeyPeriod(verifier=verifier, first=0, last=None)], []
    return history, [(link.tree_size, link.root) for link in links]


def _check_checkpoints(
    session: Session, verifier: Verifier, report: AuditReport, recorded: int
) -> list[tuple[int, bytes]]:
    history, trusted = _key_history(session, verifier, report)
    stored = store.all_checkpoints(session)
    if recorded and recorded not in {size for size, _, _ in stored}:
        # The head notes the size of the last checkpoint it made: deleting signed checkpoints
        # (to hide what they commit to) leaves the entries consistent, but not this.
        report.add(
            "deleted_checkpoint", None, f"the head records a signed checkpoint of size {recorded}, which is not stored"
        )
    for size, root, note in stored:
        report.checkpoints += 1
        try:
            signed = open_in_history(note, history)
        except LedgerError as exc:
            report.add("bad_checkpoint_signature", None, f"checkpoint of size {size}: {exc}")
            continue
        if signed.size != size or signed.root != root:
            report.add(
                "bad_checkpoint_signature",
                None,
                f"checkpoint row of size {size} does not match the note it stores",
            )
            continue
        trusted.append((signed.size, signed.root))
    return sorted(set(trusted))


def _scan_entries(session: Session, report: AuditReport, tree: _Recomputed) -> None:
    """Recompute every leaf hash into ``tree``; record modified rows, index gaps and edited columns."""
    sha = hashlib.sha256
    agrees = columns.agrees
    expected = 0
    for rows in store.entry_pages(session, page=PAGE):
        digests = [sha(b"\x00" + row[2]).digest() for row in rows]
        first, last = int(rows[0][0]), int(rows[-1][0])
        clean = (
            first == expected
            and last - first == len(rows) - 1  # unique and ordered, so no gap inside the page
            and b"".join(digests) == b"".join([row[1] for row in rows])
        )
        modified: set[int] = set()
        if not clean:
            for (idx, stored, *_), digest in zip(rows, digests, strict=True):
                if idx > expected:
                    report.add("deleted_event", expected, f"{_span(expected, idx - 1)} missing")
                expected = idx + 1
                if digest != bytes(stored):
                    modified.add(idx)
                    report.add("modified_event", idx, f"entry {idx} no longer matches its leaf hash")
        # The copied columns selections use: a row whose own leaf is intact must agree with it.
        for idx, _, data, *values in [r for r in rows if not agrees(r[2], r[3], r[4], r[5], r[6])]:
            edited = [] if idx in modified else columns.differing(data, *values)
            if edited:
                report.add(
                    "altered_columns",
                    idx,
                    f"entry {idx}: its copied {', '.join(edited)} column(s) differ from the event in its leaf "
                    "(selections by them would miss the entry or attribute it to someone else)",
                )
        expected = last + 1
        report.entries += len(rows)
        tree.add(b"".join(digests))
    tree.finish()


def _all_leaves(session: Session) -> list[bytes]:
    """Every stored leaf hash in index order (only for naming the kind of tampering)."""
    return [bytes(digest) for rows in store.leaf_hash_pages(session) for _, digest in rows]


def _level1(session: Session) -> dict[int, bytes]:
    return {int(idx): bytes(digest) for idx, digest in store.node_range(session, 1, 0, None)}


def _span(first: int, last: int) -> str:
    return f"entry {first} is" if first == last else f"entries {first}..{last} are"


def _read_head(session: Session, report: AuditReport) -> store.Head | None:
    """The head row, or None (and a finding) if it is missing while entries exist, or unreadable."""
    try:
        return store.read_head(session)
    except store.MissingHeadError as exc:
        # Not the store's own advice ("run 'piguard audit verify'"): this is that run.
        report.add(
            "deleted_head",
            None,
            f"the ledger head row is missing, but {exc.entries} entries and {exc.signed} signed checkpoints are "
            "stored: appends are refused until it is back; restore the ledger_head row (or the database) from "
            "a backup, then run this check again",
        )
    except LedgerError as exc:
        report.add("corrupt_head", None, f"ledger head is corrupt: {exc}")
    return None


def _frontier_mismatches(head: store.Head, tree: _Recomputed) -> list[NodeId]:
    """The head's frontier hashes that differ from the tree recomputed from the stored entries."""
    recomputed = tree.prefixes.get(head.range.size, [])
    return [
        node
        for node, digest, mine in zip(head.range.ids(), head.range.hashes, recomputed, strict=True)
        if digest != mine
    ]


def verify_ledger(*, session: Session, verifier: Verifier) -> AuditReport:
    """Verify the whole ledger; the report names every kind of tampering found."""
    report = AuditReport()
    head = _read_head(session, report)
    trusted = _check_checkpoints(session, verifier, report, head.checkpoint_size if head else 0)
    sizes = [s for s, _ in trusted] + ([head.range.size] if head else [])
    tree = _Recomputed(session, sizes)
    _scan_entries(session, report, tree)
    size = tree.size
    head_size = head.range.size if head else size
    report.root = tree.root(size) or EMPTY_ROOT
    report.tree_size = head_size
    if head_size > size:
        report.add("truncated_log", size, f"the head records {head_size} entries, {size} are stored")
    if head_size < size:
        report.add(
            "inserted_event",
            head_size,
            f"{_span(head_size, size - 1)} stored beyond the head ({head_size} entries): not part of the tree",
        )
    signed_max = max((s for s, _ in trusted), default=0)
    if signed_max > size:
        report.add("truncated_log", size, f"a signed checkpoint covers {signed_max} entries, {size} remain")
    history_ok = all(tree.root(s) == r for s, r in trusted if s <= size)
    # Stored nodes over entries that are missing, or over entries beyond the head, are not a
    # rewrite of the tree that is left: the truncation or the extra entries are the finding.
    bad_nodes = list(tree.bad)
    if size < max(signed_max, head_size):
        bad_nodes = [(level, idx) for level, idx in bad_nodes if level < 0 or (idx + 1) << level <= size]
    elif size > head_size:  # nodes over the extra entries were never stored: not missing ones
        bad_nodes = [n for n in bad_nodes if tree.why[n] != MISSING or (n[1] + 1) << n[0] <= head_size]
    frontier = _frontier_mismatches(head, tree) if head is not None and head_size <= size else []
    if frontier and history_ok and not bad_nodes:
        # The entries, the stored nodes and every signed checkpoint agree: only the head is wrong.
        for level, idx in frontier:
            report.add(
                "corrupt_head",
                None,
                f"the head's frontier hash for tree node (level {level}, index {idx}) differs from the tree "
                "recomputed from the stored entries, which match every stored node and signed checkpoint",
            )
        frontier = []
    bad_nodes.extend(frontier)
    history_ok = history_ok and not frontier
    if any(f.kind in ROW_KINDS for f in report.findings):
        return report  # rows that contradict their own hashes explain every later mismatch
    if history_ok:
        for level, idx in sorted(set(bad_nodes), key=lambda n: (_first_leaf(n), n[0]))[:MAX_PER_KIND]:
            first = _first_leaf((level, idx))
            if first < size:
                report.add(
                    "rewritten_node",
                    first,
                    f"stored tree node (level {level}, index {idx}) {tree.why.get((level, idx), ALTERED)}; "
                    "the entries still match every signed checkpoint",
                )
            else:  # a stray row over entries that do not exist: name the node, not an entry
                report.add(
                    "rewritten_node",
                    None,
                    f"stored tree node (level {level}, index {idx}) {EXTRA}: it would cover entries from {first}, "
                    f"beyond the {size} entries of the log; the entries still match every signed checkpoint",
                )
        return report
    _classify(report, _all_leaves(session), _level1(session), bad_nodes, trusted, tree)
    return report


def _first_leaf(node: NodeId) -> int:
    """The first leaf a node covers (a stray row may carry a level below zero)."""
    level, idx = node
    return idx << level if level >= 0 else idx


def _classify(
    report: AuditReport,
    current: list[bytes],
    level1: dict[int, bytes],
    bad_nodes: list[NodeId],
    trusted: list[tuple[int, bytes]],
    tree: _Recomputed,
) -> None:
    pairs = sorted({idx for level, idx in bad_nodes if level == 1 and idx in level1})
    if pairs:
        found = diagnose(current, level1.get, pairs)
        report.add(found.kind, found.index, found.detail)
        return
    good = 0
    for size, root in sorted(trusted):
        if size <= tree.size and tree.root(size) == root:
            good = size
            continue
        report.add(
            "rewritten_history",
            good,
            f"entries between {good} and {size} differ from the signed checkpoint of size {size}",
        )
        return
    report.add("rewritten_history", None, "the stored tree differs from its head")
