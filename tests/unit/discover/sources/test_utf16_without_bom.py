"""UTF-16 text without a byte order mark (LE or BE) is read as text, not skipped as binary: partly
ASCII text by its NUL bytes, almost all-Chinese text by what it decodes to; real binaries
(PNG, ZIP, SQLite, PDF, gzip) stay binary."""

from __future__ import annotations

import gzip
import io
import sqlite3
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.redact import Redactor, redact_file
from piguard.discover.scanner import scan_paths
from piguard.discover.sources.text import bomless_utf16, chinese_utf16, sniff_encoding

PHONE = "13812345678"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_text_and_csv_are_scanned(tmp_path: Path, analyzer: Analyzer, codec: str) -> None:
    (tmp_path / "notes.txt").write_bytes(f"电话{PHONE}\nnothing here\n".encode(codec))
    (tmp_path / "t.csv").write_bytes(f"name,phone\nzhang,{PHONE}\nli,13912345678\n".encode(codec))
    result = scan_paths([tmp_path], analyzer=analyzer)
    assert result.skipped == []
    assert [(f.source.endswith("notes.txt"), f.line, f.entity) for f in result.findings] == [(True, 1, "CN_MOBILE")]
    assert [(c.column, c.entity) for c in result.columns] == [("phone", "CN_MOBILE")]


def test_redaction_keeps_the_encoding(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "t.csv"
    src.write_bytes(f"name,phone\nzhang,{PHONE}\n".encode("utf-16-le"))
    redact_file(src, tmp_path / "out.csv", analyzer=analyzer, redactor=Redactor("mask"))
    assert (tmp_path / "out.csv").read_bytes() == "name,phone\nzhang,*******5678\n".encode("utf-16-le")


def test_binary_with_nuls_is_still_binary() -> None:
    assert bomless_utf16(bytes(range(256)) * 4) is None
    assert bomless_utf16(b"\x00" * 64) is None
    assert bomless_utf16("abc,123\n".encode("utf-16-le")) == "utf-16-le"
    assert bomless_utf16("abc,123\n".encode("utf-16-be")) == "utf-16-be"


# Text that is almost all Chinese (full-width digits and punctuation as Chinese documents write
# them): in UTF-16 it has a NUL byte only at line breaks and in characters such as 一 (00 4E).
NOTES = (
    "死者张建国，男，一九五〇年三月七日出生，家住闵行区莘庄镇。\n"
    "家属王秀英到场，联系电话：１３８１２３４５６７８。\n"
    "一位值班医生确认死亡，遗体已转运至殡仪馆，家属已签字。\n"
)
NOTES_TRADITIONAL = (
    "死者張建國，家屬王秀英到場，聯繫電話：１３８１２３４５６７８。\n醫生確認死亡，遺體已轉運至殯儀館。\n"
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    ("text", "line"),
    [(NOTES, 2), (NOTES_TRADITIONAL, 1), (NOTES.replace("\n", ""), 1)],
    ids=["zh", "zh-hant", "one-line"],
)
def test_chinese_text_without_ascii_is_scanned(
    tmp_path: Path, analyzer: Analyzer, codec: str, text: str, line: int
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(text.encode(codec))
    assert sniff_encoding(path, tolerant=True) == codec
    result = scan_paths([path], analyzer=analyzer)
    assert result.skipped == []
    assert [(f.entity, f.line) for f in result.findings] == [("CN_MOBILE", line)]


def test_chinese_text_with_few_line_breaks_in_the_ascii_range(tmp_path: Path, analyzer: Analyzer) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(NOTES.encode("utf-16-le"))
    result = scan_paths([path], analyzer=analyzer)
    assert [(f.entity, f.line) for f in result.findings] == [("CN_MOBILE", 2)]
    # A few NUL bytes only (line breaks, 一): far from the 20% of pairs the ASCII rule needs.
    head = NOTES.encode("utf-16-le")
    assert head.count(0) < 0.05 * len(head) and chinese_utf16(head) == "utf-16-le"


def test_chinese_csv_without_bom(tmp_path: Path, analyzer: Analyzer) -> None:
    rows = "姓名，备注\n" + "".join(
        f"张{'一二三四五六七八九'[i % 9]}，家属电话：１３８１２３４５６７{i % 10}\n" for i in range(40)
    )
    table = "姓名,联系电话,备注\n" + "".join(f"张建国,1381234567{i % 10},一位家属到场\n" for i in range(40))
    (tmp_path / "contacts.csv").write_bytes(table.encode("utf-16-be"))
    (tmp_path / "remarks.txt").write_bytes(rows.encode("utf-16-be"))
    result = scan_paths([tmp_path], analyzer=analyzer)
    assert result.skipped == []
    assert [(c.column, c.entity) for c in result.columns] == [("联系电话", "CN_MOBILE")]
    assert len(result.findings) == 40


def test_redacting_chinese_utf16_keeps_it_bomless(tmp_path: Path, analyzer: Analyzer) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(NOTES.encode("utf-16-be"))
    redact_file(src, tmp_path / "out.txt", analyzer=analyzer, redactor=Redactor("mask"))
    out = (tmp_path / "out.txt").read_bytes()
    assert not out.startswith(b"\xfe\xff")
    assert out.decode("utf-16-be") == NOTES.replace("１３８１２３４", "*******")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + bytes((x * 7 + y) % 256 for x in range(96)) for y in range(32))
    header = struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def _zip(method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("notes.txt", (NOTES * 20).encode("utf-16-le"))  # UTF-16 Chinese inside
    return buffer.getvalue()


def _sqlite(tmp_path: Path) -> bytes:
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA encoding = 'UTF-16le'")  # its text is stored as UTF-16 Chinese
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.executemany("INSERT INTO notes VALUES (?)", [(line,) for line in NOTES.splitlines()] * 50)
    conn.commit()
    conn.close()
    return path.read_bytes()


def _pdf() -> bytes:
    stream = zlib.compress((NOTES * 20).encode("utf-16-be"))
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\n"
        b"stream\n" + stream + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


@pytest.mark.parametrize("kind", ["png", "zip-stored", "zip-deflated", "sqlite", "pdf", "gzip"])
def test_binaries_are_not_taken_for_chinese_utf16(tmp_path: Path, analyzer: Analyzer, kind: str) -> None:
    data = {
        "png": _png,
        "zip-stored": lambda: _zip(zipfile.ZIP_STORED),
        "zip-deflated": lambda: _zip(zipfile.ZIP_DEFLATED),
        "sqlite": lambda: _sqlite(tmp_path),
        "pdf": _pdf,
        "gzip": lambda: gzip.compress((NOTES * 20).encode("utf-16-le"), mtime=0),
    }[kind]()
    assert bomless_utf16(data[:8192]) is None and chinese_utf16(data[:8192]) is None
    # Named without their extension, so that only the content can tell.
    path = tmp_path / "export" / "attachment_0001"
    path.parent.mkdir()
    path.write_bytes(data)
    result = scan_paths([path.parent], analyzer=analyzer)
    assert result.files_scanned == 0 and result.findings == []
    assert [s.reason.split(" ")[0] for s in result.skipped] in (["binary"], ["not"])


@pytest.mark.parametrize(
    "data",
    [
        # ASCII and Latin-1 read two bytes at a time give ideographs, but a third of them rare.
        ("Patient notes: next of kin informed, body released to the funeral home. " * 60).encode("latin-1"),
        ("Café résumé naïve façade élève déjà vu, garçon à la crème brûlée. " * 60).encode("latin-1"),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" * 150,
        # UTF-8 and GB 18030 Chinese.
        (NOTES * 20).encode("utf-8"),
        (NOTES * 20).encode("gb18030"),
    ],
    ids=["ascii", "latin-1", "pdf-head", "utf-8", "gb18030"],
)
def test_other_text_is_not_chinese_utf16(data: bytes) -> None:
    assert chinese_utf16(data[:8192]) is None


# Characters whose UTF-16 code unit holds a zero byte: 一 U+4E00, 开 U+5F00, 最 U+6700,
# 需 U+9700, 退 U+9000, 言 U+8A00, 销 U+9500 (audit M7).
ZERO_BYTE_LINE = "2024-07-12 10:00:00 INFO dispatch id=0 caller=13812340000 action=开单 result=一次通过\n"
ZERO_BYTE_WORDS = "2024-07-12 10:00:01 WARN 最需退言销 caller=13812340000 一开\n"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("line", [ZERO_BYTE_LINE, ZERO_BYTE_WORDS], ids=["dispatch", "words"])
def test_ascii_and_chinese_with_zero_bytes_is_text(tmp_path: Path, analyzer: Analyzer, codec: str, line: str) -> None:
    path = tmp_path / "app_le.log"
    path.write_bytes((line * 300).encode(codec))
    assert sniff_encoding(path, tolerant=True) == codec
    result = scan_paths([path], analyzer=analyzer)
    assert result.skipped == []
    assert len(result.findings) == 300 and {f.entity for f in result.findings} == {"CN_MOBILE"}
    out = tmp_path / "out.log"
    redact_file(path, out, analyzer=analyzer, redactor=Redactor("mask"))
    assert "13812340000" not in out.read_bytes().decode(codec)


def test_nuls_in_both_bytes_of_a_binary_are_still_binary() -> None:
    # Records of little-endian integers: NULs in both positions, decoding to controls and rare code points.
    data = b"".join(struct.pack("<IIH", i, i * 7, 65) + b"ab" for i in range(800))
    assert bomless_utf16(data[:8192]) is None
    assert bomless_utf16(bytes(range(256)) * 16) is None
