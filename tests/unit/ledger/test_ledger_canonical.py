"""The fast canonical JSON gives exactly the bytes of the RFC 8785 reference implementation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piguard.errors import InputError
from piguard.interchange.events import AccessEvent
from piguard.ledger.canonical import canonical_event

text = st.text(min_size=1, max_size=12).map(str.strip).filter(bool)
maybe = st.none() | text


@settings(max_examples=200, deadline=None)
@given(
    ids=st.tuples(text, text, text, text),
    optional=st.tuples(maybe, maybe, maybe, maybe, maybe, maybe),
    fields=st.lists(text, max_size=4),
    count=st.none() | st.integers(min_value=0, max_value=2**53 - 1),
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
    micros=st.integers(min_value=0, max_value=10**6 - 1),
)
def test_fast_path_equals_rfc8785(
    ids: tuple[str, str, str, str],
    optional: tuple[str | None, ...],
    fields: list[str],
    count: int | None,
    offset: int,
    micros: int,
) -> None:
    zone = timezone(timedelta(minutes=offset))
    event = AccessEvent(
        event_id=ids[0],
        user_id=ids[1],
        role=ids[2],
        org_id=ids[3],
        action="read",
        time=datetime(2025, 3, 1, 8, 0, tzinfo=UTC).astimezone(zone) + timedelta(microseconds=micros),
        terminal_id=optional[0],
        subject_id=optional[1],
        purpose=optional[2],
        reason=optional[3],
        query=optional[4],
        resource_id=optional[5],
        fields=tuple(f.replace(";", "") or "x" for f in fields),
        result_count=count,
    )
    assert canonical_event(event) == event.canonical_json()


def test_control_characters_quotes_and_non_bmp_text() -> None:
    event = AccessEvent(
        event_id='e\u0001"\\\u007f\u2028',
        time=datetime(2025, 1, 1, tzinfo=UTC),
        user_id="用户😀",
        role="nurse",
        org_id="o\tx\n",
        action="search",
        query="a\u001fb\bc\fd\re",
    )
    assert canonical_event(event) == event.canonical_json()


def test_integers_beyond_ijson_are_refused_clearly() -> None:
    event = AccessEvent(
        event_id="e1",
        time=datetime(2025, 1, 1, tzinfo=UTC),
        user_id="u",
        role="nurse",
        org_id="o",
        action="export",
        result_count=2**53,
    )
    with pytest.raises(InputError, match="cannot be canonicalised"):
        canonical_event(event)
