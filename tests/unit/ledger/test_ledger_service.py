"""The ledger service on real SQLite and PostgreSQL: appends, proofs, checkpoints, reads."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import ProofError, SignatureError
from piguard.ledger import service, store
from piguard.ledger.checkpoint import open_checkpoint, parse_vkey
from piguard.ledger.keys import ensure_signing_key
from piguard.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from tests.unit.ledger.ledger_factories import T0, make_event


@pytest.fixture
def keyed(session: Session, settings: Settings) -> Session:
    """A session whose settings carry a fresh signing key and a 10-entry checkpoint cadence."""
    settings = settings.model_copy(update={"checkpoint_every_entries": 10})
    assert ensure_signing_key(settings)
    return service.bind_settings(session, settings)


def test_append_returns_gapless_indexes_and_canonical_leaf(session: Session) -> None:
    receipts = [service.append(session=session, event=make_event(i)) for i in range(5)]
    assert [r.index for r in receipts] == [0, 1, 2, 3, 4]
    assert receipts[3].leaf_hash == leaf_hash(make_event(3).canonical_json())
    assert service.count(session=session) == 5
    more = service.append_many(session=session, events=[make_event(i) for i in range(5, 9)])
    assert [r.index for r in more] == [5, 6, 7, 8]
    assert [e.event_id for e in service.iter_events(session=session)] == [make_event(i).event_id for i in range(9)]


def test_proofs_from_storage_verify_against_stored_roots(session: Session) -> None:
    service.append_many(session=session, events=[make_event(i) for i in range(37)])
    root37 = service.root(session=session)
    for size in (1, 2, 7, 16, 33, 37):
        root = service.root(session=session, size=size)
        for index in {0, size // 2, size - 1}:
            proof = service.inclusion_proof(session=session, index=index, size=size)
            digest = leaf_hash(make_event(index).canonical_json())
            verify_inclusion(leaf_hash=digest, index=index, size=size, proof=proof, root=root)
        proof = service.consistency_proof(session=session, size1=size, size2=37)
        verify_consistency(size1=size, size2=37, proof=proof, root1=root, root2=root37)
    with pytest.raises(ProofError, match="larger than the ledger"):
        service.inclusion_proof(session=session, index=0, size=38)
    with pytest.raises(ProofError):
        service.inclusion_proof(session=session, index=37, size=37)


@pytest.mark.parametrize("bad", [-1, 38, 2.5, True])
def test_impossible_sizes_and_indexes_are_proof_errors(session: Session, bad: object) -> None:
    service.append_many(session=session, events=[make_event(i) for i in range(37)])
    with pytest.raises(ProofError):
        service.root(session=session, size=bad)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        service.inclusion_proof(session=session, index=bad, size=37)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        service.consistency_proof(session=session, size1=bad, size2=37)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        service.read_leaf_hash(session=session, index=bad)  # type: ignore[arg-type]


def test_checkpoints_are_made_every_n_entries_and_signed(keyed: Session) -> None:
    settings = service.settings_for(keyed)
    service.append_many(session=keyed, events=[make_event(i) for i in range(3)])
    first = service.latest_checkpoint(session=keyed)
    assert first is not None  # the first append after an empty history is always due
    for i in range(3, 25):
        service.append(session=keyed, event=make_event(i))
    latest = service.latest_checkpoint(session=keyed)
    assert latest is not None
    assert latest.tree_size == 23  # 3, then every 10 more
    assert latest.root == service.root(session=keyed, size=23)
    verifier = service.log_verifier(settings)
    assert parse_vkey(verifier.vkey()) == verifier
    open_checkpoint(latest.note, verifier)
    on_demand = service.checkpoint(session=keyed)
    assert on_demand.tree_size == 25
    assert on_demand.root == service.root(session=keyed)
    assert service.checkpoint(session=keyed).note == on_demand.note
    tampered = on_demand.note.replace("\n25\n", "\n24\n")
    with pytest.raises(SignatureError):
        open_checkpoint(tampered, verifier)


def test_signing_key_file_is_private(settings: Settings) -> None:
    assert ensure_signing_key(settings)
    assert not ensure_signing_key(settings)
    assert os.stat(settings.ledger_key_path()).st_mode & 0o777 == 0o600


def test_iter_events_selects_by_user_subject_and_time(session: Session) -> None:
    service.append_many(
        session=session,
        events=[make_event(i, user="alice" if i % 2 else "bob") for i in range(20)],
    )
    alice = list(service.iter_events(session=session, user_id="alice"))
    assert len(alice) == 10
    assert all(e.user_id == "alice" for e in alice)
    assert [e.subject_id for e in service.iter_events(session=session, subject_id="s3")] == ["s3"]
    window = list(
        service.iter_events(session=session, time_from=T0 + timedelta(seconds=5), time_to=T0 + timedelta(seconds=8))
    )
    assert [e.event_id for e in window] == ["ev-00000005", "ev-00000006", "ev-00000007"]
    assert [e.index for e in service.iter_entries(session=session, batch=3)] == list(range(20))


def test_batched_proofs_and_entries_read_from_storage(session: Session) -> None:
    service.append_many(session=session, events=[make_event(i) for i in range(600)])
    indexes = [0, 1, 2, 255, 256, 257, 511, 598, 599]
    for size in (600, 513, 300):
        wanted = [i for i in indexes if i < size]
        proofs = service.inclusion_proofs(session=session, indexes=wanted, size=size)
        assert proofs == [service.inclusion_proof(session=session, index=i, size=size) for i in wanted]
    # More nodes than one IN list holds: every leaf's proof at once.
    everything = service.inclusion_proofs(session=session, indexes=range(600), size=600)
    root = service.root(session=session)
    for index in (0, 333, 599):
        verify_inclusion(
            leaf_hash=leaf_hash(make_event(index).canonical_json()),
            index=index,
            size=600,
            proof=everything[index],
            root=root,
        )
    entries = list(service.entries_at(session=session, indexes=[599, 3, 3, 700, 42], batch=2))
    assert [(e.index, e.event.event_id) for e in entries] == [
        (3, "ev-00000003"),
        (42, "ev-00000042"),
        (599, "ev-00000599"),
    ]
    assert entries[0].leaf_hash == leaf_hash(entries[0].data)
    with pytest.raises(ProofError, match="larger than the ledger"):
        service.inclusion_proofs(session=session, indexes=[0], size=601)


def test_checkpoints_are_also_made_every_t_seconds(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"checkpoint_every_entries": 1000, "checkpoint_every_seconds": 60})
    ensure_signing_key(settings)
    service.bind_settings(session, settings)
    clock = [T0]
    monkeypatch.setattr(service, "utcnow", lambda: clock[0])
    service.append_many(session=session, events=[make_event(i) for i in range(3)])
    assert [s for s, _, _ in store.all_checkpoints(session)] == [3]  # the first append is always due
    clock[0] = T0 + timedelta(seconds=59)
    service.append(session=session, event=make_event(3))
    assert [s for s, _, _ in store.all_checkpoints(session)] == [3]
    clock[0] = T0 + timedelta(seconds=61)
    service.append(session=session, event=make_event(4))
    assert [s for s, _, _ in store.all_checkpoints(session)] == [3, 5]
    clock[0] = T0 + timedelta(seconds=200)
    service.append_many(session=session, events=[])  # nothing appended: nothing to sign
    assert [s for s, _, _ in store.all_checkpoints(session)] == [3, 5]


def test_appends_go_on_without_a_key_and_say_so(
    session: Session, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    service.bind_settings(session, settings)  # no 'piguard init': no signing key
    with caplog.at_level("WARNING", logger="piguard.ledger"):
        receipt = service.append(session=session, event=make_event(0))
    assert receipt.index == 0
    assert store.all_checkpoints(session) == []
    assert "checkpoint skipped" in caplog.text
    assert "piguard init" in caplog.text
