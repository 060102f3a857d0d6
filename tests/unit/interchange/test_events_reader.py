"""The events reader (FORMATS.md §1) on what other systems really send."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from piguard.errors import InterchangeError
from piguard.interchange.events import read_events

GOOD = {
    "event_id": "a1",
    "time": "2025-03-01T08:00:00+08:00",
    "user_id": "u1",
    "role": "nurse",
    "org_id": "h1",
    "action": "read",
}


@pytest.mark.parametrize("time", ["2025-03-01", 1740787200, "1740787200", 1740787200000, "2025-03-01T08:00"])
def test_a_time_that_is_not_rfc3339_with_offset_is_refused(tmp_path: Path, time: object) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "event_id": "a2", "time": time}) + "\n", encoding="utf-8"
    )
    with pytest.raises(InterchangeError) as info:
        list(read_events(path))
    assert info.value.where == f"{path}:2"
    assert "time" in info.value.reason and "RFC 3339" in info.value.reason


@pytest.mark.parametrize(
    "time",
    [
        "2025-03-01T08:00:00Z",
        "2025-03-01t08:00:00z",
        "2025-03-01T08:00:00.123+08:00",
        "2025-03-01 08:00:00+08:00",
        "2025-03-01T08:00:00.123456789-05:30",
        "2025-03-01 08:00:00+08",
    ],
)
def test_rfc3339_times_with_an_offset_are_read(tmp_path: Path, time: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({**GOOD, "time": time}) + "\n", encoding="utf-8")
    (event,) = read_events(path)
    assert event.time.utcoffset() is not None


@pytest.mark.parametrize("name", ["events.jsonl", "events.jsonl.gz", "events.json", "events.csv"])
def test_a_utf8_bom_does_not_hide_the_real_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    rows = [GOOD, {**GOOD, "event_id": "a2", "outcome": "blocked"}]
    if name.startswith("events.jsonl"):
        text = "".join(json.dumps(r) + "\r\n" for r in rows)
    elif name.endswith(".json"):
        text = json.dumps(rows)
    else:
        text = (
            ",".join(GOOD)
            + ",outcome\r\n"
            + "".join(",".join(r.get(k, "") for k in [*GOOD, "outcome"]) + "\r\n" for r in rows)
        )
    data = ("\ufeff" + text).encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(InterchangeError) as info:
        list(read_events(path))
    assert "outcome" in info.value.reason, info.value.reason


def test_csv_list_cells_are_trimmed_and_empty_items_dropped(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,time,user_id,role,org_id,action,fields,result_subject_ids\n"
        "a1,2025-03-01T08:00:00+08:00,u1,nurse,h1,search, relative.phone ;;death.cause;,s1; s2;;\n"
        "a2,2025-03-01T08:00:00+08:00,u1,nurse,h1,read,;,\n",
        encoding="utf-8",
    )
    first, second = read_events(path)
    assert first.fields == ("relative.phone", "death.cause")
    assert first.result_subject_ids == ("s1", "s2")
    assert (second.fields, second.result_subject_ids) == ((), ())


def test_json_list_items_are_trimmed_and_empty_items_dropped(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({**GOOD, "result_subject_ids": [" s1", "", "s2 "]}) + "\n", encoding="utf-8")
    (event,) = read_events(path)
    assert event.result_subject_ids == ("s1", "s2")


@pytest.mark.parametrize("action", ["view", "READ", "Read", "sell", "break-glass"])
def test_an_action_outside_formats_section_1_is_refused_by_name(tmp_path: Path, action: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "event_id": "a2", "action": action}) + "\n", encoding="utf-8"
    )
    with pytest.raises(InterchangeError) as info:
        list(read_events(path))
    assert info.value.where == f"{path}:2"
    assert info.value.reason.startswith("field 'action': ") and action not in info.value.reason


def test_the_services_own_concurrent_session_action_is_read(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from piguard.interchange.events import AccessEvent

    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({**GOOD, "action": " concurrent_session "}) + "\n", encoding="utf-8")
    assert [e.action for e in read_events(path)] == ["concurrent_session"]
    with pytest.raises(ValidationError):  # the ledger cannot be given one either
        AccessEvent.model_validate({**GOOD, "action": "view"})
