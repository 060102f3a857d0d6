"""``piguard scan`` and ``piguard redact`` through the CLI runner, on files and real databases."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.ids import new_id
from piguard.keys import ensure_secret

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
IDENTIFIERS = "CN_RESIDENT_ID,CN_MOBILE,CN_LANDLINE,BANK_CARD,EMAIL"


def resident_id(area: str, birth: str, seq: str) -> str:
    """An 18-digit resident ID with a correct GB 11643 check character."""
    body = f"{area}{birth}{seq}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


ID = resident_id("310112", "19280314", "021")
PHONE = "13812345678"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "notes.txt").write_text(f"患者身份证号{ID}，\n家属电话 {PHONE}\n", encoding="utf-8")
    (root / "sub" / "deaths.csv").write_text(
        "sfzh,lxdh,amount\n" + "".join(f"{ID},1391234{i:04d},{i}.5\n" for i in range(30)),
        encoding="utf-8",
    )
    (root / "sub" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    return root


def test_scan_directory_to_json(runner: CliRunner, inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["scan", str(inputs), "--format", "json", "--out", str(out), "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [(f["line"], f["start"], f["end"], f["entity"]) for f in report["findings"]] == [
        (1, 6, 24, "CN_RESIDENT_ID"),
        (2, 5, 16, "CN_MOBILE"),
    ]
    assert [(c["column"], c["entity"], c["matched"], c["sampled"]) for c in report["columns"]] == [
        ("sfzh", "CN_RESIDENT_ID", 30, 30),
        ("lxdh", "CN_MOBILE", 30, 30),
    ]
    assert report["summary"]["skipped"] == 1
    assert "photo.png" in result.stderr
    raw = out.read_text(encoding="utf-8")
    assert ID not in raw
    assert PHONE not in raw


def test_scan_json_to_stdout_with_values(runner: CliRunner, inputs: Path) -> None:
    result = runner.invoke(
        app, ["scan", str(inputs / "notes.txt"), "--format", "json", "--show-values", "--entities", IDENTIFIERS]
    )
    assert result.exit_code == 0
    assert [f["value"] for f in json.loads(result.stdout)["findings"]] == [ID, PHONE]


def test_fail_on_findings_exits_3_and_clean_input_exits_0(runner: CliRunner, inputs: Path, tmp_path: Path) -> None:
    found = runner.invoke(
        app, ["scan", str(inputs / "notes.txt"), "--fail-on-findings", "--format", "json", "--entities", IDENTIFIERS]
    )
    assert found.exit_code == 3
    clean = tmp_path / "clean.txt"
    clean.write_text("order 20250301123456789 total 13.50 version 1.2.3\n")
    result = runner.invoke(app, ["scan", str(clean), "--fail-on-findings", "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stdout


def test_unreadable_input_exits_2_but_reports_the_rest(runner: CliRunner, inputs: Path, tmp_path: Path) -> None:
    (inputs / "broken.csv").write_text("a,b\n1,2,3\n")
    out = tmp_path / "r.json"
    result = runner.invoke(
        app,
        [
            "scan",
            str(inputs),
            str(tmp_path / "nope.txt"),
            "--format",
            "json",
            "--out",
            str(out),
            "--entities",
            IDENTIFIERS,
        ],
    )
    assert result.exit_code == 2
    assert "broken.csv: malformed file at line 2: expected 2 columns, found 3" in result.stderr
    assert "nope.txt: no such file or directory" in result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["skipped_errors"] == 2
    assert len(report["findings"]) == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give at least one PATH or --db URL"),
        (["x.txt", "--tables", "t"], "--tables needs --db"),
        (["x.txt", "--entities", "NOT_AN_ENTITY"], "unknown entity NOT_AN_ENTITY"),
        (["--db", "not a url"], "not a valid SQLAlchemy database URL"),
        (["--db", "nosuchdialect://x"], "no database driver"),
    ],
)
def test_bad_usage_exits_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["scan", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_html_report_has_charts_and_no_values(runner: CliRunner, inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["scan", str(inputs), "--format", "html", "--out", str(out), "--entities", IDENTIFIERS])
    assert result.exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    assert ID not in html
    assert PHONE not in html


def test_table_format_prints_summary(runner: CliRunner, inputs: Path) -> None:
    result = runner.invoke(app, ["scan", str(inputs), "--entities", IDENTIFIERS])
    assert result.exit_code == 0
    assert "2 findings in text, 2 PI columns" in " ".join(result.stdout.split())


@pytest.fixture
def db_url(engine: Engine) -> Iterator[tuple[str, str]]:
    """A table of deaths in the test database (SQLite and PostgreSQL); (URL, --tables name)."""
    url = engine.url.render_as_string(hide_password=False)
    postgres = engine.dialect.name == "postgresql"
    name = f"scan_deaths_{new_id().lower()}"
    with engine.begin() as conn:
        # PostgreSQL tests run in a private schema, which the CLI must be told about.
        schema = conn.execute(text("SELECT current_schema()")).scalar_one() if postgres else None
        qualified = f'"{schema}".{name}' if schema else name
        conn.execute(
            text(
                f"CREATE TABLE {qualified} (id INTEGER PRIMARY KEY, c1 VARCHAR(40), "
                "c2 VARCHAR(40), xm VARCHAR(40), fee FLOAT, birth DATE)"
            )
        )
        if postgres:
            conn.execute(text(f"COMMENT ON COLUMN {qualified}.c2 IS '家属联系电话'"))
        conn.execute(
            text(f"INSERT INTO {qualified} VALUES (:i, :c1, :c2, :xm, :fee, :birth)"),  # noqa: S608
            [
                {
                    "i": i,
                    "c1": ID if i % 2 else resident_id("110105", "19450101", f"{i:03d}"),
                    "c2": f"1381234{i:04d}" if i % 10 else None,
                    "xm": "张三",
                    "fee": 1.5,
                    "birth": date(1920 + i % 50, 1, 1 + i % 9),
                }
                for i in range(60)
            ],
        )
    yield url, (f"{schema}.{name}" if schema else name)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {qualified}"))


def test_scan_database_tables(runner: CliRunner, db_url: tuple[str, str]) -> None:
    url, table = db_url
    result = runner.invoke(
        app, ["scan", "--db", url, "--tables", table, "--format", "json", "--sample", "25", "--entities", IDENTIFIERS]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    columns = {c["column"]: c for c in report["columns"]}
    assert columns["c1"]["entity"] == "CN_RESIDENT_ID"
    assert columns["c1"]["sampled"] == 25
    assert columns["c1"]["matched"] == 25
    assert columns["c1"]["table"] == table
    assert columns["c2"]["entity"] == "CN_MOBILE"
    if url.startswith("postgresql"):
        assert "comment '电话'" in columns["c2"]["evidence"]
    assert "fee" not in columns
    assert "id" not in columns


def test_scan_database_missing_table_is_reported(runner: CliRunner, db_url: tuple[str, str]) -> None:
    url, table = db_url
    result = runner.invoke(
        app, ["scan", "--db", url, "--tables", f"{table},no_such_table", "--format", "json", "--entities", IDENTIFIERS]
    )
    assert result.exit_code == 2
    assert "no_such_table: no such table" in result.stderr
    assert len(json.loads(result.stdout)["columns"]) == 2


def test_unreachable_database_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["scan", "--db", "postgresql+psycopg://u:secretpw@127.0.0.1:1/x", "--entities", IDENTIFIERS]
    )
    assert result.exit_code == 2
    assert "cannot connect" in result.stderr
    assert "secretpw" not in result.stderr


def test_a_server_that_never_answers_times_out(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    # A listener that accepts the connection and says nothing: without a connect timeout the
    # scan would wait for as long as the operating system lets a silent TCP connection live.
    from piguard.discover.sources import database

    monkeypatch.setattr(database, "CONNECT_TIMEOUT_SECONDS", 1)
    silent = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True).start()
    port = silent.getsockname()[1]
    started = time.monotonic()
    try:
        url = f"postgresql+psycopg://u@127.0.0.1:{port}/x"
        result = runner.invoke(app, ["scan", "--db", url, "--entities", IDENTIFIERS])
    finally:
        for conn in held:
            conn.close()
        silent.close()
    assert result.exit_code == 2 and "cannot connect" in result.stderr
    assert time.monotonic() - started < 20


def test_redact_csv_and_text(runner: CliRunner, inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "deaths.masked.csv"
    result = runner.invoke(app, ["redact", str(inputs / "sub" / "deaths.csv"), str(out), "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "sfzh,lxdh,amount"
    assert lines[1] == f"{'*' * 14}{ID[-4:]},*******0000,0.5"
    assert "whole columns: sfzh (CN_RESIDENT_ID), lxdh (CN_MOBILE)" in " ".join(result.stderr.split())
    out_txt = tmp_path / "notes.out.txt"
    result = runner.invoke(
        app, ["redact", str(inputs / "notes.txt"), str(out_txt), "--policy", "remove", "--entities", IDENTIFIERS]
    )
    assert result.exit_code == 0
    assert out_txt.read_text(encoding="utf-8") == "患者身份证号[CN_RESIDENT_ID]，\n家属电话 [CN_MOBILE]\n"


def test_redact_pseudonym_key_from_installation_or_key_file(
    runner: CliRunner, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(data_dir))
    src = inputs / "notes.txt"
    missing = runner.invoke(
        app, ["redact", str(src), str(tmp_path / "o.txt"), "--policy", "pseudonym", "--entities", IDENTIFIERS]
    )
    assert missing.exit_code == 2
    assert "run 'piguard init'" in missing.stderr
    ensure_secret(Settings(data_dir=data_dir))
    first = runner.invoke(
        app, ["redact", str(src), str(tmp_path / "a.txt"), "--policy", "pseudonym", "--entities", IDENTIFIERS]
    )
    assert first.exit_code == 0, first.stderr
    key_file = tmp_path / "k.hex"
    key_file.write_text(os.urandom(32).hex())
    key_file.chmod(0o600)  # a key readable by others is refused
    second = runner.invoke(
        app,
        [
            "redact",
            str(src),
            str(tmp_path / "b.txt"),
            "--policy",
            "pseudonym",
            "--key-file",
            str(key_file),
            "--entities",
            IDENTIFIERS,
        ],
    )
    assert second.exit_code == 0
    a = (tmp_path / "a.txt").read_text(encoding="utf-8")
    b = (tmp_path / "b.txt").read_text(encoding="utf-8")
    assert "CN_MOBILE_" in a
    assert a != b
    assert PHONE not in a
    weak = tmp_path / "weak.hex"
    weak.write_text("00" * 32)
    weak.chmod(0o600)
    bad = runner.invoke(
        app, ["redact", str(src), str(tmp_path / "c.txt"), "--policy", "pseudonym", "--key-file", str(weak)]
    )
    assert bad.exit_code == 2
    assert "random bytes" in bad.stderr


def test_redact_refuses_format_change(runner: CliRunner, inputs: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["redact", str(inputs / "sub" / "deaths.csv"), str(tmp_path / "x.parquet")])
    assert result.exit_code == 2
    assert "output must have the input's format (csv)" in result.stderr


def test_config_errors_name_file_line_and_reason_without_wrapping(runner: CliRunner, tmp_path: Path) -> None:
    deep = tmp_path / "[bracketed]" / ("x" * 90) / ("y" * 90)
    deep.mkdir(parents=True)
    rules = deep / "rules.yaml"
    rules.write_text("recognizers: [\n", encoding="utf-8")
    note = tmp_path / "note.txt"
    note.write_text("无\n", encoding="utf-8")
    result = runner.invoke(app, ["scan", str(note), "--custom-rules", str(rules)])
    assert result.exit_code == 2
    # One line, the whole path (not cropped or wrapped at the terminal width, brackets kept).
    assert f"error: {rules}:2: not valid YAML (" in result.output.replace("\n", " ")
    assert str(rules) in result.output.splitlines()[0]
    missing = runner.invoke(app, ["scan", str(note), "--custom-rules", str(deep / "none.yaml")])
    assert missing.exit_code == 2
    assert "none.yaml: cannot read custom rules (no such file or directory)" in missing.output


def test_gb18030_csv_is_scanned_and_redacted_in_gb18030(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"姓名,联系电话\n张三,{PHONE}\n".encode("gb18030"))
    scanned = runner.invoke(app, ["scan", str(path), "--format", "json", "--no-progress"])
    assert scanned.exit_code == 0, scanned.output
    assert {c["column"] for c in json.loads(scanned.stdout)["columns"]} == {"姓名", "联系电话"}
    redacted = runner.invoke(app, ["redact", str(path), str(tmp_path / "out.csv")])
    assert redacted.exit_code == 0, redacted.output
    assert (tmp_path / "out.csv").read_bytes() == "姓名,联系电话\n张*,*******5678\n".encode("gb18030")


def test_missing_sqlite_file_is_an_error_and_is_not_created(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = runner.invoke(app, ["scan", "--db", f"sqlite:///{missing}", "--entities", IDENTIFIERS])
    assert result.exit_code == 2
    assert "no such SQLite database file" in result.stderr
    assert not missing.exists()  # a scan never creates the database it looks at


def test_sqlite_file_in_an_odd_folder_is_scanned_read_only(runner: CliRunner, tmp_path: Path) -> None:
    import sqlite3

    folder = tmp_path / "a b#c"
    folder.mkdir()
    path = folder / "x.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE people (lxdh TEXT)")
        conn.executemany("INSERT INTO people VALUES (?)", [(f"1381234{i:04d}",) for i in range(30)])
    conn.close()
    before = path.read_bytes()
    result = runner.invoke(app, ["scan", "--db", f"sqlite:///{path}", "--format", "json", "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    assert [c["entity"] for c in json.loads(result.stdout)["columns"]] == ["CN_MOBILE"]
    assert path.read_bytes() == before


# --- Probes of sources, reports and redaction as a data-protection officer runs them ----------


def test_jsonl_with_one_malformed_line_scans_the_other_lines(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    lines = [json.dumps({"sfzh": ID, "lxdh": f"1381234{i:04d}"}) for i in range(30)]
    lines.insert(14, '{"sfzh": "broken')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["scan", str(path), "--format", "json", "--no-progress", "--entities", IDENTIFIERS])
    # The scan ran: a malformed line is listed, not an error (as a malformed CSV row).
    assert result.exit_code == 0, result.stderr
    assert f"{path}: line 15 skipped: invalid JSON (" in " ".join(result.stderr.split())
    report = json.loads(result.stdout)
    columns = {c["column"]: c for c in report["columns"]}
    assert (columns["sfzh"]["entity"], columns["sfzh"]["sampled"]) == ("CN_RESIDENT_ID", 30)
    assert columns["lxdh"]["entity"] == "CN_MOBILE"
    assert report["summary"]["files_scanned"] == 1
    assert (report["summary"]["skipped_errors"], report["summary"]["rows_skipped"]) == (0, 1)
    assert report["skipped"] == []
    [rows] = report["skipped_rows"]
    assert (rows["source"], rows["table"], rows["rows"]) == (str(path), "rows.jsonl", 1)
    assert rows["lines"][0]["line"] == 15
    assert rows["lines"][0]["reason"].startswith("invalid JSON (")


def test_directory_symlinks_and_empty_files_are_listed_not_errors(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    os.symlink(root, root / "a" / "loop")
    for name in ("empty.txt", "empty.csv", "empty.jsonl", "empty.json", "empty.parquet", "empty.xlsx"):
        (root / name).write_bytes(b"")
    (root / "a" / "notes.txt").write_text(f"电话{PHONE}\n", encoding="utf-8")
    result = runner.invoke(app, ["scan", str(root), "--format", "json", "--no-progress", "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["files_scanned"] == 7
    assert report["skipped"] == [
        {"source": str(root / "a" / "loop"), "reason": "symbolic link to a directory (not followed)", "error": False}
    ]
    assert len(report["findings"]) == 1


def _excel_ids(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "死亡登记"
    # A merged title over the header, as Chinese registers are laid out.
    ws.append(["死亡患者登记表", None, None])
    ws.merge_cells("A1:C1")
    ws.append(["姓名", "身份证号", "联系电话"])
    ids = [resident_id("310112", f"19{y}0314", "021") for y in range(30, 70)]
    for i, number in enumerate([n for n in ids if not n.endswith("X")][:12]):
        # Excel keeps 15 significant digits: an 18-digit ID typed as a number loses its last ones.
        ws.append(["张三", float(number), 13812345600 + i])
    wb.save(path)


def test_excel_title_row_and_ids_stored_as_numbers(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    _excel_ids(path)
    result = runner.invoke(app, ["scan", str(path), "--format", "json", "--no-progress", "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    columns = {c["column"]: c for c in json.loads(result.stdout)["columns"]}
    assert set(columns) == {"身份证号", "联系电话"}
    assert columns["联系电话"]["matched"] == 12
    ids = columns["身份证号"]
    assert (ids["entity"], ids["kind"], ids["matched"], ids["sampled"]) == ("CN_RESIDENT_ID", "values", 12, 12)
    assert ids["confidence"] >= 0.9
    assert "stored as numbers" in ids["evidence"]


def test_password_in_url_query_is_never_echoed_and_reason_is_given(runner: CliRunner) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_db_piguard?password=hunter3&connect_timeout=5"
    result = runner.invoke(app, ["scan", "--db", url, "--no-progress"])
    assert result.exit_code == 2
    assert "hunter3" not in result.output
    assert "password=***" in result.stderr
    assert 'database "no_such_db_piguard" does not exist' in result.stderr
    assert "Traceback" not in result.output
    refused = runner.invoke(app, ["scan", "--db", "postgresql+psycopg://u:secretpw@127.0.0.1:1/x", "--no-progress"])
    assert "Connection refused" in refused.stderr
    assert "secretpw" not in refused.output


def test_redact_reads_every_row_not_only_the_sample(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "visits.csv"
    rows = [f"{i},正常" for i in range(3000)]
    rows[2500] = f"2500,家属电话{PHONE}"
    src.write_text("id,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    result = runner.invoke(app, ["redact", str(src), str(out), "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    text_out = out.read_text(encoding="utf-8")
    assert PHONE not in text_out
    assert "2500,家属电话*******5678" in text_out


def test_redact_keeps_blank_csv_rows_and_json_types(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "d.csv"
    src.write_text("lxdh,bz\n" + "".join(f"1381234{i:04d},无\n" for i in range(12)) + ",\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert runner.invoke(app, ["redact", str(src), str(out), "--entities", IDENTIFIERS]).exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1:] == [f"*******{i:04d},无" for i in range(12)] + [","]
    src_j = tmp_path / "d.jsonl"
    rows = [
        {"lxdh": f"1381234{i:04d}", "note": f"电话{PHONE}" if i == 0 else i, "ok": True, "x": None} for i in range(12)
    ]
    src_j.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out_j = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["redact", str(src_j), str(out_j), "--policy", "remove", "--entities", IDENTIFIERS])
    assert result.exit_code == 0, result.stderr
    got = [json.loads(line) for line in out_j.read_text(encoding="utf-8").splitlines()]
    assert got[0] == {"lxdh": None, "note": "电话[CN_MOBILE]", "ok": True, "x": None}
    assert got[5] == {"lxdh": None, "note": 5, "ok": True, "x": None}


def test_redact_parquet_keeps_column_types(runner: CliRunner, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "d.parquet"
    phones = pa.array([13812345600 + i if i % 3 else None for i in range(30)], pa.int64())
    pq.write_table(pa.table({"lxdh": phones, "n": pa.array(range(30), pa.int32()), "sfzh": [ID] * 30}), src)
    for policy, phone_type in (("remove", pa.int64()), ("mask", pa.string())):
        out = tmp_path / f"{policy}.parquet"
        result = runner.invoke(app, ["redact", str(src), str(out), "--policy", policy, "--entities", IDENTIFIERS])
        assert result.exit_code == 0, result.stderr
        table = pq.read_table(out)
        assert table.schema.field("n").type == pa.int32()
        assert table.schema.field("lxdh").type == phone_type
        assert table.schema.field("sfzh").type == pa.string()
        assert table.num_rows == 30
        assert table.column("lxdh").null_count == (30 if policy == "remove" else 10)


def test_pseudonym_key_file_must_be_private_and_secret_is_not_used_directly(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import hmac

    from piguard.keys import load_secret

    src = tmp_path / "n.txt"
    src.write_text(f"电话{PHONE}\n", encoding="utf-8")
    key_file = tmp_path / "k.hex"
    key_file.write_text(os.urandom(32).hex())
    key_file.chmod(0o644)
    args = ["redact", str(src), str(tmp_path / "o.txt"), "--policy", "pseudonym", "--entities", IDENTIFIERS]
    shared = runner.invoke(app, [*args, "--key-file", str(key_file)])
    assert shared.exit_code == 2
    assert "readable by others: chmod 600 it" in shared.stderr
    key_file.chmod(0o600)
    assert runner.invoke(app, [*args, "--key-file", str(key_file)]).exit_code == 0
    data_dir = tmp_path / "data"
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(data_dir))
    settings = Settings(data_dir=data_dir)
    ensure_secret(settings)
    assert runner.invoke(app, args).exit_code == 0
    direct = hmac.new(load_secret(settings), b"CN_MOBILE\x00" + PHONE.encode(), hashlib.sha256).hexdigest()[:16]
    out = (tmp_path / "o.txt").read_text(encoding="utf-8")
    assert out.startswith("电话CN_MOBILE_")
    assert direct not in out
