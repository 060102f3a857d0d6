"""Redaction of real exports: their encoding, line endings and quoting kept, strict about
malformed rows without leaving anything behind, and streamed (memory bounded by a batch)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pi_testvalues import resident_id

from piguard.discover.analyzer import Analyzer
from piguard.discover.names import HEADERLESS_NOTE
from piguard.discover.redact import Redactor, RedactStats, redact_file
from piguard.discover.sources.rows import json_array_items
from piguard.errors import DiscoveryError, InputError

IDS = [resident_id("110105", f"19{30 + i:02d}0512", f"{i:03d}") for i in range(30)]
PHONES = [f"1381234{i:04d}" for i in range(30)]
NAMES = ["张建国", "王淑芬", "李秀英", "刘德华", "陈美玲", "赵敏"]


def _redact(src: Path, out: Path, analyzer: Analyzer, policy: str = "mask", **kw: int) -> RedactStats:
    return redact_file(src, out, analyzer=analyzer, redactor=Redactor(policy), **kw)


def _register(ending: str = "\r\n") -> str:
    """A death register as Excel on Chinese Windows exports it: a title row, CRLF, a quoted
    cell holding the delimiter, a remark with a phone number in some rows."""
    lines = ["死亡患者登记表,,,,", "住院号,姓名,身份证号,联系电话,备注"]
    for i in range(30):
        remark = f'"家属李秀英代办, 电话1391234{i:04d}"' if i % 3 == 0 else '"已结算, 无欠费"'
        lines.append(f"ZY{i:05d},{NAMES[i % 6]},{IDS[i]},{PHONES[i]},{remark}")
    return ending.join(lines) + ending


def test_gb18030_export_is_redacted_in_gb18030_keeping_crlf_title_and_quotes(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    src = tmp_path / "register.csv"
    src.write_bytes(_register().encode("gb18030"))
    out = tmp_path / "out.csv"
    stats = _redact(src, out, analyzer)
    raw = out.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # written as the hospital's tools read it, not converted
    text = raw.decode("gb18030")
    lines = text.split("\r\n")
    assert text.count("\r\n") == 32 and "\n" not in text.replace("\r\n", "")
    assert lines[:2] == ["死亡患者登记表,,,,", "住院号,姓名,身份证号,联系电话,备注"]
    assert lines[2] == f'ZY00000,张建国,{"*" * 14}{IDS[0][-4:]},*******0000,"家属李秀英代办, 电话*******0000"'
    assert lines[3] == f'ZY00001,王淑芬,{"*" * 14}{IDS[1][-4:]},*******0001,"已结算, 无欠费"'
    assert stats.rows == 30
    assert {(c.column, c.entity) for c in stats.columns if c.kind == "values"} == {
        ("身份证号", "CN_RESIDENT_ID"),
        ("联系电话", "CN_MOBILE"),
    }
    assert not any(i in text for i in IDS) and not any(p in text for p in PHONES)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert all(len(row) == 5 for row in rows[1:-1])  # the masked remarks are still one cell


def test_utf8_bom_and_utf16_are_kept(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "bom.csv"
    src.write_bytes(codecs.BOM_UTF8 + _register("\n").encode("utf-8"))
    _redact(src, tmp_path / "bom.out.csv", analyzer)
    raw = (tmp_path / "bom.out.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and b"\r\n" not in raw
    assert raw.decode("utf-8-sig").splitlines()[0] == "死亡患者登记表,,,,"
    # Excel's "Unicode text": UTF-16 with its BOM, tab-separated, here big-endian.
    tsv = tmp_path / "unicode.tsv"
    body = "姓名\t联系电话\r\n" + "".join(f"{NAMES[i % 6]}\t{PHONES[i]}\r\n" for i in range(12))
    tsv.write_bytes(codecs.BOM_UTF16_BE + body.encode("utf-16-be"))
    _redact(tsv, tmp_path / "unicode.out.tsv", analyzer)
    raw = (tmp_path / "unicode.out.tsv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF16_BE)
    assert raw[2:].decode("utf-16-be").splitlines()[:2] == ["姓名\t联系电话", "张建国\t*******0000"]


def test_a_gbk_line_that_is_also_valid_utf8_is_written_back_unchanged(tmp_path: Path, analyzer: Analyzer) -> None:
    # GBK 小 (D0 A1) is also UTF-8 for a Cyrillic letter: read as the file's encoding first.
    src = tmp_path / "short.csv"
    rows = [f"{NAMES[i % 6]},{PHONES[i]}" for i in range(12)] + ["小,-"]
    src.write_bytes(("姓名,联系电话\n" + "\n".join(rows) + "\n").encode("gb18030"))
    assert "小,-\n".encode("gb18030").decode("utf-8") == "С,-\n"
    _redact(src, tmp_path / "out.csv", analyzer)
    assert (tmp_path / "out.csv").read_bytes().endswith("小,-\n".encode("gb18030"))


def test_encoding_is_judged_past_an_ascii_head_and_pasted_lines_are_converted(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    # 9 KB of ASCII rows, then Chinese in GB 18030: the copy is GB 18030 too.
    late = tmp_path / "late.csv"
    rows = [f"{i},{PHONES[i % 30]},ok" for i in range(400)] + [f"400,{PHONES[0]},家属已知悉"]
    late.write_bytes(("id,phone,note\n" + "\n".join(rows) + "\n").encode("gb18030"))
    _redact(late, tmp_path / "late.out.csv", analyzer)
    assert (tmp_path / "late.out.csv").read_bytes().endswith("400,*******0000,家属已知悉\n".encode("gb18030"))
    # A UTF-8 log with one line pasted from a GBK system: read, and written in UTF-8.
    log = tmp_path / "app.log"
    lines = [f"第{i}行 电话{PHONES[i % 30]}\n".encode() for i in range(50)]
    lines[20] = f"家属电话{PHONES[5]} 张三\n".encode("gb18030")
    log.write_bytes(b"".join(lines))
    stats = _redact(log, tmp_path / "app.out.log", analyzer)
    assert stats.values_changed == 50
    assert (tmp_path / "app.out.log").read_text(encoding="utf-8").splitlines()[20] == "家属电话*******0005 张三"


def _only_input_left(folder: Path, *names: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # no output, no temporary file


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("extra.csv", f"{NAMES[0]},{PHONES[0]},多余", "malformed file at line 22: expected 2 columns, found 3"),
        ("quote.csv", f'"{NAMES[0]},{PHONES[0]}', "malformed file at line 22: unbalanced quote"),
        ("bytes.csv", b"\xff\xfe\xfd,\xff", "malformed file at line 22: not UTF-8 or GB 18030 text"),
        ("nul.csv", f"{NAMES[0]}\x00,{PHONES[0]}", "malformed file at line 22: NUL byte in the row"),
    ],
)
def test_a_malformed_row_stops_redaction_naming_file_line_and_reason_and_leaves_nothing(
    tmp_path: Path, analyzer: Analyzer, name: str, bad: str | bytes, message: str
) -> None:
    # The sample passes over the bad row (as a scan does); the redaction reaches it after
    # writing 20 rows, and stops: a copy without that row, or with it in clear, is no copy.
    rows = [f"{NAMES[i % 6]},{PHONES[i]}".encode() for i in range(30)]
    rows[20] = bad if isinstance(bad, bytes) else bad.encode()
    src = tmp_path / name
    src.write_bytes(b"name,phone\n" + b"\n".join(rows) + b"\n")
    with pytest.raises(InputError) as raised:
        _redact(src, tmp_path / "out.csv", analyzer)
    assert str(raised.value) == f"{src}: {message}"
    assert not any(v in str(raised.value) for v in (*PHONES, *NAMES))
    _only_input_left(tmp_path, name)


def test_a_failure_keeps_the_previous_output_and_other_formats_stop_alike(tmp_path: Path, analyzer: Analyzer) -> None:
    jsonl = tmp_path / "rows.jsonl"
    lines = [json.dumps({"phone": p}) for p in PHONES]
    lines[25] = '{"phone": "13812345678"'
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rows.jsonl: malformed file at line 26: invalid JSON \(Expecting"):
        _redact(jsonl, out, analyzer)
    assert out.read_text(encoding="utf-8") == "previous\n"  # replaced only by a whole copy
    text = tmp_path / "notes.txt"
    text.write_bytes(b"".join(f"第{i}行 {PHONES[i]}\n".encode() for i in range(30)) + b"\xff\xfe bad\n")
    with pytest.raises(InputError, match=r"notes.txt: malformed file at line 31: not UTF-8 or GB 18030 text"):
        _redact(text, tmp_path / "notes.out.txt", analyzer)
    array = tmp_path / "items.json"
    array.write_text(json.dumps([{"phone": p} for p in PHONES])[:-1] + ', "13812345678"]', encoding="utf-8")
    with pytest.raises(InputError, match=r"items.json: malformed file at item 30: expected a JSON object"):
        _redact(array, tmp_path / "items.out.json", analyzer)
    _only_input_left(tmp_path, "rows.jsonl", "out.jsonl", "notes.txt", "items.json")


def test_output_is_private_whatever_the_umask(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "d.csv"
    src.write_text("phone\n" + "\n".join(PHONES) + "\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    previous = os.umask(0o022)
    try:
        _redact(src, tmp_path / "out" / "d.csv", analyzer)
    finally:
        os.umask(previous)
    assert (tmp_path / "out" / "d.csv").stat().st_mode & 0o777 == 0o600


def test_changed_cells_are_quoted_as_csv_needs_and_unchanged_rows_are_kept_verbatim(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    src = tmp_path / "notes.csv"
    rows = [f'"r{i}","{PHONES[i]}",  "无"  ' for i in range(12)]  # odd but valid spacing, kept
    rows.append(f'"r12","{PHONES[12]}","家属电话{PHONES[13]},\r\n请回电"')  # a cell over two lines
    rows.append('"r13","","没有电话"')
    src.write_bytes(('"id","phone","note"\r\n' + "\r\n".join(rows) + "\r\n").encode())
    out = tmp_path / "out.csv"
    _redact(src, out, analyzer)
    text = out.read_bytes().decode()
    # Every field quoted, as in the input; the masked multi-line cell stays one quoted cell.
    assert '"r12","*******0012","家属电话*******0013,\r\n请回电"\r\n' in text
    assert text.endswith('"r13","","没有电话"\r\n')
    with out.open(encoding="utf-8", newline="") as handle:
        parsed = list(csv.reader(handle))
    assert [len(r) for r in parsed] == [3] * 15


def test_a_header_holding_pi_is_redacted_and_noted_without_the_value(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "headless.csv"  # no header: the first row is data
    src.write_text("\n".join(f"{PHONES[i]},{IDS[i]}" for i in range(30)) + "\n", encoding="utf-8")
    stats = _redact(src, tmp_path / "out.csv", analyzer)
    first = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"*******0000,{'*' * 14}{IDS[0][-4:]}"
    # The first row is read as data (as the scan reads it): columns column_1, column_2.
    assert stats.notes == [HEADERLESS_NOTE]
    assert stats.rows == 30
    assert {c.column for c in stats.columns if c.kind == "values"} == {"column_1", "column_2"}
    shown = " ".join(c.column for c in stats.columns)  # what the summary names
    assert PHONES[0] not in shown and IDS[0] not in shown


def test_jsonl_unchanged_lines_are_verbatim_and_changed_ones_keep_their_style(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    src = tmp_path / "log.jsonl"
    lines = [
        json.dumps({"ts": f"2024-03-0{1 + i % 9}", "user": {"phone": PHONES[i], "ok": True}, "n": None})
        for i in range(12)
    ]
    lines += ['{"ts":"2024-03-09","msg":"无异常"}'] * 8
    lines.append(json.dumps({"msg": f"回电{PHONES[20]}", "tags": ["a", 1.5]}))  # \u escapes, spaced
    src.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    _redact(src, tmp_path / "out.jsonl", analyzer)
    out = (tmp_path / "out.jsonl").read_bytes().decode().split("\r\n")
    assert out[0] == '{"ts": "2024-03-01", "user": {"phone": "*******0000", "ok": true}, "n": null}'
    assert out[12:20] == ['{"ts":"2024-03-09","msg":"无异常"}'] * 8
    assert out[20:] == ['{"msg": "\\u56de\\u7535*******0020", "tags": ["a", 1.5]}', ""]


def test_json_array_is_read_item_by_item_and_keeps_its_indentation(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "people.json"
    items = [{"name": NAMES[i % 6], "phone": PHONES[i], "ids": [IDS[i]], "n": None} for i in range(12)]
    src.write_text(json.dumps(items, ensure_ascii=False, indent=2) + "\n", encoding="gb18030")
    stats = _redact(src, tmp_path / "out.json", analyzer, policy="remove")
    text = (tmp_path / "out.json").read_bytes().decode("gb18030")
    expected = [{"name": NAMES[i % 6], "phone": None, "ids": [None], "n": None} for i in range(12)]
    assert text == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    assert stats.rows == 12


def test_json_array_reader_errors_name_the_place(tmp_path: Path) -> None:
    def items(text: str, **kw: int) -> list[dict[str, object]]:
        path = tmp_path / "a.json"
        path.write_text(text, encoding="utf-8")
        return list(json_array_items(path, encoding="utf-8", **kw))

    assert items(" [ ] ") == []
    assert items('[{"a": "' + "x" * 200_000 + '"}, {"b": 1}]')[1] == {"b": 1}  # over read chunks
    with pytest.raises(DiscoveryError, match=r"^malformed file at line 3: invalid JSON \(Expecting"):
        items('[{"a": 1},\n{"a": 2},\n{"a": }]')
    with pytest.raises(DiscoveryError, match=r"^expected a JSON array of objects$"):
        items('{"a": 1}')
    with pytest.raises(DiscoveryError, match=r"^malformed file at line 1: invalid JSON \(Extra data\)"):
        items('[{"a": 1}] [')
    with pytest.raises(DiscoveryError, match=r"^malformed file at item 1: item larger than 1000 characters"):
        items('[{"a": 1}, {"a": "' + "x" * 5000 + '"}]', max_item_chars=1000)


def _peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_parquet_is_redacted_batch_by_batch_keeping_row_groups_schema_and_codec(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    def parquet(rows: int) -> Path:
        path = tmp_path / f"p{rows}.parquet"
        table = pa.table(
            {"lxdh": pa.array([13800000000 + i for i in range(rows)], pa.int64()), "ok": [True] * rows},
            schema=pa.schema(
                [pa.field("lxdh", pa.int64(), nullable=False), pa.field("ok", pa.bool_())], metadata={b"k": b"v"}
            ),
        )
        pq.write_table(table, path, row_group_size=rows // 4, compression="zstd")
        return path

    def redact(path: Path) -> Path:
        out = path.with_suffix(".out.parquet")
        _redact(path, out, analyzer, policy="remove")
        return out

    redact(parquet(400))  # imports and first-use allocations out of the measure
    small, large = parquet(20_000), parquet(80_000)
    peaks = [_peak(lambda p=p: redact(p)) for p in (small, large)]  # type: ignore[misc]
    whole_column = _peak(lambda: pq.read_table(large).column("lxdh").to_pylist())
    # Four times the rows, about the same memory: bounded by a batch, not by the file.
    assert peaks[1] < 1.5 * peaks[0]
    assert peaks[1] < whole_column / 2
    out = pq.ParquetFile(large.with_suffix(".out.parquet"))
    meta = out.metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [20_000] * 4
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert out.schema_arrow.field("lxdh").type == pa.int64()  # removed: nulls of the old type
    assert out.schema_arrow.metadata == {b"k": b"v"}
    assert out.read().column("lxdh").null_count == 80_000


def test_json_array_memory_does_not_grow_with_the_file(tmp_path: Path, analyzer: Analyzer) -> None:
    def array(n: int) -> Path:
        path = tmp_path / f"a{n}.json"
        note = "家属已知悉，无特殊情况。" * 40
        path.write_text(json.dumps([{"phone": PHONES[i % 30], "note": note} for i in range(n)], ensure_ascii=False))
        return path

    def redact(path: Path) -> None:
        _redact(path, path.with_suffix(".out.json"), analyzer, policy="remove", sample=100)

    redact(array(20))
    small, large = array(1000), array(4000)
    peaks = [_peak(lambda p=p: redact(p)) for p in (small, large)]  # type: ignore[misc]
    assert peaks[1] < 1.5 * peaks[0]
    assert peaks[1] < large.stat().st_size / 2
    assert json.loads(large.with_suffix(".out.json").read_text(encoding="utf-8"))[3999]["phone"] is None


def test_parquet_types_nulls_nested_columns_and_a_number_column_holding_a_phone(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    n = 30
    src = tmp_path / "p.parquet"
    table = pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            # Not flagged by the sample (one value of 30 is a phone): found while writing.
            "misc": pa.array([13912345678 if i == 29 else i for i in range(n)], pa.int64()),
            "lxdh": pa.array([13800000000 + i if i % 3 else None for i in range(n)], pa.int64()),
            "person": [{"name": NAMES[i % 6], "sfzh": IDS[i]} for i in range(n)],
            "attrs": pa.array([[("电话", PHONES[i])] for i in range(n)], pa.map_(pa.string(), pa.string())),
            "blob": [b"raw"] * n,
        }
    )
    pq.write_table(table, src, row_group_size=10)
    stats = _redact(src, tmp_path / "o.parquet", analyzer, sample=20)
    out = pq.read_table(tmp_path / "o.parquet")
    assert out.schema.field("id").type == pa.int64()
    assert out.schema.field("lxdh").type == pa.string()
    assert out.schema.field("misc").type == pa.string()
    assert out.schema.field("attrs").type == pa.map_(pa.string(), pa.string())
    got = out.to_pylist()
    assert [r["lxdh"] for r in got[:3]] == [None, "*******0001", "*******0002"]
    assert got[29]["misc"] == "*******5678" and got[28]["misc"] == "28"
    assert got[0]["person"] == {"name": "张建国", "sfzh": f"{'*' * 14}{IDS[0][-4:]}"}
    assert got[0]["attrs"] == [("电话", "*******0000")]  # a map's keys are kept
    assert got[0]["blob"] == b"raw"
    assert (tmp_path / "o.parquet").stat().st_mode & 0o777 == 0o600
    assert stats.rows == n
    assert stats.notes == [
        "Parquet column misc was int64, is now string: its redacted values are text",
        "Parquet column lxdh was int64, is now string: its redacted values are text",
    ]
    notes = " ".join(stats.notes)
    assert not any(v in notes for v in ("13912345678", *PHONES, *IDS))


def test_gzip_csv_stays_gzip_and_gb18030(tmp_path: Path, analyzer: Analyzer) -> None:
    import gzip

    src = tmp_path / "register.csv.gz"
    src.write_bytes(gzip.compress(_register().encode("gb18030")))
    _redact(src, tmp_path / "out.csv.gz", analyzer)
    text = gzip.decompress((tmp_path / "out.csv.gz").read_bytes()).decode("gb18030")
    assert text.split("\r\n")[3] == f'ZY00001,王淑芬,{"*" * 14}{IDS[1][-4:]},*******0001,"已结算, 无欠费"'
    _redact(src, tmp_path / "plain.csv", analyzer)  # compressed as OUT is named
    assert (tmp_path / "plain.csv").read_bytes().decode("gb18030") == text


def test_semicolon_csv_whose_every_row_quotes_a_semicolon(tmp_path: Path, analyzer: Analyzer) -> None:
    # Excel's ";" CSV: the delimiter is sniffed outside quoted cells, where "a;b" is data.
    src = tmp_path / "semi.csv"
    rows = [f'r{i};{PHONES[i]};"a;b"' for i in range(12)]
    src.write_text("id;phone;note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _redact(src, tmp_path / "out.csv", analyzer)
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["id;phone;note", 'r0;*******0000;"a;b"']


def test_utf16_text_and_json_are_read_and_written_in_utf16(tmp_path: Path, analyzer: Analyzer) -> None:
    # UTF-16 text is half NUL bytes: its BOM makes it text, not binary (the scan reads it too).
    notes = tmp_path / "notes.txt"
    notes.write_bytes(codecs.BOM_UTF16_LE + f"电话{PHONES[0]}\r\n无\r\n".encode("utf-16-le"))
    _redact(notes, tmp_path / "notes.out.txt", analyzer)
    assert (tmp_path / "notes.out.txt").read_bytes() == codecs.BOM_UTF16_LE + "电话*******0000\r\n无\r\n".encode(
        "utf-16-le"
    )
    array = tmp_path / "people.json"
    items = [{"name": NAMES[i % 6], "phone": PHONES[i]} for i in range(12)]
    pretty = json.dumps(items, ensure_ascii=False, indent=4).replace("\n", "\r\n") + "\r\n"
    array.write_bytes(codecs.BOM_UTF16_LE + pretty.encode("utf-16-le"))
    _redact(array, tmp_path / "people.out.json", analyzer)
    masked = [{"name": NAMES[i % 6], "phone": f"*******{i:04d}"} for i in range(12)]
    expected = json.dumps(masked, ensure_ascii=False, indent=4).replace("\n", "\r\n") + "\r\n"
    assert (tmp_path / "people.out.json").read_bytes() == codecs.BOM_UTF16_LE + expected.encode("utf-16-le")
