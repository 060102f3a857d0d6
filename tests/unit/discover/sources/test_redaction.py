"""Redaction: text per finding, tables column-aware, format preserved, nothing partial on failure."""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pi_testvalues import resident_id

from piguard.discover.analyzer import Analyzer
from piguard.discover.redact import Redactor, mask_value, redact_file, redact_text
from piguard.errors import ConfigError, InputError

KEY = bytes(range(100, 132))
ID = resident_id("110105", "19240229", "013")
PHONE = "13812345678"


def test_mask_policy_per_entity() -> None:
    assert mask_value(PHONE, "CN_MOBILE") == "*******5678"
    assert mask_value("张三丰", "PERSON") == "张**"
    assert mask_value("zs@example.com", "EMAIL") == "z*@example.com"
    assert mask_value("1931-05-07", "DATE_OF_BIRTH") == "****-**-**"
    assert mask_value("上海市闵行区", "ADDRESS") == "******"


def test_redact_text_replaces_right_spans(analyzer: Analyzer) -> None:
    line = f"身份证{ID}，电话{PHONE}。"
    masked, count = redact_text(line, analyzer=analyzer, redactor=Redactor("mask"))
    assert count == 2
    assert masked == f"身份证{'*' * 14}{ID[-4:]}，电话*******5678。"
    removed, _ = redact_text(line, analyzer=analyzer, redactor=Redactor("remove"))
    assert removed == "身份证[CN_RESIDENT_ID]，电话[CN_MOBILE]。"
    hashed, _ = redact_text(line, analyzer=analyzer, redactor=Redactor("hash"))
    assert hashlib.sha256(PHONE.encode()).hexdigest() in hashed


def test_pseudonyms_are_keyed_and_stable(analyzer: Analyzer) -> None:
    redactor = Redactor("pseudonym", key=KEY)
    expected = hmac.new(KEY, b"CN_MOBILE\x00" + PHONE.encode(), hashlib.sha256).hexdigest()[:16]
    out, _ = redact_text(f"电话{PHONE}", analyzer=analyzer, redactor=redactor)
    assert out == f"电话CN_MOBILE_{expected}"
    with pytest.raises(ConfigError):
        Redactor("pseudonym")
    with pytest.raises(InputError):
        Redactor("shred")


def test_text_file_keeps_line_endings_and_encoding(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(f"电话{PHONE}\r\n无\r\n最后{ID}".encode("gb18030"))
    out = tmp_path / "out.txt"
    stats = redact_file(src, out, analyzer=analyzer, redactor=Redactor("mask"))
    assert (stats.rows, stats.findings) == (3, 2)
    text = out.read_bytes().decode("gb18030")
    assert text == f"电话*******5678\r\n无\r\n最后{'*' * 14}{ID[-4:]}"


def test_csv_is_column_aware(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "deaths.csv"
    rows = [f"r{i},1391234{i:04d},{ID},病情稳定" for i in range(20)]
    # A mistyped phone (one digit short) in the phone column is masked with its column.
    rows.append(f"r20,1391234567,,家属电话{PHONE}请回电")
    src.write_text("id,lxdh,sfzh,备注\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    stats = redact_file(src, out, analyzer=analyzer, redactor=Redactor("mask"))
    assert {(c.column, c.entity, c.kind) for c in stats.columns} == {
        ("lxdh", "CN_MOBILE", "values"),
        ("sfzh", "CN_RESIDENT_ID", "values"),
        ("备注", "CN_MOBILE", "free_text"),
    }
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,lxdh,sfzh,备注"
    assert lines[1] == f"r0,*******0000,{'*' * 14}{ID[-4:]},病情稳定"
    assert lines[-1] == "r20,******4567,,家属电话*******5678请回电"
    assert ID not in out.read_text(encoding="utf-8")


def test_jsonl_nested_and_gzip(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "r.jsonl.gz"
    rows = [{"id": i, "relative": {"phone": f"1371234{i:04d}", "rel": "子"}, "n": None} for i in range(12)]
    with gzip.open(src, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    out = tmp_path / "o.jsonl.gz"
    redact_file(src, out, analyzer=analyzer, redactor=Redactor("pseudonym", key=KEY))
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        got = [json.loads(line) for line in handle]
    assert [r["id"] for r in got] == list(range(12))
    assert all(r["relative"]["phone"].startswith("CN_MOBILE_") for r in got)
    assert got[0]["relative"]["rel"] == "子"
    assert len({r["relative"]["phone"] for r in got}) == 12


def test_parquet_keeps_other_columns_types(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "p.parquet"
    pq.write_table(pa.table({"n": list(range(15)), "mobile": [f"1501234{i:04d}" for i in range(15)]}), src)
    out = tmp_path / "o.parquet"
    redact_file(src, out, analyzer=analyzer, redactor=Redactor("remove"))
    table = pq.read_table(out)
    assert table.column_names == ["n", "mobile"]
    assert pa.types.is_integer(table.schema.field("n").type)
    assert table.column("n").to_pylist() == list(range(15))
    assert table.column("mobile").null_count == 15


def test_bad_requests_write_nothing(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "a.csv"
    src.write_text(f"phone\n{PHONE}\n")
    with pytest.raises(InputError, match="format"):
        redact_file(src, tmp_path / "a.jsonl", analyzer=analyzer, redactor=Redactor("mask"))
    with pytest.raises(InputError, match="must not be the input"):
        redact_file(src, src, analyzer=analyzer, redactor=Redactor("mask"))
    bad = tmp_path / "bad.csv"
    bad.write_text(f"phone\n{PHONE}\n1,2\n")
    with pytest.raises(InputError, match=r"bad.csv: malformed file at line 3: expected 1 columns"):
        redact_file(bad, tmp_path / "out.csv", analyzer=analyzer, redactor=Redactor("mask"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "bad.csv"]


def test_batched_analysis_redacts_exactly_as_one_value_at_a_time(tmp_path: Path, full_analyzer: Analyzer) -> None:
    # Tables go to the name tagger in batches of rows; the result must not depend on the batch.
    from piguard.discover.redact.common import CHUNK_ROWS

    notes = [
        "家属张桂兰已到场，联系电话13912345678。",
        "患者家住上海市闵行区莘庄镇莘松路380号，由救护车送达。",
        "无特殊情况。",
        "由王建国医生确认死亡。",
        "Next of kin: Margaret O'Brien, 12 Harbour Road.",
    ] * 130  # more than one batch, repeated values included
    source = tmp_path / "notes.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "beizhu"], *([i, n] for i, n in enumerate(notes))])
    batched = tmp_path / "batched.csv"
    redact_file(source, batched, analyzer=full_analyzer, redactor=Redactor("mask"))
    one_by_one = [redact_text(n, analyzer=full_analyzer, redactor=Redactor("mask"))[0] for n in dict.fromkeys(notes)]
    expected = dict(zip(dict.fromkeys(notes), one_by_one, strict=True))
    with batched.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [row[1] for row in rows] == [expected[n] for n in notes]
    assert len(notes) > CHUNK_ROWS and "张**" in expected[notes[0]] and "5678" in expected[notes[0]]
