"""Selecting ledger entries by user, subject and time so that an edited column can neither hide nor add one.

The entries table copies ``user_id``, ``subject_id``, ``time_us`` and ``event_id`` from each
event for SQL selection; the Merkle tree covers only the leaf. A selection therefore:

1. asks the database for the rows whose columns match (time bounds widened by
   ``columns.TIME_MARGIN_US``) **or** whose columns the selection relies on may differ from the
   leaf (``columns.suspect_sql``, evaluated over every entry of ``[start, end)``; for time, only
   rows outside the window whose leaf date lies within a day of it are tested in full);
2. checks every row it gets back: its leaf hash, and all four columns against the leaf
   (``check_row``), refusing the selection with ``TamperError`` naming the entry otherwise;
3. applies the exact selection to the checked values.

So an event whose leaf matches comes back however its columns were edited, and is refused; an
event whose columns were edited to match is refused too. The price is a scan of the whole range
in the database (see ``docs/ledger.md``); a selection with no criteria reads every row anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, TextClause, and_, or_, select, text
from sqlalchemy.orm import Session

from piguard.db.prepared import connection_of
from piguard.errors import TamperError
from piguard.ledger import columns, store
from piguard.ledger.merkle import leaf_hash

ROW_COLUMNS = ("idx", "leaf_hash", "data", *columns.COLUMNS)


@dataclass(frozen=True, slots=True)
class Selection:
    """What a selection asks for (``time_to`` exclusive); no criteria selects everything."""

    user_id: str | None = None
    subject_id: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    #: Keep entries naming no subject too (searches, prints): the caller then reads the event.
    or_no_subject: bool = False

    @property
    def empty(self) -> bool:
        """Whether nothing is selected on (every entry is wanted)."""
        return self.user_id is None and self.subject_id is None and self.time_from is None and self.time_to is None

    def matches(self, *, user_id: Any, subject_id: Any, time_us: Any) -> bool:
        """Whether checked column values (equal to the leaf's) are selected."""
        if self.user_id is not None and user_id != self.user_id:
            return False
        if (
            self.subject_id is not None
            and subject_id != self.subject_id
            and not (self.or_no_subject and subject_id is None)
        ):
            return False
        if self.time_from is not None and time_us < store.to_us(self.time_from):
            return False
        return self.time_to is None or time_us < store.to_us(self.time_to)


def _date_bound(moment: datetime, days: int) -> bytes:
    """The RFC 3339 date ``days`` from ``moment``'s UTC date (a local date is within a day of it)."""
    try:
        return (moment.astimezone(UTC).date() + timedelta(days=days)).isoformat().encode()
    except OverflowError:  # at the ends of the calendar: no bound
        return b"0000" if days < 0 else b"9999-99"


def _time_suspect(dialect: str, wanted: Selection) -> ColumnElement[bool]:
    """Rows whose time column lies outside the window although their leaf's time may lie inside it."""
    table = store.ENTRIES
    outside = []
    params: dict[str, Any] = {}
    inside_dates = []
    leaf_date, found = columns.LEAF_DATE["postgresql" if dialect == "postgresql" else "sqlite"]
    if wanted.time_from is not None:
        outside.append(table.c.time_us < store.to_us(wanted.time_from) - columns.TIME_MARGIN_US)
        inside_dates.append(f"{leaf_date} >= :date_lo")
        params["date_lo"] = _date_bound(wanted.time_from, -1)
    if wanted.time_to is not None:
        outside.append(table.c.time_us >= store.to_us(wanted.time_to) + columns.TIME_MARGIN_US)
        inside_dates.append(f"{leaf_date} <= :date_hi")
        params["date_hi"] = _date_bound(wanted.time_to, 1)
    # CASE: the full test (a date parse) only for the few rows the cheap date test lets through; a
    # leaf whose time is not where a canonical leaf has it is always tested in full.
    maybe_inside = f"NOT ({found}) OR ({' AND '.join(inside_dates)})"
    test = f"CASE WHEN {maybe_inside} THEN {columns.suspect_sql(dialect, ['time_us'])} ELSE false END"
    return and_(or_(*outside), text(test).bindparams(**params))


def statement(session: Session, wanted: Selection, *, start: int, end: int | None) -> Select[Any]:
    """The rows to read: those selected by their columns, and those whose columns may be edited."""
    table = store.ENTRIES
    dialect = connection_of(session).dialect.name
    stmt = select(*(table.c[name] for name in ROW_COLUMNS)).where(table.c.idx >= start)
    if end is not None:
        stmt = stmt.where(table.c.idx < end)
    if wanted.empty:
        return stmt
    chosen: list[ColumnElement[bool]] = []
    relied: list[str] = []
    if wanted.user_id is not None:
        chosen.append(table.c.user_id == wanted.user_id)
        relied.append("user_id")
    if wanted.subject_id is not None:
        subject = table.c.subject_id == wanted.subject_id
        chosen.append(or_(subject, table.c.subject_id.is_(None)) if wanted.or_no_subject else subject)
        relied.append("subject_id")
    if wanted.time_from is not None:
        chosen.append(table.c.time_us >= store.to_us(wanted.time_from) - columns.TIME_MARGIN_US)
    if wanted.time_to is not None:
        chosen.append(table.c.time_us < store.to_us(wanted.time_to) + columns.TIME_MARGIN_US)
    suspects: list[ColumnElement[bool] | TextClause] = [text(columns.suspect_sql(dialect, relied))] if relied else []
    timed = wanted.time_from is not None or wanted.time_to is not None
    if timed:
        suspects.append(_time_suspect(dialect, wanted))
    return stmt.where(or_(and_(*chosen), *suspects))


def check_row(idx: int, digest: bytes, data: bytes, values: tuple[Any, Any, Any, Any]) -> None:
    """Refuse an entry whose leaf hash or copied columns (``event_id, time_us, user_id, subject_id``) disagree."""
    if leaf_hash(data) != digest:
        raise TamperError(f"entry {idx}: stored event does not match its leaf hash; run 'piguard audit verify'")
    edited = columns.differing(data, *values)
    if edited:
        raise TamperError(
            f"entry {idx}: the stored {', '.join(edited)} column(s) differ from the event in its leaf "
            "(edited, which would hide the entry from a selection or add it to another); run 'piguard audit verify'"
        )
