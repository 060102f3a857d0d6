"""Database number and array columns, and tables that cannot be read, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.discover.analyzer import Analyzer
from piguard.discover.scanner import scan_database
from piguard.ids import new_id

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ENTITIES = ["CN_RESIDENT_ID", "CN_MOBILE", "BANK_CARD"]


def resident_id(area: str, birth: str, seq: str) -> str:
    """An 18-digit resident ID with a correct GB 11643 check character."""
    body = f"{area}{birth}{seq}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


IDS = [
    i
    for n in range(60)
    if not (i := resident_id("310112", f"19{40 + n % 50}0{1 + n % 9}1{n % 10}", f"{n:03d}")).endswith("X")
][:30]
CARD = "6222021234567890128"  # Luhn-valid


def _table(engine: Engine, columns: str) -> tuple[str, str, str]:
    """A new table's (URL, --tables name, qualified SQL name) in the test database."""
    postgres = engine.dialect.name == "postgresql"
    name = f"numbers_{new_id().lower()}"
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one() if postgres else None
        qualified = f'"{schema}".{name}' if schema else name
        conn.execute(text(f"CREATE TABLE {qualified} ({columns})"))
    return engine.url.render_as_string(hide_password=False), (f"{schema}.{name}" if schema else name), qualified


def _drop(engine: Engine, qualified: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {qualified}"))


@pytest.fixture
def numbers(engine: Engine) -> Iterator[tuple[str, str]]:
    """Phone numbers, a card and IDs in exact and float number columns beside amounts."""
    url, table, qualified = _table(
        engine,
        "id INTEGER PRIMARY KEY, lxdh NUMERIC(11,0), card NUMERIC(19,0), mobile FLOAT, "
        "sfzh NUMERIC(18,0), zjhm FLOAT, amount NUMERIC(12,2), weight FLOAT",
    )
    rows = [
        {
            "i": n,
            "lxdh": int(f"1381234{n:04d}"),
            "card": int(CARD),
            "mobile": float(f"1391234{n:04d}"),
            "sfzh": int(IDS[n]),
            "zjhm": float(IDS[n]),
            "amount": f"{n}23.45",
            "weight": 60.5 + n,
        }
        for n in range(30)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO {qualified} VALUES "  # noqa: S608
                "(:i, :lxdh, :card, :mobile, :sfzh, :zjhm, CAST(:amount AS NUMERIC(12,2)), :weight)"
            ),
            rows,
        )
    yield url, table
    _drop(engine, qualified)


def test_number_columns_are_classified_by_their_digits(numbers: tuple[str, str]) -> None:
    url, table = numbers
    result = scan_database(url, analyzer=Analyzer(entities=ENTITIES), tables=[table])
    got = {c.column: c for c in result.columns}
    assert set(got) == {"lxdh", "card", "mobile", "sfzh", "zjhm"}  # amount and weight are not PI
    assert (got["lxdh"].entity, got["lxdh"].matched, got["lxdh"].sampled) == ("CN_MOBILE", 30, 30)
    assert (got["card"].entity, got["card"].matched) == ("BANK_CARD", 30)
    assert (got["mobile"].entity, got["mobile"].matched) == ("CN_MOBILE", 30)
    assert "type float" in got["mobile"].evidence
    # An exact numeric(18) keeps every digit (SQLite's numbers are read as stored, not through a
    # float): the IDs validate, and nothing says a spreadsheet lost digits.
    assert (got["sfzh"].entity, got["sfzh"].matched) == ("CN_RESIDENT_ID", 30)
    assert "spreadsheet" not in got["sfzh"].evidence
    assert "type integer" in got["sfzh"].evidence
    # A float cannot hold 18 digits: there the check digit is lost.
    assert got["zjhm"].entity == "CN_RESIDENT_ID"
    assert "stored as numbers by a spreadsheet" in got["zjhm"].evidence


def test_cli_shows_number_examples_as_digits(numbers: tuple[str, str]) -> None:
    url, table = numbers
    result = CliRunner().invoke(
        app,
        ["scan", "--db", url, "--tables", table, "--format", "json", "--entities", ",".join(ENTITIES), "--show-values"],
    )
    assert result.exit_code == 0, result.stderr
    columns = {c["column"]: c for c in json.loads(result.stdout)["columns"]}
    assert columns["lxdh"]["examples"][0] == "13812340000"
    assert columns["mobile"]["examples"][0] == "13912340000"
    assert columns["sfzh"]["examples"][0] == IDS[0]


@pytest.fixture
def arrays(engine: Engine) -> Iterator[tuple[str, str]]:
    """Phone numbers in a PostgreSQL text[] column, and a remarks column."""
    if engine.dialect.name != "postgresql":
        pytest.skip("arrays are a PostgreSQL type")
    url, table, qualified = _table(engine, "id INTEGER PRIMARY KEY, phones TEXT[], contacts TEXT[], bz TEXT")
    rows = [
        {
            "i": n,
            "phones": [f"1381234{n:04d}", f"1398765{n:04d}"],
            "contacts": [f"1371234{n:04d}"],
            "bz": f"家属电话1370000{n:04d}" if n % 2 else "无",
        }
        for n in range(20)
    ]
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {qualified} VALUES (:i, :phones, :contacts, :bz)"), rows)  # noqa: S608
    yield url, table
    _drop(engine, qualified)


def test_array_items_are_values_and_remarks_are_free_text(arrays: tuple[str, str]) -> None:
    url, table = arrays
    result = scan_database(url, analyzer=Analyzer(entities=ENTITIES), tables=[table])
    got = {c.column: c for c in result.columns}
    assert (got["phones"].entity, got["phones"].kind, got["phones"].matched, got["phones"].sampled) == (
        "CN_MOBILE",
        "values",
        40,
        40,
    )
    assert got["phones"].examples[:2] == ("13812340000", "13987650000")
    assert (got["contacts"].kind, got["contacts"].matched, got["contacts"].sampled) == ("values", 20, 20)
    # "家属电话1370000…" beside "无" in a remarks column: free text, not a column of phones.
    assert (got["bz"].entity, got["bz"].kind, got["bz"].matched, got["bz"].sampled) == (
        "CN_MOBILE",
        "free_text",
        10,
        20,
    )


@pytest.fixture
def forbidden(engine: Engine) -> Iterator[tuple[str, str]]:
    """A table the scanning role may see but not read (PostgreSQL); (URL as that role, table)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no roles")
    url, table, qualified = _table(engine, "id INTEGER PRIMARY KEY, lxdh VARCHAR(20)")
    schema = table.partition(".")[0]
    role = f"scan_noselect_{new_id().lower()}"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {qualified} VALUES (1, '13812345678')"))  # noqa: S608
        conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
    # The superuser of the test URL takes the role when it connects (libpq's options).
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-crole%3D{role}", table
    with engine.begin() as conn:
        conn.execute(text(f'REVOKE USAGE ON SCHEMA "{schema}" FROM "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))
    _drop(engine, qualified)


def test_a_table_without_select_says_why(forbidden: tuple[str, str]) -> None:
    url, table = forbidden
    result = CliRunner().invoke(
        app, ["scan", "--db", url, "--tables", table, "--format", "json", "--entities", "CN_MOBILE", "--no-progress"]
    )
    assert result.exit_code == 2
    [skipped] = json.loads(result.stdout)["skipped"]
    name = table.partition(".")[2]
    assert skipped["reason"] == f"cannot read table (permission denied for table {name}; ProgrammingError)"
    assert "13812345678" not in result.stdout + result.stderr


def test_a_driver_message_holding_row_data_is_blanked(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite names the undecodable text in its message")
    url, table, qualified = _table(engine, "id INTEGER PRIMARY KEY, bz TEXT")
    try:
        with engine.begin() as conn:
            # Text that is not UTF-8, holding a phone number: SQLite's error quotes it.
            conn.execute(text(f"INSERT INTO {qualified} VALUES (1, CAST(X'E5BCA0FF3133383132333435363738' AS TEXT))"))  # noqa: S608
        result = scan_database(url, analyzer=Analyzer(entities=["CN_MOBILE"]), tables=[table])
    finally:
        _drop(engine, qualified)
    [skipped] = result.skipped
    assert skipped.error
    assert skipped.reason.startswith("cannot read table (Could not decode to UTF-8 column")
    assert skipped.reason.endswith("; OperationalError)")
    assert "13812345678" not in skipped.reason
