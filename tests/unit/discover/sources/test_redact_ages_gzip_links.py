"""Fixes from the outside audit of discovery and redaction: every age masked in text (adults'
too), JSON objects with a repeated key refused, file links out of a scanned directory not
followed, gzip-compressed text scanned and redacted."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.redact import Redactor, redact_file, redact_text
from piguard.discover.redact.ages import adult_ages
from piguard.discover.scanner import OUTSIDE_LINK, scan_paths
from piguard.errors import InputError

PHONE = "13812345678"
DEATHS = "死者李淑珍，女，87岁，因心力衰竭死亡。\n患儿刘洋，男，6岁，因肺炎死亡。\n"


@pytest.fixture(scope="module")
def minors() -> Analyzer:
    """Ages and identifiers only (no name tagger: fast)."""
    return Analyzer(entities=["MINOR_UNDER_14", "CN_MOBILE"])


# --- D3: every age in text is masked, not only children's --------------------------------


def test_text_file_masks_the_adults_age_like_the_childs(tmp_path: Path, full_analyzer: Analyzer) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text(DEATHS, encoding="utf-8")
    redact_file(src, out, analyzer=full_analyzer, redactor=Redactor("mask"))
    adult, child = out.read_text(encoding="utf-8").splitlines()
    assert "87" not in adult and "女，***，" in adult
    assert "6岁" not in child and "男，***，" in child


def test_scan_still_reports_only_childrens_ages(tmp_path: Path, minors: Analyzer) -> None:
    src = tmp_path / "in.txt"
    src.write_text(DEATHS, encoding="utf-8")
    result = scan_paths([src], analyzer=minors)
    ages = [(f.line, f.start, f.end) for f in result.findings if f.entity == "MINOR_UNDER_14" and f.line == 1]
    assert ages == []  # an adult's age is no finding
    assert any(f.line == 2 and f.entity == "MINOR_UNDER_14" for f in result.findings)


@pytest.mark.parametrize("policy", ["remove", "hash"])
def test_ages_of_adults_and_children_look_alike_under_every_policy(minors: Analyzer, policy: str) -> None:
    adult, _ = redact_text("死者，女，87岁。", analyzer=minors, redactor=Redactor(policy))
    child, _ = redact_text("患者，女，8岁。", analyzer=minors, redactor=Redactor(policy))
    if policy == "remove":
        assert (adult, child) == ("死者，女，[MINOR_UNDER_14]。", "患者，女，[MINOR_UNDER_14]。")
    else:  # a digest of the age each: as long for 87 as for 8
        assert "87" not in adult and len(adult) == len(child) == len("死者，女，。") + 64


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("死者李淑珍，女，87岁，因心衰死亡。", "87岁"),
        ("年龄：67", "67"),
        ("享年八十七岁", "八十七岁"),
        ("张伟（45岁）因车祸死亡", "45岁"),
        ("女/67岁", "67岁"),
        ("一名87岁老人在家中去世", "87岁"),
        ("患者王某，男，４５岁", "４５岁"),
        ("Decedent: Mary Smith, aged 87, died at home.", "87"),
        ("Name: John Smith, Sex: M, Age: 87", "87"),
        ("An 87-year-old patient was admitted.", "87-year-old"),
        ("An 87-year-old woman was found.", "87-year-old"),
        ("She was 87 when she died.", "87"),
        ("Age/Sex: 67/F", "67"),
        ("45 yo male with chest pain", "45 yo"),
    ],
)
def test_adult_ages_in_the_shapes_childrens_ages_are_found(text: str, age: str) -> None:
    assert [text[f.start : f.end] for f in adult_ages(text)] == [age]


@pytest.mark.parametrize(
    "text",
    [
        "18岁以下免票",  # a rule for a group
        "年龄：20-30岁",  # a range
        "服刑18个月",  # a duration
        "体温38.5度，心率88次/分",
        "the 40-year-old building was demolished",
        "whisky aged 18 years in oak",
        "max-age=86400",
        "2024年3月15日",
    ],
)
def test_numbers_that_are_no_persons_age_stay(text: str, minors: Analyzer) -> None:
    assert adult_ages(text) == []
    assert redact_text(text, analyzer=minors, redactor=Redactor("mask")) == (text, 0)


def test_ages_are_left_alone_when_minors_are_not_asked_for(tmp_path: Path) -> None:
    phones = Analyzer(entities=["CN_MOBILE"])
    out, count = redact_text(f"死者，女，87岁，电话{PHONE}", analyzer=phones, redactor=Redactor("mask"))
    assert out == "死者，女，87岁，电话*******5678" and count == 1


def test_an_adults_age_in_a_remarks_column_is_masked(tmp_path: Path, minors: Analyzer) -> None:
    src, out = tmp_path / "deaths.csv", tmp_path / "out.csv"
    src.write_text("编号,备注\n1,死者，女，87岁\n2,患儿，男，6岁\n3,无\n", encoding="utf-8")
    redact_file(src, out, analyzer=minors, redactor=Redactor("mask"))
    assert out.read_text(encoding="utf-8") == "编号,备注\n1,死者，女，***\n2,***，男，***\n3,无\n"


def test_an_adults_age_inside_a_json_value_is_masked(tmp_path: Path, minors: Analyzer) -> None:
    src, out = tmp_path / "notes.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": 1, "note": "Patient aged 87 was admitted."}) + "\n", encoding="utf-8")
    redact_file(src, out, analyzer=minors, redactor=Redactor("mask"))
    assert json.loads(out.read_text(encoding="utf-8"))["note"] == "Patient aged *** was admitted."


# --- D6b: a JSON object naming a key twice is refused -------------------------------------


def test_jsonl_object_with_a_repeated_key_is_refused_and_nothing_written(tmp_path: Path, minors: Analyzer) -> None:
    src, out = tmp_path / "people.jsonl", tmp_path / "out.jsonl"
    lines = [{"name": "张三", "phone": PHONE}]
    src.write_text(json.dumps(lines[0]) + '\n{"name":"王淑芬","age":80,"name":"李秀英"}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        redact_file(src, out, analyzer=minors, redactor=Redactor("mask"))
    message = str(err.value)
    assert str(src) in message and "line 2" in message and "key 'name' appears more than once" in message
    assert "王淑芬" not in message and "李秀英" not in message
    assert list(tmp_path.iterdir()) == [src]  # no copy, no temporary file


def test_a_repeated_key_holding_personal_information_is_named_redacted(tmp_path: Path, minors: Analyzer) -> None:
    src, out = tmp_path / "contacts.jsonl", tmp_path / "out.jsonl"
    src.write_text(f'{{"{PHONE}": "a", "{PHONE}": "b"}}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        redact_file(src, out, analyzer=minors, redactor=Redactor("mask"))
    assert "key '*******5678'" in str(err.value) and PHONE not in str(err.value)
    assert not out.exists()


# --- D6c: file links out of a scanned directory ---------------------------------------------


def _tree_with_links(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside.txt"
    outside.write_text(f"secret {PHONE}\n", encoding="utf-8")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("电话13912345678\n", encoding="utf-8")
    os.symlink(outside, tree / "shadow.txt")
    os.symlink(tmp_path / "missing.txt", tree / "gone.txt")
    os.symlink(Path("..") / "a.txt", tree / "sub" / "inside.txt")
    return tree, outside


def test_file_links_out_of_the_directory_are_listed_not_followed(tmp_path: Path, minors: Analyzer) -> None:
    tree, _ = _tree_with_links(tmp_path)
    result = scan_paths([tree], analyzer=minors, keep_values=True)
    assert {(s.source, s.reason, s.error) for s in result.skipped} == {
        (str(tree / "shadow.txt"), OUTSIDE_LINK, False),
        (str(tree / "gone.txt"), OUTSIDE_LINK, False),
    }
    assert sorted({f.source for f in result.findings}) == [str(tree / "a.txt"), str(tree / "sub" / "inside.txt")]
    assert PHONE not in {f.value for f in result.findings}


def test_a_link_named_on_the_command_line_is_followed(tmp_path: Path, minors: Analyzer) -> None:
    tree, _ = _tree_with_links(tmp_path)
    result = scan_paths([tree / "shadow.txt"], analyzer=minors, keep_values=True)
    assert [f.value for f in result.findings] == [PHONE]
    assert result.skipped == []


# --- D6d: gzip-compressed text ---------------------------------------------------------------


def _gz(path: Path, data: bytes) -> Path:
    with gzip.open(path, "wb") as handle:
        handle.write(data)
    return path


def test_compressed_logs_are_scanned_as_text(tmp_path: Path, minors: Analyzer) -> None:
    _gz(tmp_path / "app.log.gz", f"INFO ok\nERROR user {PHONE}\n".encode())
    _gz(tmp_path / "notes.txt.gz", f"电话{PHONE}\n".encode("gb18030"))
    _gz(tmp_path / "syslog.2.gz", f"login {PHONE}\n".encode())
    result = scan_paths([tmp_path], analyzer=minors, keep_values=True)
    assert result.skipped == []
    found = {(Path(f.source).name, f.line, f.value) for f in result.findings}
    assert found == {("app.log.gz", 2, PHONE), ("notes.txt.gz", 1, PHONE), ("syslog.2.gz", 1, PHONE)}
    assert result.files_scanned == 3 and result.lines_scanned == 4


def test_compressed_files_that_are_not_text_are_said_so(tmp_path: Path, minors: Analyzer) -> None:
    _gz(tmp_path / "backup.tar.gz", b"\x00" * 600)
    _gz(tmp_path / "blob.gz", bytes(range(256)) * 4)
    _gz(tmp_path / "rows.json.gz", b'[{"a": 1}]')
    (tmp_path / "fake.log.gz").write_bytes(b"plain text, not gzip\n")
    result = scan_paths([tmp_path], analyzer=minors)
    by_name = {Path(s.source).name: (s.reason, s.error) for s in result.skipped}
    assert by_name["backup.tar.gz"] == ("binary file type (.tar.gz)", False)
    assert by_name["blob.gz"][0].startswith("binary content") and not by_name["blob.gz"][1]
    assert by_name["rows.json.gz"] == ("gzip-compressed .json is not read (decompress it first)", True)
    assert by_name["fake.log.gz"] == ("not gzip data, though the name ends in .gz", True)


def test_a_compressed_file_larger_than_the_limit_once_decompressed_is_skipped(tmp_path: Path, minors: Analyzer) -> None:
    _gz(tmp_path / "big.log.gz", b"x" * 100 + f" {PHONE}\n".encode() * 1000)
    result = scan_paths([tmp_path], analyzer=minors, max_bytes=5000)
    assert [(s.reason, s.error) for s in result.skipped] == [
        ("larger than the size limit once decompressed (> 5000 bytes)", False)
    ]
    assert result.findings == [] and result.files_scanned == 0


def test_redacting_a_compressed_log_writes_a_compressed_copy(tmp_path: Path, minors: Analyzer) -> None:
    src = _gz(tmp_path / "app.log.gz", f"INFO ok\r\nERROR 用户 {PHONE}\r\n".encode("gb18030"))
    zipped, plain = tmp_path / "out.log.gz", tmp_path / "out.log"
    stats = redact_file(src, zipped, analyzer=minors, redactor=Redactor("mask"))
    assert stats.rows == 2 and stats.values_changed == 1
    expected = "INFO ok\r\nERROR 用户 *******5678\r\n".encode("gb18030")
    assert gzip.decompress(zipped.read_bytes()) == expected
    redact_file(src, plain, analyzer=minors, redactor=Redactor("mask"))
    assert plain.read_bytes() == expected


def test_redacting_a_compressed_json_array_or_archive_is_refused(tmp_path: Path, minors: Analyzer) -> None:
    for name, data in (("rows.json.gz", b'[{"a": 1}]'), ("backup.tar.gz", b"\x00" * 600)):
        src = _gz(tmp_path / name, data)
        with pytest.raises(InputError, match=name):
            redact_file(src, tmp_path / f"out-{name}", analyzer=minors, redactor=Redactor("mask"))
        assert not (tmp_path / f"out-{name}").exists()
