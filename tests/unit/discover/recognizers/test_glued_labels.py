"""Identifiers glued to ASCII letters: a label glued before the digits (TEL13812345678,
ID31011219…X, tel: URIs) is a token boundary; hashes, UUIDs, base64, serials, versions and
order numbers stay silent."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.base import GLUED_LABELS

from .helpers import found, luhn_complete, resident_id

ID = resident_id("310112", "19500307")
# The same area and birth date with the sequence number whose check character is X.
ID_X = next(i for i in (resident_id("310112", "19500307", f"{s:03d}") for s in range(1000)) if i.endswith("X"))
CARD = luhn_complete("622202", 19)
MOBILE = "13812345678"
LANDLINE = "02164381234"


@pytest.fixture(scope="module")
def ids() -> Analyzer:
    return Analyzer(
        entities=[
            "CN_RESIDENT_ID",
            "CN_MOBILE",
            "CN_LANDLINE",
            "BANK_CARD",
            "PHONE",
            "US_SSN",
            "CN_PASSPORT",
            "CN_TRAVEL_PERMIT",
            "CN_USCC",
            "CN_PLATE",
            "IBAN",
            "EMAIL",
            "IP_ADDRESS",
            "URL",
        ]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Business cards, fixed-width exports and OCR output write the label against the number.
        ("TEL13812345678", [("CN_MOBILE", MOBILE)]),
        ("客户资料 TEL13812345678 地址见附件", [("CN_MOBILE", MOBILE)]),
        ("Mobile13912345678", [("CN_MOBILE", "13912345678")]),
        ("MobileNo13912345678", [("CN_MOBILE", "13912345678")]),
        ("mob13812345678", [("CN_MOBILE", MOBILE)]),
        ("NO13812345678", [("CN_MOBILE", MOBILE)]),
        ("联系方式：SJH13812345678", [("CN_MOBILE", MOBILE)]),
        (f"ID{ID}", [("CN_RESIDENT_ID", ID)]),
        (f"ID{ID_X}", [("CN_RESIDENT_ID", ID_X)]),
        (f"SFZ{ID}", [("CN_RESIDENT_ID", ID)]),
        (f"sfzh{ID_X}", [("CN_RESIDENT_ID", ID_X)]),
        (f"IDNO{ID}", [("CN_RESIDENT_ID", ID)]),
        (f"TEL{LANDLINE}", [("CN_LANDLINE", LANDLINE)]),
        ("TEL021-64381234", [("CN_LANDLINE", "021-64381234")]),
        (f"CARD{CARD}", [("BANK_CARD", CARD)]),
        ("Tel+442079460958", [("PHONE", "+442079460958")]),
        # Full-width forms are folded first: the same label, the same boundary.
        ("ＴＥＬ１３８１２３４５６７８", [("CN_MOBILE", "１３８１２３４５６７８")]),
        ("Fax+1-202-555-0143", [("PHONE", "+1-202-555-0143")]),
    ],
)
def test_label_glued_before_the_number(ids: Analyzer, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(ids, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel:+8613812345678", [("CN_MOBILE", "+8613812345678")]),
        ("tel:+86-138-1234-5678", [("CN_MOBILE", "+86-138-1234-5678")]),
        ('<a href="tel:13812345678">拨打</a>', [("CN_MOBILE", MOBILE)]),
        # RFC 3966 global numbers: a landline written with or without visual separators.
        ("tel:+862164381234", [("CN_LANDLINE", "+862164381234")]),
        ("tel:+86-21-6438-1234", [("CN_LANDLINE", "+86-21-6438-1234")]),
    ],
)
def test_tel_uris(ids: Analyzer, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(ids, text) == expected


def test_two_fields_glued_together(ids: Analyzer) -> None:
    # "TEL…FAX…" and "ID…TEL…": the next field's label ends the number before it.
    assert found(ids, f"TEL{MOBILE}FAX{LANDLINE}") == [("CN_MOBILE", MOBILE), ("CN_LANDLINE", LANDLINE)]
    assert found(ids, f"ID{ID}TEL{MOBILE}") == [("CN_RESIDENT_ID", ID), ("CN_MOBILE", MOBILE)]
    assert found(ids, f"{MOBILE}Email:zhang@example.com") == [("CN_MOBILE", MOBILE), ("EMAIL", "zhang@example.com")]


@pytest.mark.parametrize(
    "text",
    [
        "手机号:13812345678abc",
        "手机号码：13812345678abc",
        "TEL13812345678abc",
        "Tel. 13812345678abc",
    ],
)
def test_letters_after_a_labelled_number(ids: Analyzer, text: str) -> None:
    # A label right before the digits says what they are: junk letters after them do not
    # make them part of a longer code.
    assert found(ids, text) == [("CN_MOBILE", MOBILE)]


def test_letters_after_a_labelled_card_and_id(ids: Analyzer) -> None:
    assert found(ids, f"卡号{CARD}abc") == [("BANK_CARD", CARD)]
    assert found(ids, f"身份证号：{ID}abc") == [("CN_RESIDENT_ID", ID)]


def test_the_explanation_says_the_label_was_glued(ids: Analyzer) -> None:
    [finding] = ids.analyze("TEL13812345678")
    assert "label glued before it" in finding.explanation
    [finding] = ids.analyze("手机号:13812345678abc")
    assert "letters glued after it" in finding.explanation


def test_a_log_line_and_a_form(ids: Analyzer) -> None:
    log = f"2024-03-01 10:22:13 INFO caller=TEL{MOBILE} callee=TEL{LANDLINE} dur=35s"
    assert found(ids, log) == [("CN_MOBILE", MOBILE), ("CN_LANDLINE", LANDLINE)]
    form = f"姓名:张建国|ID{ID_X}|MOB13912345678|CARD{CARD}"
    assert found(ids, form) == [("CN_RESIDENT_ID", ID_X), ("CN_MOBILE", "13912345678"), ("BANK_CARD", CARD)]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        # Hashes and hex dumps: digits glued to hex letters on both sides.
        _sha256("13812345678"),
        f"sha256={_sha256(ID)}",
        hashlib.md5(b"zhang", usedforsecurity=False).hexdigest(),
        "deadbeef13812345678cafe",
        "0x13812345678",
        f"commit a{MOBILE}f merged",
        # UUIDs, one with an 11-digit run after a hex letter.
        str(uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")),
        "e7b2c1d4-5f6a-4b3c-8d9e-a13812345678",
        # base64 of records holding a phone number and an ID; a JWT-like token.
        base64.b64encode(f"user:{MOBILE}".encode()).decode(),
        base64.b64encode(f"ID{ID}".encode()).decode(),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMzgxMjM0NTY3OCJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        # Serial numbers, version strings, order and waybill numbers.
        "SN13812345678",
        "S/N:A13812345678B",
        f"PN{ID}",
        "v13812345678",
        "build13812345678",
        "ver13812345678-rc1",
        "DD13812345678",
        "JD13812345678",
        f"ORDER{ID}",
        "INV13812345678",
        f"订单号TB{CARD}",
        # Words that end in a label are not the label: process and user ids, a hotel, a video.
        "PID13812345678",
        "UUID13812345678",
        "HOTEL13812345678",
        "VIDEO13812345678",
        "PIANO13812345678",
        # Letters after digits without a label before them: units, suffixes.
        "elapsed=13812345678ns",
        "took 15012345678us",
        "13812345678abc",
        "uid=13812345678abc",
    ],
)
def test_hard_negatives(ids: Analyzer, text: str) -> None:
    assert found(ids, text) == []


def test_an_iban_whose_country_looks_like_a_label_stays_an_iban(ids: Analyzer) -> None:
    # Norway's IBANs start with NO: only the recognizers of labelled numbers cut labels off.
    assert found(ids, "IBAN NO9386011117947") == [("IBAN", "NO9386011117947")]
    assert found(ids, "NO93 8601 1117 947") == [("IBAN", "NO93 8601 1117 947")]


def test_no_label_is_a_hex_word() -> None:
    # A label made of a-f only could be read out of any hash ("cafe", "dead", "bad").
    assert all(not set(label) <= set("abcdef") for label in GLUED_LABELS)
    assert all(label == label.lower() and label.isalpha() for label in GLUED_LABELS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A resident ID ending in its check character X, then the next field's label (audit H1).
        (
            "ID31011219500307001XTEL13987654321",
            [("CN_RESIDENT_ID", "31011219500307001X"), ("CN_MOBILE", "13987654321")],
        ),
        ("31011219500307001XTEL13812345678", [("CN_RESIDENT_ID", "31011219500307001X"), ("CN_MOBILE", MOBILE)]),
        ("31011219500307001XMOBILE13812345678", [("CN_RESIDENT_ID", "31011219500307001X"), ("CN_MOBILE", MOBILE)]),
        ("31011219500307001Xtel13812345678", [("CN_RESIDENT_ID", "31011219500307001X"), ("CN_MOBILE", MOBILE)]),
        ("31011219500307001XFAX02164381234", [("CN_RESIDENT_ID", "31011219500307001X"), ("CN_LANDLINE", LANDLINE)]),
        (f"ID{ID_X}CARD{CARD}", [("CN_RESIDENT_ID", ID_X), ("BANK_CARD", CARD)]),
        (
            "姓名张三ID11010519491231002XTEL13812345678地址北京",
            [("CN_RESIDENT_ID", "11010519491231002X"), ("CN_MOBILE", MOBILE)],
        ),
        (
            "证件号码ID31011219500307001XTEL13987654321",
            [("CN_RESIDENT_ID", "31011219500307001X"), ("CN_MOBILE", "13987654321")],
        ),
    ],
)
def test_an_id_ending_in_x_before_a_glued_label(ids: Analyzer, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(ids, text) == expected


def test_an_x_not_after_an_id_is_no_cut(ids: Analyzer) -> None:
    # Only the 18th character of a resident ID may be X: "1234567XTEL…" is one code, not cut.
    assert found(ids, "REF1234567XTEL13812345678") == []
    assert found(ids, "AX13812345678") == []


@pytest.mark.parametrize(
    "text",
    [
        # A generic label (id, no, ..._id) before digits glued to hex letters labels a hex id
        # (audit M8).
        "trace_id=13812345678abcdef",
        "request_id=13812345678abcdef0123",
        "id=13812345678abcdef",
        "session_id: 13812345678f3e2a1b",
        "X-Request-ID: 13812345678e4b9",
        "msg_id=13912345678ab91cd",
        "no=13812345678abc",
        f"id={ID}abcdef",
    ],
)
def test_a_generic_label_before_a_hex_token(ids: Analyzer, text: str) -> None:
    assert found(ids, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN536221234", [("US_SSN", "536221234")]),
        ("SSN536-22-1234", [("US_SSN", "536-22-1234")]),
        ("TelFax13812345678", [("CN_MOBILE", MOBILE)]),
        # A fax number is a landline like a TEL one.
        ("FAX02164381234", [("CN_LANDLINE", LANDLINE)]),
        ("TEL02164381234", [("CN_LANDLINE", LANDLINE)]),
        ("传真：02164381234", [("CN_LANDLINE", LANDLINE)]),
    ],
)
def test_more_glued_labels(ids: Analyzer, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(ids, text) == expected
