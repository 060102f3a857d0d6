"""The copied columns' check: sound (never says "equal" when a column differs from its leaf), exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from piguard.interchange.events import AccessEvent
from piguard.ledger import columns
from piguard.ledger.canonical import canonical_event
from piguard.ledger.store import to_us

text = st.text(min_size=1, max_size=12).map(str.strip).filter(bool)
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _event(event_id: str, user: str, subject: str | None, query: str | None, offset: int, micros: int) -> AccessEvent:
    zone = timezone(timedelta(minutes=offset))
    return AccessEvent(
        event_id=event_id,
        time=(T0 + timedelta(microseconds=micros)).astimezone(zone),
        user_id=user,
        role="physician",
        org_id="org-1",
        action="search" if query else "read",
        subject_id=subject,
        query=query,
        result_subject_ids=(subject,) if subject and query else (),
    )


@settings(max_examples=300, deadline=None)
@given(
    ids=st.tuples(text, text),
    subject=st.none() | text,
    query=st.none() | text,
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
    micros=st.integers(min_value=0, max_value=10**12),
    other=st.tuples(text, text, st.none() | text, st.integers(min_value=-(10**9), max_value=10**9)),
)
def test_columns_of_a_canonical_leaf_agree_and_any_other_value_is_named(
    ids: tuple[str, str],
    subject: str | None,
    query: str | None,
    offset: int,
    micros: int,
    other: tuple[str, str, str | None, int],
) -> None:
    event = _event(ids[0], ids[1], subject, query, offset, micros)
    data = canonical_event(event)
    stored = (event.event_id, to_us(event.time), event.user_id, event.subject_id)
    assert columns.agrees(data, *stored)
    assert columns.differing(data, *stored) == []
    # Each column replaced by another value (a search text holding the same words included).
    changed = (other[0], stored[1] + other[3], other[1], other[2])
    for position, name in enumerate(columns.COLUMNS):
        edited = list(stored)
        edited[position] = changed[position]
        if edited[position] == stored[position]:
            continue
        assert not columns.agrees(data, *edited), name
        assert columns.differing(data, *edited) == [name]


def test_a_search_text_that_quotes_another_user_does_not_pass_for_the_column() -> None:
    event = _event("ev-1", "u1", None, '"user_id":"u2"} "subject_id":"s9"', 0, 0)
    data = canonical_event(event)
    assert columns.differing(data, "ev-1", to_us(T0), "u2", None) == ["user_id"]
    assert columns.differing(data, "ev-1", to_us(T0), "u1", "s9") == ["subject_id"]


def test_values_that_are_not_strings_or_leaves_that_are_not_json_never_agree() -> None:
    data = canonical_event(_event("ev-1", "u1", "s1", None, 0, 0))
    assert columns.differing(data, "ev-1", to_us(T0), 5, "s1") == ["user_id"]
    assert columns.differing(data, "ev-1", str(to_us(T0)), "u1", "s1") == ["time_us"]
    assert columns.differing(b"not json", "ev-1", to_us(T0), "u1", "s1") == list(columns.COLUMNS)


def test_a_leaf_in_another_member_order_is_decided_exactly() -> None:
    data = b'{"user_id":"u1","time":"2025-03-01T08:00:00+08:00","subject_id":"s\\u0031","event_id":"ev-1"}'
    assert not columns.agrees(data, "ev-1", to_us(T0), "u1", "s1")
    assert columns.differing(data, "ev-1", to_us(T0), "u1", "s1") == []
    assert columns.differing(data, "ev-1", to_us(T0) + 1, "u1", "s1") == ["time_us"]
