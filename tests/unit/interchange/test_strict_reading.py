"""What a reader must refuse rather than guess: wrong JSON types, repeated keys, and where a bad record starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piguard.errors import InterchangeError
from piguard.interchange import read_complaints, read_context, read_events
from piguard.interchange.fhir import read_fhir_bundle

HEADER = "event_id,time,user_id,role,org_id,action,resource_type,resource_id,query,result_count,subject_id"
GOOD = {
    "event_id": "e1",
    "time": "2025-03-01T08:15:00+08:00",
    "user_id": "u1",
    "role": "physician",
    "org_id": "h1",
    "action": "search",
}


def _jsonl(path: Path, *rows: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def _refusal(path: Path) -> InterchangeError:
    with pytest.raises(InterchangeError) as info:
        list(read_events(path))
    return info.value


def test_a_bad_multiline_csv_record_is_named_at_the_line_it_starts(tmp_path: Path) -> None:
    # The query cell spans lines 2-4; the record's user_id is empty: line 2 is where to look.
    path = tmp_path / "x.csv"
    path.write_text(
        f'{HEADER}\ne1,2025-03-01T08:15:00+08:00,,physician,o,search,,,"l1\nl2\nl3",1,s1\n', encoding="utf-8"
    )
    error = _refusal(path)
    assert error.where == f"{path}:2"
    assert "user_id" in error.reason


def test_records_after_a_multiline_record_keep_their_own_line(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    good = 'e1,2025-03-01T08:15:00+08:00,u1,physician,o,search,,,"l1\nl2",1,s1'
    bad = "e2,2025-03-01T08:15:00+08:00,u1,physician,o,search,,,q,many,s1"
    path.write_text(f"{HEADER}\n{good}\n{bad}\n", encoding="utf-8")
    error = _refusal(path)
    assert error.where == f"{path}:4"
    assert "result_count" in error.reason


@pytest.mark.parametrize("name", ["events.jsonl", "events.json"])
@pytest.mark.parametrize("count", [True, False])
def test_a_json_boolean_is_no_result_count(tmp_path: Path, name: str, count: bool) -> None:
    rows = [GOOD, {**GOOD, "event_id": "e2", "result_count": count}]
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(rows), encoding="utf-8")
    else:
        _jsonl(path, *rows)
    error = _refusal(path)
    assert error.where == (f"{path}:2" if name.endswith(".jsonl") else f"{path}[1]")
    assert "result_count" in error.reason and "integer" in error.reason


@pytest.mark.parametrize("field", ["fields", "result_subject_ids"])
@pytest.mark.parametrize("items", [[1, 2], ["a", 2], ["a", True], ["a", None], ["a", 1.5]])
def test_list_items_must_be_strings(tmp_path: Path, field: str, items: list[object]) -> None:
    path = _jsonl(tmp_path / "events.jsonl", GOOD, {**GOOD, "event_id": "e2", field: items})
    error = _refusal(path)
    assert error.where == f"{path}:2"
    assert field in error.reason and "string" in error.reason


def test_right_json_types_are_still_read(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "events.jsonl",
        {**GOOD, "result_count": 2, "fields": ["death.cause"], "result_subject_ids": ["s1", "s2"]},
        {**GOOD, "event_id": "e2", "result_count": "3", "fields": "a;b"},
    )
    first, second = read_events(path)
    assert (first.result_count, first.fields, first.result_subject_ids) == (2, ("death.cause",), ("s1", "s2"))
    assert (second.result_count, second.fields) == (3, ("a", "b"))


def test_a_repeated_key_in_a_jsonl_event_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    first = json.dumps(GOOD)
    path.write_text(first + "\n" + first[:-1] + ', "user_id": "u2"}\n', encoding="utf-8")
    error = _refusal(path)
    assert error.where == f"{path}:2"
    assert "user_id" in error.reason and "more than once" in error.reason


def test_a_repeated_key_in_a_json_array_names_the_element(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    one = json.dumps(GOOD)
    path.write_text(f'[\n{one},\n{one[:-1]}, "user_id": "u2"}}\n]', encoding="utf-8")
    error = _refusal(path)
    assert error.where == f"{path}[1]"
    assert "user_id" in error.reason


def test_a_repeated_key_in_a_nested_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(GOOD)[:-1] + ', "extra": {"a": 1, "a": 2}}\n', encoding="utf-8")
    error = _refusal(path)
    assert error.where == f"{path}:1" and "'a'" in error.reason


def test_a_repeated_key_in_a_context_table_is_refused(tmp_path: Path) -> None:
    user = '{"user_id": "u1", "role": "nurse", "org_id": "h1", "district": "d", "active_from": "2025-03-01T08:00:00Z"'
    (tmp_path / "users.jsonl").write_text(f'{user}}}\n{user}, "org_id": "h2"}}\n', encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        read_context(tmp_path)
    assert info.value.where == f"{tmp_path / 'users.jsonl'}:2"
    assert "org_id" in info.value.reason


def test_a_repeated_key_in_complaints_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "complaints.json"
    path.write_text('[{"subject_id": "s1", "subject_id": "s2", "call_time": "2025-03-01T08:00:00Z"}]', encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        list(read_complaints(path))
    assert info.value.where == f"{path}[0]"
    assert "subject_id" in info.value.reason


def test_a_repeated_key_in_a_fhir_bundle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.fhir.json"
    event = '{"resourceType": "AuditEvent", "recorded": "2025-03-01T08:00:00Z", "recorded": "2025-03-02T08:00:00Z"}'
    path.write_text(f'{{"resourceType": "Bundle", "entry": [{{"resource": {event}}}]}}', encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        list(read_fhir_bundle(path))
    assert info.value.where == str(path) and "'recorded'" in info.value.reason
