"""Context tables (FORMATS §2), labels (§3) and complaints (§4): round trips and clear errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from piguard.errors import InterchangeError
from piguard.interchange import (
    Complaint,
    ContextTables,
    Label,
    MaliciousEvent,
    OrgRow,
    RelationshipRow,
    ShiftRow,
    SubjectRow,
    UserRow,
    iter_table,
    read_complaints,
    read_context,
    read_labels,
    read_malicious_events,
    write_complaints,
    write_context,
    write_labels,
    write_malicious_events,
    write_table,
)

TZ = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 1, 8, 15, tzinfo=TZ)


def _tables() -> ContextTables:
    return ContextTables(
        users=(
            UserRow(
                user_id="u1",
                role="physician",
                org_id="h1",
                district="310112",
                home_compound="310112-春华苑",
                surname="王",
                active_from=T0,
                active_to=T0 + timedelta(days=9),
            ),
            UserRow(user_id="u1", role="physician", org_id="h2", district="310104", active_from=T0 + timedelta(days=9)),
        ),
        orgs=(OrgRow(org_id="h1", org_type="hospital", district="310112", name="闵行区中心医院"),),
        subjects=(
            SubjectRow(subject_id="s1", death_time=T0, district="310112", surname="李"),
            SubjectRow(subject_id="s2", district="310104", is_canary=True),
        ),
        relationships=(RelationshipRow(user_id="u1", subject_id="s1", kind="certifier", valid_from=T0),),
        shifts=(ShiftRow(user_id="u1", start=T0, end=T0 + timedelta(hours=9)),),
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "csv.gz"])
def test_context_round_trip(tmp_path: Path, fmt: str) -> None:
    tables = _tables()
    counts = write_context(tmp_path, tables, fmt=fmt)
    assert counts == {"users": 2, "orgs": 1, "subjects": 2, "relationships": 1, "shifts": 1}
    back = read_context(tmp_path)
    assert back.users == tables.users
    assert back.orgs == tables.orgs
    assert back.subjects == tables.subjects
    assert back.subjects[1].death_time is None and back.subjects[1].is_canary is True
    assert back.relationships == tables.relationships
    assert back.shifts == tables.shifts
    assert back.present == frozenset({"users", "orgs", "subjects", "relationships", "shifts"})


def test_only_users_is_required(tmp_path: Path) -> None:
    write_context(tmp_path, ContextTables(users=_tables().users))
    back = read_context(tmp_path)
    assert back.present == frozenset({"users"})
    assert back.subjects == ()
    assert list(iter_table(tmp_path, "shifts")) == []


def test_missing_users_table_is_named(tmp_path: Path) -> None:
    (tmp_path / "orgs.csv").write_text("org_id,org_type,district,name\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="users table is required"):
        read_context(tmp_path)


def test_time_without_offset_names_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text(
        "user_id,role,org_id,district,active_from\n"
        "u1,nurse,h1,310112,2025-03-01T08:00:00+08:00\n"
        "u2,nurse,h1,310112,2025-03-01T08:00:00\n",
        encoding="utf-8",
    )
    with pytest.raises(InterchangeError) as info:
        read_context(tmp_path)
    assert info.value.where == f"{tmp_path / 'users.csv'}:3"
    assert "active_from" in info.value.reason


def test_unknown_org_type_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("user_id,role,org_id,district,active_from\n", encoding="utf-8")
    (tmp_path / "orgs.csv").write_text("org_id,org_type,district,name\nh1,bank,310112,X\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="org_type") as info:
        read_context(tmp_path)
    assert info.value.where is not None and info.value.where.endswith("orgs.csv:2")


def test_table_in_two_formats_is_ambiguous(tmp_path: Path) -> None:
    write_context(tmp_path, ContextTables(users=_tables().users), fmt="csv")
    # Written beside it by hand: write_context itself refuses a directory that holds tables.
    write_table(tmp_path / "users.parquet", _tables().users, table="users")
    with pytest.raises(InterchangeError, match=r"more than one file \(users\.csv, users\.parquet\)"):
        read_context(tmp_path)


def test_table_file_extensions_are_read_in_any_case(tmp_path: Path) -> None:
    write_context(tmp_path, ContextTables(users=_tables().users), fmt="csv")
    (tmp_path / "users.csv").rename(tmp_path / "users.CSV")
    assert read_context(tmp_path).users == _tables().users


def test_labels_malicious_and_complaints_round_trip(tmp_path: Path) -> None:
    labels = [Label(user_id="u1", scenario="minhang_broker", first_malicious_time=T0)]
    events = [MaliciousEvent(event_id="e1", scenario="minhang_broker")]
    complaints = [
        Complaint(subject_id="s1", call_time=T0, caller="02112345678"),
        Complaint(subject_id="s2", call_time=T0, handle="17000000001"),
    ]
    assert write_labels(tmp_path / "labels.csv", labels) == 1
    assert write_malicious_events(tmp_path / "malicious_events.csv", events) == 1
    assert write_complaints(tmp_path / "complaints.csv", complaints) == 2
    assert list(read_labels(tmp_path / "labels.csv")) == labels
    assert list(read_malicious_events(tmp_path / "malicious_events.csv")) == events
    assert list(read_complaints(tmp_path / "complaints.csv")) == complaints
    header = (tmp_path / "complaints.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "subject_id,call_time,caller,handle"


def test_bad_complaint_row_is_located(tmp_path: Path) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text("subject_id,call_time\ns1,yesterday\n", encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        list(read_complaints(path))
    assert info.value.where == f"{path}:2"
    assert "call_time" in info.value.reason
    assert "yesterday" not in str(info.value)  # never echo record data


@pytest.mark.parametrize(
    ("table", "header", "row", "field"),
    [
        (
            "relationships",
            "user_id,subject_id,kind,valid_from,valid_to",
            "u1,s1,certifier,2025-03-02T08:00:00+08:00,2025-03-01T08:00:00+08:00",
            "valid_to",
        ),
        ("shifts", "user_id,start,end", "u1,2025-03-01T20:00:00+08:00,2025-03-01T08:00:00+08:00", "end"),
        (
            "users",
            "user_id,role,org_id,district,active_from,active_to",
            "u2,nurse,h1,310112,2025-03-01T08:00:00+08:00,2025-02-01T08:00:00+08:00",
            "active_to",
        ),
    ],
)
def test_a_window_that_ends_before_it_starts_is_named(
    tmp_path: Path, table: str, header: str, row: str, field: str
) -> None:
    (tmp_path / "users.csv").write_text(
        "user_id,role,org_id,district,active_from\nu1,nurse,h1,310112,2025-03-01T08:00:00+08:00\n", encoding="utf-8"
    )
    path = tmp_path / f"{table}.csv"
    first = "u1,nurse,h1,310112,2025-03-01T08:00:00+08:00,\n" if table == "users" else ""
    path.write_text(f"{header}\n{first}{row}\n", encoding="utf-8")
    line = 3 if first else 2
    with pytest.raises(InterchangeError) as info:
        read_context(tmp_path)
    assert info.value.where == f"{path}:{line}"
    assert field in info.value.reason and "before" in info.value.reason


@pytest.mark.parametrize("value", ["1741000000", "2025-03-01", "1741000000000"])
def test_label_and_complaint_times_must_be_rfc3339(tmp_path: Path, value: str) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(f"user_id,scenario,first_malicious_time\nu1,x,{value}\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="first_malicious_time") as info:
        list(read_labels(labels))
    assert info.value.where == f"{labels}:2"
    complaints = tmp_path / "complaints.csv"
    complaints.write_text(f"subject_id,call_time\ns1,{value}\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match="call_time"):
        list(read_complaints(complaints))
    (tmp_path / "users.csv").write_text(
        f"user_id,role,org_id,district,active_from\nu1,nurse,h1,3101,{value}\n", encoding="utf-8"
    )
    with pytest.raises(InterchangeError, match="active_from"):
        read_context(tmp_path)
