"""Context tables (FORMATS.md section 2): who the users are and what explains their accesses.

A context directory holds one file per table, named ``<table>.<ext>`` with any extension
``interchange.tabular`` reads (``users.csv``, ``subjects.parquet``, ``shifts.csv.gz``, ...).
Only ``users`` is required. Rows are validated into the typed records below; errors name the
file, line and field. Large tables (subjects, relationships, shifts) can be streamed with
:func:`iter_table` instead of loading :class:`ContextTables` whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from piguard.errors import InterchangeError, validation_reason
from piguard.interchange.tabular import SUFFIXES, WHITESPACE, Row, read_rows, write_rows
from piguard.interchange.times import OptTime, Time

ORG_TYPES = (
    "hospital",
    "emergency_center",
    "cdc",
    "police",
    "funeral_home",
    "civil_affairs",
    "health_commission",
)
RELATIONSHIP_KINDS = (
    "certifier",
    "attending",
    "crew",
    "coder",
    "registrar",
    "funeral",
    "investigator",
)
TABLES = ("users", "orgs", "subjects", "relationships", "shifts")
# How a flag cell (``is_canary``) may be written, in any case; blank or absent is false.
TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip(WHITESPACE) else value


def _flag(value: Any) -> Any:
    """A boolean cell: ``1``/``true``/``yes`` or ``0``/``false``/``no`` (any case), blank is false.

    The loader's SQL fast path accepts exactly these words; a JSON/Parquet boolean or the
    integers 0 and 1 are taken as they are.
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip(WHITESPACE).lower()
        if word in TRUE_WORDS:
            return True
        if not word or word in FALSE_WORDS:
            return False
    raise ValueError(f"must be one of {'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)} (or empty)")


# Times must be RFC 3339 with an explicit offset (interchange.times); blank CSV cells of
# optional fields mean absent.
OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]


def _check_not_before(value: datetime | None, info: ValidationInfo, start: str) -> None:
    # A window that ends before it starts explains nothing; accepting it would drop it silently.
    begun = info.data.get(start)
    if value is not None and isinstance(begun, datetime) and value < begun:
        raise ValueError(f"is before {start}")


class _ContextRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    def to_record(self) -> dict[str, Any]:
        """The row as a writer-ready dict: RFC 3339 times, booleans as 0/1, None for absent."""
        record: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = int(value)
            record[name] = value
        return record


class UserRow(_ContextRow):
    """One account (a person's; a transfer gives the same ``user_id`` a second row)."""

    user_id: str = Field(min_length=1, max_length=128)
    role: str = Field(min_length=1, max_length=64)
    org_id: str = Field(min_length=1, max_length=128)
    district: str = Field(min_length=1, max_length=64)
    home_compound: OptStr = None
    surname: OptStr = None
    active_from: Time
    active_to: OptTime = None

    @field_validator("active_to")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        _check_not_before(value, info, "active_from")
        return value


class OrgRow(_ContextRow):
    """One organisation."""

    org_id: str = Field(min_length=1, max_length=128)
    org_type: Literal[
        "hospital",
        "emergency_center",
        "cdc",
        "police",
        "funeral_home",
        "civil_affairs",
        "health_commission",
    ]
    district: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=256)

    @field_validator("org_type", mode="before")
    @classmethod
    def _trimmed(cls, value: Any) -> Any:
        # Text fields are trimmed; a choice among names is too (the SQL fast path trims all).
        return value.strip(WHITESPACE) if isinstance(value, str) else value


class SubjectRow(_ContextRow):
    """One person records are about; ``death_time`` is None while alive."""

    subject_id: str = Field(min_length=1, max_length=128)
    death_time: OptTime = None
    district: str = Field(min_length=1, max_length=64)
    compound: OptStr = None
    surname: OptStr = None
    is_canary: Annotated[bool, BeforeValidator(_flag)] = False


class RelationshipRow(_ContextRow):
    """A documented reason for ``user_id`` to access ``subject_id`` in a time window."""

    user_id: str = Field(min_length=1, max_length=128)
    subject_id: str = Field(min_length=1, max_length=128)
    kind: str = Field(min_length=1, max_length=64)
    valid_from: Time
    valid_to: OptTime = None

    @field_validator("valid_to")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        _check_not_before(value, info, "valid_from")
        return value


class ShiftRow(_ContextRow):
    """One rostered shift."""

    user_id: str = Field(min_length=1, max_length=128)
    start: Time
    end: Time

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        _check_not_before(value, info, "start")
        return value


ROW_TYPES: dict[str, type[_ContextRow]] = {
    "users": UserRow,
    "orgs": OrgRow,
    "subjects": SubjectRow,
    "relationships": RelationshipRow,
    "shifts": ShiftRow,
}
COLUMNS: dict[str, tuple[str, ...]] = {name: tuple(model.model_fields) for name, model in ROW_TYPES.items()}

M = TypeVar("M", bound=BaseModel)


def parse_row(model: type[M], row: Row) -> M:
    """Validate one input row as ``model``; errors name the file, line and field (never values)."""
    try:
        return model.model_validate(row.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "row"
        raise InterchangeError(f"field '{name}': {validation_reason(first)}", where=row.where) from None


@dataclass(frozen=True, slots=True)
class ContextTables:
    """All context tables of one directory, loaded; tables that were absent are empty."""

    users: tuple[UserRow, ...]
    orgs: tuple[OrgRow, ...] = ()
    subjects: tuple[SubjectRow, ...] = ()
    relationships: tuple[RelationshipRow, ...] = ()
    shifts: tuple[ShiftRow, ...] = ()
    present: frozenset[str] = field(default_factory=frozenset)


def table_path(directory: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``directory`` (any supported extension), or None."""
    if name not in ROW_TYPES:
        raise InterchangeError(f"unknown context table '{name}'; expected one of {', '.join(TABLES)}")
    # Extensions in any case (`users.CSV`), as event files are read: exporters differ.
    wanted = {f"{name}{suffix}" for suffix in SUFFIXES}
    found = sorted(path for path in directory.iterdir() if path.name.lower() in wanted) if directory.is_dir() else []
    if len(found) > 1:
        raise InterchangeError(
            f"table '{name}' is present in more than one file ({', '.join(p.name for p in found)})",
            where=str(directory),
        )
    return found[0] if found else None


def iter_table(directory: Path, name: str) -> Iterator[Any]:
    """Stream the validated rows of one context table (nothing if the table is absent)."""
    path = table_path(directory, name)
    if path is None:
        return
    model = ROW_TYPES[name]
    for row in read_rows(path):
        yield parse_row(model, row)


def read_context(directory: Path) -> ContextTables:
    """Load a context directory; ``users`` is required, other tables are optional."""
    if not directory.is_dir():
        raise InterchangeError("context directory does not exist", where=str(directory))
    if table_path(directory, "users") is None:
        raise InterchangeError("the users table is required (users.csv, users.parquet, ...)", where=str(directory))
    loaded = {name: tuple(iter_table(directory, name)) for name in TABLES}
    present = frozenset(name for name in TABLES if table_path(directory, name) is not None)
    return ContextTables(
        users=loaded["users"],
        orgs=loaded["orgs"],
        subjects=loaded["subjects"],
        relationships=loaded["relationships"],
        shifts=loaded["shifts"],
        present=present,
    )


def write_table(path: Path, rows: Iterable[_ContextRow], *, table: str) -> int:
    """Write one context table to ``path`` (format by extension); returns the row count."""
    if table not in ROW_TYPES:
        raise InterchangeError(f"unknown context table '{table}'")
    return write_rows(path, (row.to_record() for row in rows), columns=COLUMNS[table])


def write_tables(directory: Path, tables: ContextTables, *, fmt: str = "csv") -> dict[str, int]:
    """Write every non-empty table (and always ``users``) as ``<table>.<fmt>`` into ``directory`` as it is."""
    counts: dict[str, int] = {}
    for name in TABLES:
        rows: tuple[_ContextRow, ...] = getattr(tables, name)
        if rows or name == "users":
            counts[name] = write_table(directory / f"{name}.{fmt}", rows, table=name)
    return counts


def write_context(
    directory: Path, tables: ContextTables, *, fmt: str = "csv", overwrite: bool = False
) -> dict[str, int]:
    """Write a context directory all or nothing (see :func:`replacing_context`); returns the row counts."""
    with replacing_context(directory, overwrite=overwrite) as staging:
        return write_tables(staging, tables, fmt=fmt)


def context_files(directory: Path) -> list[Path]:
    """The entries of ``directory`` that :func:`read_context` would take as a table, in any format."""
    if not directory.is_dir():
        return []
    wanted = {f"{name}{suffix}" for name in TABLES for suffix in SUFFIXES}
    return sorted(path for path in directory.iterdir() if path.name.lower() in wanted)


def _refuse_existing(directory: Path, *, overwrite: bool) -> list[Path]:
    """The tables ``directory`` holds now; refused unless ``overwrite`` (two exports must not mix)."""
    if directory.exists() and not directory.is_dir():
        raise InterchangeError("exists and is not a directory", where=str(directory))
    found = context_files(directory)
    if found and not overwrite:
        raise InterchangeError(
            f"already holds context tables ({', '.join(p.name for p in found)}); they would be read "
            "together with the new ones: remove them, or overwrite them",
            where=str(directory),
        )
    return found


@contextmanager
def replacing_context(directory: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """An empty staging directory to write a context into; on success its files become ``directory``'s.

    All or nothing: if the block fails, the staging directory is removed and ``directory`` is as
    it was. A ``directory`` that already holds context tables is refused unless ``overwrite``,
    which replaces every one of them, whatever its format, so that no table of an earlier export
    (``users.csv`` beside a new ``users.parquet``, a ``shifts.csv`` the new one lacks) is read
    with the new tables. Other files in ``directory`` are left alone.
    """
    _refuse_existing(directory, overwrite=overwrite)
    # Staged on the same file system as the target (inside it when it exists: it may be a
    # mount point), so that installing is a rename, never a copy that can stop half-way.
    home = directory if directory.is_dir() else directory.parent
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".piguard-context-", suffix=".tmp", dir=home))
    try:
        yield staging
        _install(staging, directory, overwrite=overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install(staging: Path, directory: Path, *, overwrite: bool) -> None:
    """Move the staged tables into ``directory``, replacing its tables; on failure put the old ones back."""
    if not directory.exists():
        os.rename(staging, directory)  # the directory appears whole, or not at all
        return
    old = _refuse_existing(directory, overwrite=overwrite)  # again: it may have changed meanwhile
    aside = Path(tempfile.mkdtemp(prefix=".piguard-context-", suffix=".old", dir=directory))
    moved_out: list[Path] = []
    moved_in: list[Path] = []
    try:
        for path in old:
            os.replace(path, aside / path.name)
            moved_out.append(path)
        for path in sorted(staging.iterdir()):
            os.replace(path, directory / path.name)
            moved_in.append(directory / path.name)
    except BaseException:
        for path in moved_in:
            path.unlink(missing_ok=True)
        for path in moved_out:
            os.replace(aside / path.name, path)
        aside.rmdir()  # left in place (holding the old tables) only if putting them back failed
        raise
    shutil.rmtree(aside)
