"""CN_MOBILE, CN_LANDLINE, PHONE and EMAIL, including CJK neighbours."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

from .helpers import found


@pytest.fixture(scope="module")
def contact() -> Analyzer:
    return Analyzer(entities=["CN_MOBILE", "CN_LANDLINE", "PHONE", "EMAIL"])


@pytest.mark.parametrize(
    "number",
    ["13812345678", "+8613812345678", "+86 138 1234 5678", "86-13812345678", "138 1234 5678",
     "138-1234-5678", "008619912345678", "16612345678", "17712345678"],
)
def test_mobile_forms(contact: Analyzer, number: str) -> None:
    assert found(contact, f"家属电话{number}，请联系") == [("CN_MOBILE", number)]


@pytest.mark.parametrize("number", ["12012345678", "14012345678", "15412345678", "10012345678"])
def test_unallocated_mobile_prefix_silent(contact: Analyzer, number: str) -> None:
    assert found(contact, f"号码{number}") == []


def test_mobile_touching_cjk_without_spaces(contact: Analyzer) -> None:
    assert found(contact, "联系人张三13912345678转告") == [("CN_MOBILE", "13912345678")]


@pytest.mark.parametrize("number", ["010-62345678", "(0755)26712345", "021 61234567",
                                    "0571-87654321", "（020）83812345", "(021) 5555-0123",
                                    "021-5555 0123", "021-55550123-8001",
                                    # International form: the area code without its trunk 0.
                                    "+86 10 6512 3456", "+86-10-6512 3456", "+86 21 64381234",
                                    "+86(21)64381234", "+86 (21) 6438-1234", "+86 571 8765 4321"])
def test_landline_forms(contact: Analyzer, number: str) -> None:
    assert found(contact, f"办公电话：{number}。") == [("CN_LANDLINE", number)]


def test_landline_with_bad_area_code_silent(contact: Analyzer) -> None:
    assert found(contact, "电话 099-12345678") == []


@pytest.mark.parametrize("number", ["+44 20 7946 0958", "+1 650-253-0000", "+49 30 901820"])
def test_foreign_phone(contact: Analyzer, number: str) -> None:
    assert found(contact, f"Call {number} today") == [("PHONE", number)]


def test_chinese_mobile_not_reported_as_foreign_phone(contact: Analyzer) -> None:
    assert [e for e, _ in found(contact, "tel +86 138 1234 5678")] == ["CN_MOBILE"]


def test_timestamps_and_dates_not_phones(contact: Analyzer) -> None:
    assert found(contact, "2024-05-06 12:30:45 登录 1700000000 20240506") == []


def test_email_not_extended_into_chinese(contact: Analyzer) -> None:
    text = "请发邮件至zhang.san@example.com联系我们"
    assert found(contact, text) == [("EMAIL", "zhang.san@example.com")]


def test_email_plain_and_bad(contact: Analyzer) -> None:
    assert found(contact, "mail a.b+tag@sub.example.co.uk now") == [
        ("EMAIL", "a.b+tag@sub.example.co.uk")
    ]
    assert found(contact, "not an email: user@localhost or @example.com") == []


def test_phone_validate_value(contact: Analyzer) -> None:
    assert contact.validate_value("+44 20 7946 0958") == [("PHONE", 0.7)]
    assert contact.validate_value("(650) 253-0000") == [("PHONE", 0.7)]
    assert contact.validate_value("1644226175") == []  # epoch seconds, not a UK number
    assert contact.validate_value("13812345678") == [("CN_MOBILE", 0.85)]
    assert contact.validate_value("2024-01-01") == []


def test_full_width_digits_found_with_original_offsets(contact: Analyzer) -> None:
    text = "电话：１３８１２３４５６７８，邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    result = contact.analyze(text)
    assert [(f.entity, text[f.start : f.end]) for f in result] == [
        ("CN_MOBILE", "１３８１２３４５６７８"),
        ("EMAIL", "ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
    ]
    assert contact.validate_value("１３８１２３４５６７８")[0][0] == "CN_MOBILE"


@pytest.mark.parametrize(
    ("text", "number"),
    [("Phone: 0490 75 40 81", "0490 75 40 81"), ("please call me on 9472 7916", "9472 7916"),
     ("Mobile: (37) 788-063", "(37) 788-063")],
)
def test_grouped_number_labelled_as_phone(contact: Analyzer, text: str, number: str) -> None:
    # Unassigned ranges (phonenumbers says invalid), but written and labelled as a phone.
    assert ("PHONE", number) in found(contact, text)


@pytest.mark.parametrize("text", ["Order 0490 75 40 81 shipped", "Phone: 2024-05-06", "Phone: 12,345.67"])
def test_grouped_numbers_without_a_phone_label_stay_silent(contact: Analyzer, text: str) -> None:
    assert [e for e, _ in found(contact, text) if e == "PHONE"] == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Contact details\nTelephone:\n0412 345 678\nEmail: a@b.org", "0412 345 678"),  # label line
        ("Desk: +41 22 555 01 23", "+41 22 555 01 23"),  # +CC, possible length, unassigned
        ("Switchboard +44 (0)1632 960 111", "+44 (0)1632 960 111"),
        ("The line keeps ringing, nobody is answering at 02 9876 5432", "02 9876 5432"),
        ("stop sending messages to 0470 12 34 56 please", "0470 12 34 56"),
        ("reach me at 06 12 34 56 78", "06 12 34 56 78"),
        ("ring me on 07700 900 123", "07700 900 123"),  # UK 5-3-3
        ("my number is 6123 5551234", "6123 5551234"),  # unsplit subscriber part
        ("Mobile no. 98765 43210", "98765 43210"),  # India 5-5
        ("Ph: 0412 345 678", "0412 345 678"),
        ("Helpline: 1300 555 010", "1300 555 010"),
        ("5 Harbour Rd\n02 9876 5432 office\n02 9876 5433 fax", "02 9876 5432"),
        ("Kent 04521\n(41) 555-018-Office\\,0412 345 678-Fax", "(41) 555-018"),
        ("Cell: 555.867.5309", "555.867.5309"),  # dotted 3-3-4 is not a version string
        ("Fax 0049-30-1234567", "0049-30-1234567"),  # not the date 0049-30-12
        ("Phone: 0490 75 40 81 ext. 12", "0490 75 40 81 ext. 12"),
        ("You can reach the office on 1-787-574-9118.", "1-787-574-9118"),  # NANP "1-" prefix
        ("Holly Ramsey (1 (782) 572-8673)", "1 (782) 572-8673"),
        ("call me at (+358) 091390996 tomorrow", "(+358) 091390996"),
        ("Phone: +45 83016613", "+45 83016613"),  # not a Chinese landline with area code 045
        ("My number is (02199) 35181 if anything changes.", "(02199) 35181"),  # (area) subscriber
        ("Contact (0543)-231948 for details.", "(0543)-231948"),
        ("Phone: 03572/80385280", "03572/80385280"),  # Austrian slash
        ("Please call me at (02239) 09960 308 tomorrow.", "(02239) 09960 308"),
        ("My number is 0460.308.246 if anything changes.", "0460.308.246"),  # dotted, 9 digits
        ("Phone: 4674924708", "4674924708"),  # unassigned range, but right after its label
        ("My number is 28194821 if anything changes.", "28194821"),
        ("I tried calling 0359791907 twice.", "0359791907"),
        ("Name: Anvi Bose, Tel. 06713976285, Email: a@b.org", "06713976285"),
        ("our support line 0437-291-019 is open", "0437-291-019"),
        ("Customer: +44 20 7946 0958", "+44 20 7946 0958"),  # an identifier noun, but a +CC number
        ("Alan Day\n58/2 White Tarn, East Ricky\n03-2685-8240\nleah74@example.net", "03-2685-8240"),
        ("Max Madan\n12/39, Raman Marg\n03855678157\nmax@example.com", "03855678157"),  # contact block
        ("Max Madan\r\n03855678157\r\nmax@example.com\r\n", "03855678157"),  # Windows line ends
        ("Phone numbers: 0490 75 40 81 and 0490 75 40 82", "0490 75 40 82"),  # listed after a phone
        ("call me on 0412 345 678, or my husband on 0412 345 679", "0412 345 679"),
        # Round 4, from Faker's numbering-plan formats in sentences written for the purpose:
        ("You can reach Alex on 3306824628 after 5pm.", "3306824628"),  # a name between cue and number
        ("Please call Dr Meyer at 0301661318 today.", "0301661318"),
        ("Call me at 8 (529) 170-34-23.", "8 (529) 170-34-23"),  # Russian trunk prefix 8
        ("Call me at 8 (246) 281-9482.", "8 (246) 281-9482"),
        ("Call me at +(370) 26018159.", "+(370) 26018159"),  # +(country code)
        ("Call me at 00421 49 482 1993.", "00421 49 482 1993"),  # 00 + country code, grouped
        ("Call me at 00421 913 231 948.", "00421 913 231 948"),
        ("Alex's mobile: +91 319 4875749", "+91 319 4875749"),  # not a Chinese landline after +91
        ("My phone number is +91 319 4875749", "+91 319 4875749"),
        ("Please phone (+57)6061049746 to confirm.", "(+57)6061049746"),  # (+CC) before an unsplit number
    ],
)
def test_phone_forms_and_cues(contact: Analyzer, text: str, number: str) -> None:
    assert ("PHONE", number) in found(contact, text)


@pytest.mark.parametrize(
    "text",
    [
        "Invoice:\n0412 345 678",  # a label on the line before that is not a phone label
        "message id 123 456 789",
        "Phone: 2024 05 06",  # a date written with spaces
        "Phone: 06 05 2024",
        "Contact: 536-22-8711",  # the dashed SSN shape
        "Home: 94105-1234",  # ZIP+4
        "Home: 02134-1234",
        "reach me at lat +48.8566140",  # a decimal number after a plus sign
        "Temperature +20 000 000",
        "call about card 4111 1111 1111 1112",  # a slice of a longer grouped number
        "Office hours 9.00-17.00",
        "see +49 1234",  # too short for a German number
        "tel +86 21 5555 0123",  # mainland numbers are CN_LANDLINE's business, never PHONE
        "Please call me about order 5233292436.",  # named as an order right before it
        "phone about policy no. 0412 345 678",
        "my driver's license number is 2270-66-1551",
        "call me at 4111 1111 1111 1111 2222",  # too many digits for a phone
        "Phone: 1111111111",  # one repeated digit
        "Version 10.2.3 fixes the bug",
        "Invoice 3855678157 was paid\nmax@example.com",  # words beside it: not a contact-block line
        "Ticket\n3855678157\nno e-mail nearby",
        "call about order 5233292436 at noon",  # a noun between cue and number: not a name
        "reach step 8 (529) on page 170",  # "(529)" is not an area code without a subscriber number
        "Call me at 00421 4",  # too short after the country code
    ],
)
def test_phone_hard_negatives_stay_silent(contact: Analyzer, text: str) -> None:
    assert [e for e, _ in found(contact, text) if e == "PHONE"] == []


def test_label_line_only_for_a_value_alone_on_its_line() -> None:
    from piguard.discover.recognizers.base import find_context

    text = "Phone:\n0412 345 678"
    start = text.index("0")
    assert find_context(text, start, len(text), ("phone",), label_line=True) == "phone"
    assert find_context(text, start, len(text), ("phone",)) is None  # off by default
    text = "Phone:\nref 0412 345 678"
    start = text.index("0")
    assert find_context(text, start, len(text), ("phone",), label_line=True) is None


def test_only_numbers_joined_as_a_list_share_a_phone_label(contact: Analyzer) -> None:
    text = "Call 0412 345 678, invoice 0412 345 679 is paid"
    assert found(contact, text) == [("PHONE", "0412 345 678")]  # an invoice number, not a list item


def test_grouped_subscriber_needs_an_area_code_with_its_zero(contact: Analyzer) -> None:
    # "284 698 2548" is a foreign number in groups, not area code 284 + 698 2548.
    assert ("CN_LANDLINE", "284 698 2548") not in found(contact, "Phone:\n21 284 698 2548")
