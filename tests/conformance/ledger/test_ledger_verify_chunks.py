"""`audit verify` streams the tree in aligned chunks: every chunk size and tree size must agree.

The default chunk (2**16 leaves) is larger than any test ledger, so these tests shrink it to
1, 2 and 3 levels: then complete chunks, the compact range above them and the partial last
chunk are all exercised, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.ledger import audit, service, store
from piguard.ledger.audit import AuditReport, verify_ledger
from piguard.ledger.keys import ensure_signing_key
from tests.unit.ledger.ledger_factories import make_event

CHUNK_LEVELS = (1, 2, 3, 16)


@pytest.fixture
def keyed(session: Session, settings: Settings) -> Session:
    """A session whose settings carry a signing key; a checkpoint every 4 entries."""
    settings = settings.model_copy(update={"checkpoint_every_entries": 4})
    ensure_signing_key(settings)
    return service.bind_settings(session, settings)


def _fill(session: Session, size: int) -> None:
    for start in range(0, size, 3):  # checkpoints land at sizes that are not chunk-aligned
        service.append_many(session=session, events=[make_event(i) for i in range(start, min(start + 3, size))])


def _verify(session: Session) -> AuditReport:
    return verify_ledger(session=session, verifier=service.log_verifier(service.settings_for(session)))


@pytest.mark.parametrize("chunk_level", CHUNK_LEVELS)
@pytest.mark.parametrize("size", [0, 1, 3, 8, 17, 33])
def test_untouched_ledger_verifies_for_every_chunk_size(
    keyed: Session, monkeypatch: pytest.MonkeyPatch, chunk_level: int, size: int
) -> None:
    monkeypatch.setattr(audit, "CHUNK_LEVEL", chunk_level)
    _fill(keyed, size)
    report = _verify(keyed)
    assert report.ok, report.findings
    assert (report.entries, report.tree_size) == (size, size)
    assert report.root == service.root(session=keyed)
    assert report.checkpoints == len(store.all_checkpoints(keyed)) > (0 if size else -1)


def _nodes(session: Session) -> list[tuple[int, int, bytes]]:
    rows = session.execute(text("SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx"))
    return [(int(level), int(idx), bytes(digest)) for level, idx, digest in rows]


@pytest.mark.parametrize("chunk_level", CHUNK_LEVELS[:3])
def test_every_rewritten_or_removed_node_is_named(
    keyed: Session, monkeypatch: pytest.MonkeyPatch, chunk_level: int
) -> None:
    monkeypatch.setattr(audit, "CHUNK_LEVEL", chunk_level)
    _fill(keyed, 21)
    nodes = _nodes(keyed)
    assert {level for level, _, _ in nodes} == {1, 2, 3, 4}
    for level, idx, digest in nodes:
        where = {"l": level, "i": idx}
        keyed.execute(
            text("UPDATE ledger_nodes SET hash = :h WHERE level = :l AND idx = :i"), {**where, "h": bytes(32)}
        )
        report = _verify(keyed)
        assert [(f.kind, f.index) for f in report.findings] == [("rewritten_node", idx << level)], (level, idx)
        assert f"level {level}, index {idx}" in report.findings[0].detail
        keyed.execute(text("DELETE FROM ledger_nodes WHERE level = :l AND idx = :i"), where)
        report = _verify(keyed)
        assert [(f.kind, f.index) for f in report.findings] == [("rewritten_node", idx << level)], (level, idx)
        keyed.execute(text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :i, :h)"), {**where, "h": digest})
    assert _verify(keyed).ok


@pytest.mark.parametrize("chunk_level", CHUNK_LEVELS)
@pytest.mark.parametrize(("level", "idx"), [(1, 10), (1, 500), (2, 5), (3, 3), (5, 0), (40, 0), (0, 3), (-1, 0)])
def test_stray_nodes_beyond_the_tree_are_named(
    keyed: Session, monkeypatch: pytest.MonkeyPatch, chunk_level: int, level: int, idx: int
) -> None:
    monkeypatch.setattr(audit, "CHUNK_LEVEL", chunk_level)
    _fill(keyed, 20)  # complete nodes: level 1 up to 9, level 2 up to 4, level 3 up to 1, level 4: 0
    keyed.execute(
        text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :i, :h)"), {"l": level, "i": idx, "h": bytes(32)}
    )
    report = _verify(keyed)
    assert [f.kind for f in report.findings] == ["rewritten_node"]
    assert f"level {level}, index {idx}" in report.findings[0].detail


@pytest.mark.parametrize("chunk_level", CHUNK_LEVELS[:3])
def test_rows_modified_in_any_chunk_are_named(
    keyed: Session, monkeypatch: pytest.MonkeyPatch, chunk_level: int
) -> None:
    monkeypatch.setattr(audit, "CHUNK_LEVEL", chunk_level)
    monkeypatch.setattr(audit, "PAGE", 5)  # pages that straddle chunks
    _fill(keyed, 23)
    keyed.execute(text("UPDATE ledger_entries SET data = :d WHERE idx IN (4, 17)"), {"d": b"{}"})
    keyed.execute(text("DELETE FROM ledger_entries WHERE idx IN (9, 10)"))
    report = _verify(keyed)
    assert [(f.kind, f.index) for f in report.findings] == [
        ("modified_event", 4),
        ("deleted_event", 9),
        ("modified_event", 17),
        ("truncated_log", 21),
    ]
    assert report.entries == 21
