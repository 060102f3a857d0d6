"""The entries table's copied columns cannot hide an event, or add one, on SQLite and PostgreSQL.

``user_id``, ``subject_id``, ``time_us`` and ``event_id`` are copied beside each leaf for SQL
selection; the Merkle tree does not cover them. `audit verify` names an edited column, and a
selection (evidence export, a relative's account of accesses) refuses to answer rather than
silently miss or misattribute the entry.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import TamperError
from piguard.interchange.events import AccessEvent
from piguard.ledger import service, store
from piguard.ledger.audit import verify_ledger
from piguard.ledger.merkle import leaf_hash
from tests.unit.ledger.ledger_factories import T0, make_event

SIZE = 60
TARGET = 37  # user u2, subject s37, at T0 + 37 s


@pytest.fixture
def ledger(session: Session, settings: Settings) -> Session:
    """60 events (and a searched-for event naming no subject), checkpoints every 16 entries."""
    from piguard.ledger.keys import ensure_signing_key

    settings = settings.model_copy(update={"checkpoint_every_entries": 16})
    ensure_signing_key(settings)
    service.bind_settings(session, settings)
    events = [make_event(i) for i in range(SIZE)]
    events[12] = events[12].model_copy(update={"subject_id": None, "action": "search", "query": "s37 by name"})
    service.append_many(session=session, events=events)
    return session


def _tamper(session: Session, sql: str, **params: object) -> None:
    session.execute(text(sql), {"i": TARGET, **params})


def _selected(session: Session, **selection: object) -> list[int]:
    return [entry.index for entry in service.iter_entries(session=session, **selection)]  # type: ignore[arg-type]


def _verify(session: Session) -> list[tuple[str, int | None]]:
    verifier = service.log_verifier(service.settings_for(session))
    return [(f.kind, f.index) for f in verify_ledger(session=session, verifier=verifier).findings]


WINDOW = {"time_from": T0 + timedelta(seconds=30), "time_to": T0 + timedelta(seconds=45)}


def test_untouched_selections_match_the_events_exactly(ledger: Session) -> None:
    everything = [(e.index, e.event) for e in service.iter_entries(session=ledger)]
    assert len(everything) == SIZE
    cases: list[dict[str, object]] = [
        {"user_id": "u2"},
        {"subject_id": "s37"},
        {"subject_id": "s37", "or_no_subject": True, **WINDOW},
        {"subject_id": "s37", "or_no_subject": True, "time_from": T0 + timedelta(seconds=10)},
        WINDOW,
        {"time_from": T0 + timedelta(seconds=37), "time_to": T0 + timedelta(seconds=37, microseconds=1)},
        {"user_id": "u2", "subject_id": "s37", **WINDOW},
    ]
    for case in cases:
        expected = [
            index
            for index, event in everything
            if all(
                (
                    case.get("user_id") in (None, event.user_id),
                    case.get("subject_id") in (None, event.subject_id)
                    or (bool(case.get("or_no_subject")) and event.subject_id is None),
                    "time_from" not in case or event.time >= case["time_from"],  # type: ignore[operator]
                    "time_to" not in case or event.time < case["time_to"],  # type: ignore[operator]
                )
            )
        ]
        assert _selected(ledger, **case) == expected, case
    assert _verify(ledger) == []


@pytest.mark.parametrize(
    ("edit", "columns"),
    [
        ("UPDATE ledger_entries SET user_id = 'someone-else' WHERE idx = :i", "user_id"),
        ("UPDATE ledger_entries SET subject_id = NULL WHERE idx = :i", "subject_id"),
        ("UPDATE ledger_entries SET subject_id = 's-other' WHERE idx = :i", "subject_id"),
        ("UPDATE ledger_entries SET time_us = 0 WHERE idx = :i", "time_us"),
        ("UPDATE ledger_entries SET time_us = time_us + 1 WHERE idx = :i", "time_us"),
        ("UPDATE ledger_entries SET event_id = 'x' WHERE idx = :i", "event_id"),
    ],
)
def test_verify_names_an_edited_column(ledger: Session, edit: str, columns: str) -> None:
    _tamper(ledger, edit)
    verifier = service.log_verifier(service.settings_for(ledger))
    report = verify_ledger(session=ledger, verifier=verifier)
    assert [(f.kind, f.index) for f in report.findings] == [("altered_columns", TARGET)]
    assert f"its copied {columns} column" in report.findings[0].detail


@pytest.mark.parametrize(
    ("edit", "selection"),
    [
        # Hidden from the subject's evidence export and from a relative's account of accesses.
        ("UPDATE ledger_entries SET subject_id = 's-other' WHERE idx = :i", {"subject_id": "s37"}),
        ("UPDATE ledger_entries SET subject_id = NULL WHERE idx = :i", {"subject_id": "s37"}),
        (
            "UPDATE ledger_entries SET subject_id = 's-other' WHERE idx = :i",
            {"subject_id": "s37", "or_no_subject": True, "time_from": T0 + timedelta(seconds=30)},
        ),
        # Hidden from the user's export.
        ("UPDATE ledger_entries SET user_id = 'someone-else' WHERE idx = :i", {"user_id": "u2"}),
        # Moved out of the time window, before it and after it, far or by a few milliseconds.
        ("UPDATE ledger_entries SET time_us = 0 WHERE idx = :i", {"subject_id": "s37", **WINDOW}),
        ("UPDATE ledger_entries SET time_us = time_us + 10000000000 WHERE idx = :i", WINDOW),
        (
            "UPDATE ledger_entries SET time_us = time_us - 3000 WHERE idx = :i",
            {"time_from": T0 + timedelta(seconds=37), "time_to": T0 + timedelta(seconds=38)},
        ),
        (
            "UPDATE ledger_entries SET time_us = 0 WHERE idx = :i",
            {"subject_id": "s37", "or_no_subject": True, "time_from": T0 + timedelta(seconds=30)},
        ),
        # Added to someone else's selection.
        ("UPDATE ledger_entries SET subject_id = 's-other' WHERE idx = :i", {"subject_id": "s-other"}),
        ("UPDATE ledger_entries SET user_id = 'u5' WHERE idx = :i", {"user_id": "u5"}),
        # Any column of an entry that is read at all.
        ("UPDATE ledger_entries SET event_id = 'x' WHERE idx = :i", {"subject_id": "s37"}),
    ],
)
def test_a_selection_refuses_an_entry_whose_column_was_edited(
    ledger: Session, edit: str, selection: dict[str, object]
) -> None:
    _tamper(ledger, edit)
    with pytest.raises(TamperError, match=f"entry {TARGET}: the stored .* differ from the event in its leaf"):
        _selected(ledger, **selection)


def test_an_event_with_no_subject_cannot_be_given_one_to_hide_it(ledger: Session) -> None:
    _tamper(ledger, "UPDATE ledger_entries SET subject_id = 's1' WHERE idx = 12")
    with pytest.raises(TamperError, match="entry 12: the stored subject_id"):
        _selected(ledger, subject_id="s37", or_no_subject=True)
    assert ("altered_columns", 12) in _verify(ledger)


def test_reads_by_index_check_the_columns_and_the_leaf_hash(ledger: Session) -> None:
    _tamper(ledger, "UPDATE ledger_entries SET event_id = 'ev-00000099' WHERE idx = :i")
    with pytest.raises(TamperError, match=f"entry {TARGET}: the stored event_id"):
        list(service.entries_at(session=ledger, indexes=[TARGET]))
    _tamper(ledger, "UPDATE ledger_entries SET event_id = 'ev-00000037', leaf_hash = :h WHERE idx = :i", h=bytes(32))
    with pytest.raises(TamperError, match=f"entry {TARGET}: stored event does not match its leaf hash"):
        list(service.entries_at(session=ledger, indexes=[TARGET]))
    with pytest.raises(TamperError, match="does not match its leaf hash"):
        _selected(ledger, subject_id="s37")


def test_a_leaf_that_is_not_canonical_is_decided_exactly(ledger: Session) -> None:
    """An older build's leaf with escapes or member order of its own: the columns still agree."""
    event = make_event(SIZE, subject="s37")
    data = (
        b'{"user_id":"u4","time":"2025-03-01T08:01:00+00:00","subject_id":"\\u0073\\u0033\\u0037",'
        b'"role":"physician","org_id":"org-1","event_id":"ev-00000060","action":"read"}'
    )
    assert AccessEvent.model_validate_json(data).subject_id == event.subject_id
    store.insert_entries(
        ledger,
        [(SIZE, leaf_hash(data), data, event.event_id, service.time_us(event.time), event.user_id, "s37")],
    )
    assert _selected(ledger, subject_id="s37", start=SIZE) == [SIZE]
    assert _selected(ledger, subject_id="s37", start=SIZE, time_from=T0 + timedelta(seconds=50)) == [SIZE]
