"""Records exposed before the first alert, and the part of them no detection can avoid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from piguard.detect.evaluate import _malicious_records, _score_system
from piguard.detect.load import connect, load_event_objects
from piguard.interchange.events import AccessEvent
from piguard.interchange.labels import Label

AT = datetime(2025, 3, 4, 10, tzinfo=UTC)
BASE = {"user_id": "u1", "role": "physician", "org_id": "h1"}


def _broker_events() -> list[AccessEvent]:
    first = tuple(f"s{k:02d}" for k in range(1, 12))  # a first search listing 11 fresh deaths
    later = tuple(f"s{k:02d}" for k in range(12, 16))
    return [
        AccessEvent(event_id="b1", time=AT, action="search", result_count=11, result_subject_ids=first, **BASE),
        AccessEvent(event_id="b2", time=AT + timedelta(minutes=1), action="read", subject_id="s03", **BASE),
        AccessEvent(
            event_id="b3",
            time=AT + timedelta(days=1),
            action="search",
            result_count=4,
            result_subject_ids=later,
            **BASE,
        ),
    ]


def _broker(detected_at: datetime) -> dict[str, object]:
    con = connect()
    load_event_objects(con, _broker_events())
    con.execute("ALTER TABLE events RENAME TO events_all")
    malicious = {"minhang_broker": {"b1", "b2", "b3"}}
    exposure = {
        "listed": _malicious_records(con, malicious),
        "opened": _malicious_records(con, malicious, listed=False),
    }
    labels = [Label(user_id="u1", scenario="minhang_broker", first_malicious_time=AT)]
    result = _score_system({"u1": 5.0, "u2": 0.0}, labels, 1, {"u1": detected_at}, exposure, replay=True)
    broker: dict[str, object] = result["per_scenario"]["minhang_broker"]
    return broker


def test_an_alert_on_the_first_day_still_counts_every_record_the_first_search_listed() -> None:
    broker = _broker(AT + timedelta(hours=14))
    assert broker["malicious_records_before_first_alert"] == 11  # the listing, the opened one among it
    assert broker["malicious_records_opened_before_first_alert"] == 2  # the search as one, and s03
    assert broker["malicious_records_at_first_malicious_event"] == 11


def test_the_first_events_records_stay_the_floor_when_the_alert_comes_later() -> None:
    broker = _broker(AT + timedelta(days=1, hours=14))
    assert broker["malicious_records_before_first_alert"] == 15
    assert broker["malicious_records_at_first_malicious_event"] == 11
