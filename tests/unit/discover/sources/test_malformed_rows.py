"""A scan passes over malformed rows of real exports and says which; a file that is not a table is one error."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pi_testvalues import resident_id

from piguard.discover.sources import RowProblems, TableSample, iter_lines, sample_table_file, sniff_encoding
from piguard.discover.sources.rows import decoded_lines, table_encoding
from piguard.errors import DiscoveryError

IDS = [resident_id("310112", f"19{30 + i}0314", "021") for i in range(40)]
HEADER = "姓名,身份证号,联系电话"
ROWS = [f"张{i},{IDS[i]},1381234{i:04d}" for i in range(40)]


def _csv(path: Path, lines: list[bytes | str], *, encoding: str = "utf-8", ending: bytes = b"\n") -> Path:
    path.write_bytes(ending.join(x if isinstance(x, bytes) else x.encode(encoding) for x in lines) + ending)
    return path


def _scan(path: Path, sample: int = 100) -> TableSample:
    [table] = sample_table_file(path, source=path.name, sample=sample, tolerant=True)
    return table


def _column(table: TableSample, name: str) -> list[str]:
    return next(c.values for c in table.columns if c.name == name)


def _skipped(table: TableSample) -> tuple[int, tuple[tuple[int, str], ...]]:
    assert table.skipped_rows is not None
    assert (table.skipped_rows.source, table.skipped_rows.table) == (table.source, table.table)
    return table.skipped_rows.count, table.skipped_rows.lines


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('"张十,310112193003140211,13812340010', "unbalanced quote"),  # opened, never closed
        ("张十,310112193003140211,13812340010,多余", "expected 3 columns, found 4"),
        ("张\x00十,310112193003140211,13812340010", "NUL byte in the row"),
        (b"\xff\xfe\xfd,310112193003140211,13812340010", "not UTF-8 or GB 18030 text"),
    ],
)
def test_one_malformed_row_is_passed_over_and_named(tmp_path: Path, bad: str | bytes, reason: str) -> None:
    lines: list[bytes | str] = [HEADER, *ROWS]
    lines[11] = bad  # line 12 of the file
    table = _scan(_csv(tmp_path / "deaths.csv", lines))
    assert _skipped(table) == (1, ((12, reason),))
    assert table.rows_total == 39  # every other row was read, also the ones after the bad one
    assert _column(table, "身份证号") == [i for n, i in enumerate(IDS) if n != 10]
    with pytest.raises(DiscoveryError):
        sample_table_file(tmp_path / "deaths.csv", source="deaths.csv", sample=100)  # redaction stays strict


@pytest.mark.parametrize(
    "closing",
    [
        f'张十九,"{IDS[19]}",1381234{19:04d}',  # closed inside a later row: too few fields
        f'"张十九",{IDS[19]},1381234{19:04d}',  # closed at a later row's first field: as many
    ],
)
def test_an_unbalanced_quote_does_not_swallow_the_rows_after_it(tmp_path: Path, closing: str) -> None:
    # The quote closes only at a later quoted field: the lines between are rows of their own.
    lines: list[bytes | str] = [HEADER, *ROWS]
    lines[5] = '"张四,310112193403140211,13812340004'
    lines[20] = closing
    table = _scan(_csv(tmp_path / "q.csv", lines))
    assert _skipped(table) == (1, ((6, "unbalanced quote"),))
    assert table.rows_total == 39
    assert "张十九" in _column(table, "姓名")


def test_quotes_that_are_data_are_not_malformed(tmp_path: Path) -> None:
    lines: list[bytes | str] = [HEADER + ",备注", *(f"{r}," for r in ROWS)]
    lines[3] = f'张"二",{IDS[2]},13812340002,他说"好"'  # quotes inside unquoted fields
    lines[4] = f'张三,{IDS[3]},13812340003,"家属李四代办，\n电话13912345678"'  # a quoted newline
    lines[5] = f'张四,{IDS[4]},13812340004,"引号""转义"""'
    table = _scan(_csv(tmp_path / "ok.csv", lines))
    assert table.skipped_rows is None
    assert table.rows_total == 40
    assert "家属李四代办，\n电话13912345678" in _column(table, "备注")
    assert '引号"转义"' in _column(table, "备注")


def test_only_the_first_rows_are_named_all_are_counted(tmp_path: Path) -> None:
    lines: list[bytes | str] = [HEADER, *ROWS, *(f"{r},x" for r in ROWS[:15])]
    table = _scan(_csv(tmp_path / "many.csv", lines))
    count, named = _skipped(table)
    assert count == 15
    assert [line for line, _ in named] == list(range(42, 52))  # the first ten


def test_a_row_pasted_in_gbk_into_a_utf8_file_is_read(tmp_path: Path) -> None:
    lines: list[bytes | str] = [HEADER, *ROWS]
    lines[3] = "王五,310112193203140211,13912345678".encode("gbk")
    table = _scan(_csv(tmp_path / "mixed.csv", lines))
    assert table.skipped_rows is None
    assert "王五" in _column(table, "姓名")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_chinese_excel_encodings_are_decoded(tmp_path: Path, encoding: str) -> None:
    # Excel's "CSV" on Chinese Windows is GBK (no BOM); "CSV UTF-8" starts with a BOM.
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode(encoding))
    table = _scan(path)
    assert [c.name for c in table.columns] == ["姓名", "身份证号", "联系电话"]
    assert _column(table, "姓名")[:2] == ["张0", "张1"]
    assert table.skipped_rows is None


def test_utf16_tab_separated_unicode_text_export(tmp_path: Path) -> None:
    # Excel's "Unicode text" is UTF-16 with tabs; it is often renamed .csv.
    path = tmp_path / "unicode.csv"
    path.write_bytes(("\r\n".join(line.replace(",", "\t") for line in [HEADER, *ROWS]) + "\r\n").encode("utf-16"))
    table = _scan(path)
    assert [c.name for c in table.columns] == ["姓名", "身份证号", "联系电话"]
    assert _column(table, "身份证号") == IDS


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_csv_separated_by_semicolons_or_tabs(tmp_path: Path, delimiter: str) -> None:
    lines: list[bytes | str] = [line.replace(",", delimiter) for line in [HEADER, *ROWS]]
    table = _scan(_csv(tmp_path / "sep.csv", lines))
    assert [c.name for c in table.columns] == ["姓名", "身份证号", "联系电话"]


def test_one_column_whose_values_hold_semicolons_stays_one_column(tmp_path: Path) -> None:
    table = _scan(_csv(tmp_path / "one.csv", ["备注", *(f"家属{i};电话1381234{i:04d}" for i in range(20))]))
    assert [c.name for c in table.columns] == ["备注"]
    assert table.skipped_rows is None


def test_title_rows_duplicate_and_unnamed_headers_trailing_and_short_rows(tmp_path: Path) -> None:
    lines: list[bytes | str] = [
        "某医院死亡患者登记表（导出时间2024-06-01）,,,,,",  # a title merged over the header
        "",
        "姓名,身份证号,联系电话,备注,备注,",  # a repeated name, a column without one
        *(f"{r},无,,1390000{i:04d}" for i, r in enumerate(ROWS[:30])),
        *(f"{r}" for r in ROWS[30:]),  # trailing empty cells left out
        f"{ROWS[0]},,,,,,,,",  # trailing delimiters
    ]
    table = _scan(_csv(tmp_path / "register.csv", lines, ending=b"\r\n"))
    assert [c.name for c in table.columns] == ["姓名", "身份证号", "联系电话", "备注", "column_6"]
    assert table.skipped_rows is None
    assert table.rows_total == 41
    assert _column(table, "column_6")[:1] == ["13900000000"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01PK\x00\x00" * 300, "binary content"),
        (b"\xfd\xfe\xff\n" * 200, "not text: neither UTF-8 nor GB 18030"),
        (b"a,b\n1,2,3\n", "^malformed file at line 2: expected 2 columns, found 3$"),
        (
            ("\n".join([HEADER, *(f"{r},x" for r in ROWS), *ROWS[:5]]) + "\n").encode(),
            "^malformed file at line 2: expected 3 columns, found 4; 40 of 45 rows malformed$",
        ),
        (
            b"\xfd\xfe\xff\n" + "\n".join(ROWS).encode(),  # the header unreadable: rows would be misnamed
            r"^malformed file at line 1: not UTF-8 or GB 18030 text \(above the header row\)$",
        ),
        (b"\n\n", "empty file: a header row is required"),
    ],
)
def test_a_file_that_is_not_such_a_table_is_one_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DiscoveryError, match=message):
        sample_table_file(path, source="x.csv", sample=100, tolerant=True)


def test_gzip_csv_and_jsonl_are_read_tolerantly_too(tmp_path: Path) -> None:
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(("\n".join([HEADER, *ROWS[:5], "张,1,2,3,4", *ROWS[5:]]) + "\n").encode("gb18030"))
    table = _scan(path)
    assert _skipped(table) == (1, ((7, "expected 3 columns, found 5"),))
    log = tmp_path / "access.jsonl"
    log.write_bytes(
        b'{"phone": "13812345678"}\nWARN logger restarted\n{"phone": "\xff"}\n'
        + '{"phone": "13912345678", "note": "家属"}\n'.encode("gbk")
        + b'{"phone": "13712345678"}\n{"phone": "1371'
    )
    table = _scan(log)
    assert _skipped(table) == (
        3,
        (
            (2, "invalid JSON (Expecting value)"),
            (3, "not UTF-8 or GB 18030 text"),
            (6, "invalid JSON (Unterminated string starting at)"),
        ),
    )
    assert sorted(_column(table, "phone")) == ["13712345678", "13812345678", "13912345678"]


def test_text_lines_pasted_in_another_encoding(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = [f"第{i}行 电话1381234{i:04d}".encode() for i in range(2000)]
    lines[1500] = "王五电话13912345678".encode("gbk")  # after the sniffed head
    lines[1600] = b"\xff\xfe broken"
    path.write_bytes(b"\n".join(lines) + b"\rlone carriage return\n")
    encoding = sniff_encoding(path)
    problems = RowProblems()
    read = dict(iter_lines(path, encoding=encoding, problems=problems))
    assert read[1501] == "王五电话13912345678"
    assert 1601 not in read
    assert (problems.count, problems.named) == (1, [(1601, "not UTF-8 or GB 18030 text")])
    assert read[2001] == "lone carriage return"  # lines are split as the strict reader splits them
    with pytest.raises(DiscoveryError, match="not valid utf-8 text"):
        list(iter_lines(path, encoding=encoding))  # without problems: strict, as redaction reads
    mostly_bad = tmp_path / "bad.txt"
    mostly_bad.write_bytes(b"fine\n" + b"\xff\xfe\n" * 5)
    with pytest.raises(DiscoveryError, match="malformed file at line 2: not UTF-8 or GB 18030 text; 5 of 6"):
        list(iter_lines(mostly_bad, encoding="utf-8", problems=RowProblems()))


def test_group_labels_above_the_header_but_never_a_data_row_as_header(tmp_path: Path) -> None:
    grouped = _csv(
        tmp_path / "grouped.csv", ["基本信息,,联系方式,", "姓名,身份证号,联系电话,地址", *(f"{r},上海" for r in ROWS)]
    )
    assert [c.name for c in _scan(grouped).columns] == ["姓名", "身份证号", "联系电话", "地址"]
    # Half the columns unnamed: the row below holds IDs and phone numbers, so it is data.
    unnamed = _csv(tmp_path / "unnamed.csv", ["姓名,身份证号,,", *(f"{r},上海" for r in ROWS)])
    table = _scan(unnamed)
    assert [c.name for c in table.columns] == ["姓名", "身份证号", "column_3", "column_4"]
    assert table.rows_total == 40


def test_a_gb18030_file_reads_its_short_lines_as_gb18030(tmp_path: Path) -> None:
    # b"\xd0\xa1" is 小 in GB 18030 and also valid UTF-8 (С): the file's own encoding goes first.
    path = tmp_path / "names.csv"
    path.write_bytes("姓名,备注\n小,无\n".encode("gb18030") + "王芳,pasted from a UTF-8 system\n".encode())
    assert table_encoding(path) == "gb18030"
    texts = [line.text for line in decoded_lines(path, "gb18030")]
    assert texts == ["姓名,备注\n", "小,无\n", "王芳,pasted from a UTF-8 system\n"]
