"""CN_PLATE, IP_ADDRESS, URL, CN_PASSPORT, CN_TRAVEL_PERMIT, DATE_OF_BIRTH, MEDICAL; hard negatives."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

from .helpers import found


@pytest.fixture(scope="module")
def every() -> Analyzer:
    return Analyzer(entities=[
        "CN_PLATE", "IP_ADDRESS", "URL", "CN_PASSPORT", "CN_TRAVEL_PERMIT", "DATE_OF_BIRTH",
        "MEDICAL", "CN_RESIDENT_ID", "CN_MOBILE", "CN_LANDLINE", "BANK_CARD", "PHONE",
        "US_SSN", "IBAN", "CN_USCC", "EMAIL",
    ])


@pytest.mark.parametrize("plate", ["京A12345", "沪AD12345", "粤B·D12345", "苏E12345D", "浙A1B2C3", "沪A-12345"])
def test_plates(every: Analyzer, plate: str) -> None:
    assert found(every, f"车辆{plate}停在门口") == [("CN_PLATE", plate)]


# A space or a middle dot after the issuing letter (as printed on the plate) ends the region
# before the serial: the plate is found by looking back from the serial for its head.
SPACED_PLATES = [
    "沪A 12345",
    "沪A·12345",
    "沪A・12345",
    "沪A D12345",
    "沪A·D12345",
    "粤B 12345D",
    "浙A 1B2C3",
    "苏E AB123",
    "京A\u300012345",  # ideographic space
    "沪Ａ　１２３４５",  # full-width, as typed with a Chinese input method
]


@pytest.mark.parametrize("plate", SPACED_PLATES)
def test_plates_spaced_after_the_letter_in_chinese_text(every: Analyzer, plate: str) -> None:
    assert found(every, f"车牌号{plate}，停在小区门口") == [("CN_PLATE", plate)]


@pytest.mark.parametrize("plate", SPACED_PLATES)
def test_plates_spaced_after_the_letter_in_english_text(every: Analyzer, plate: str) -> None:
    assert found(every, f"plate {plate}.") == [("CN_PLATE", plate)]
    assert found(every, f"The car {plate} was parked outside") == [("CN_PLATE", plate)]


@pytest.mark.parametrize("plate", ["沪A1234挂", "沪A1234学", "京A1234警", "粤Z1234港", "粤Z1234澳"])
def test_plates_ending_in_a_chinese_class_character(every: Analyzer, plate: str) -> None:
    # Trailer, driving-school, police, Hong Kong and Macao plates: the last character is not a
    # region character, so the recognizer reads one past the region.
    assert found(every, f"车牌{plate}停在门口") == [("CN_PLATE", plate)]
    assert found(every, f"plate {plate}.") == [("CN_PLATE", plate)]


def test_spaced_plate_as_a_column_value(every: Analyzer) -> None:
    assert ("CN_PLATE", 0.85) in every.validate_value("沪A 12345")
    assert ("CN_PLATE", 0.9) in every.validate_value("沪A・D12345")


@pytest.mark.parametrize(
    "text",
    [
        "京A 1234567890",  # too many digits
        "plate 京A 1234567890.",
        "京A 12345678",
        "京A·1234567890",
        "沪A 1234",  # too short
        "车牌沪A 1234。",
        "沪A 123456",  # six digits without the new-energy D/F
        "京A 12345 67890",
        "京A Model 12345",  # a province character, a letter, then an unrelated word and number
        "新A Plus 12345",
        "沪A股 600519",
        "京A 1.2.3",
        "京A 12.34",
        "沪a 12345",
        "京I 12345",  # I and O are never issuing letters
    ],
)
def test_spaced_plate_look_alikes_silent(every: Analyzer, text: str) -> None:
    assert "CN_PLATE" not in {e for e, _ in found(every, text)}


def test_icd_codes_are_not_plates(every: Analyzer) -> None:
    text = "诊断：I21.9 急性心肌梗死；J18.9"
    entities = {e for e, _ in found(every, text)}
    assert "CN_PLATE" not in entities
    assert ("MEDICAL", "I21.9") in found(every, text)


def test_bare_icd_like_code_silent(every: Analyzer) -> None:
    assert found(every, "Room A12 and part B20 are ready") == []


def test_ip_addresses(every: Analyzer) -> None:
    assert found(every, "登录IP 10.2.33.4，") == [("IP_ADDRESS", "10.2.33.4")]
    assert found(every, "client 2001:db8::8a2e:370:7334 connected") == [
        ("IP_ADDRESS", "2001:db8::8a2e:370:7334")
    ]


@pytest.mark.parametrize("text", ["version 1.2.3.4", "v1.2.3.4 released", "升级到版本 2.0.1.7",
                                  "1.2.3.4.5", "256.1.1.1", "Python 3.11.7"])
def test_version_strings_silent(every: Analyzer, text: str) -> None:
    assert found(every, text) == []


def test_urls(every: Analyzer) -> None:
    assert found(every, "见https://example.org/a?b=1。") == [("URL", "https://example.org/a?b=1")]
    assert found(every, "visit www.example.com, then") == [("URL", "www.example.com")]


def test_passport_and_permits_need_format_and_context(every: Analyzer) -> None:
    assert found(every, "护照号码E12345678") == [("CN_PASSPORT", "E12345678")]
    assert found(every, "港澳通行证C12345678") == [("CN_TRAVEL_PERMIT", "C12345678")]
    assert found(every, "回乡证H1234567801") == [("CN_TRAVEL_PERMIT", "H1234567801")]
    assert found(every, "型号C12345678") == []


def test_date_of_birth_needs_context(every: Analyzer) -> None:
    assert found(every, "出生日期：1938年5月7日") == [("DATE_OF_BIRTH", "1938年5月7日")]
    assert found(every, "DOB: 03/15/1942") == [("DATE_OF_BIRTH", "03/15/1942")]
    assert found(every, "born on March 3, 1950 in Ohio") == [("DATE_OF_BIRTH", "March 3, 1950")]
    assert found(every, "就诊时间 2024-01-05 09:12:00") == []
    assert found(every, "出生日期：1938年2月30日") == []


@pytest.mark.parametrize(
    "text",
    ["订单号 20240506123045678 金额 ¥1,234.56", "时间戳 1714969845123", "金额12345678.90元",
     "共计 3,456,789 元", "批次 2024-05-06T12:30:45+08:00"],
)
def test_amounts_timestamps_order_numbers_silent(every: Analyzer, text: str) -> None:
    assert found(every, text) == []


def test_cause_of_death_phrases(every: Analyzer) -> None:
    result = every.analyze("死因：多器官功能衰竭，既往高血压。")
    assert [r.entity for r in result] == ["MEDICAL", "MEDICAL"]
    assert all("context" in r.explanation for r in result)
    assert found(every, "cause of death: myocardial infarction") == [
        ("MEDICAL", "myocardial infarction")
    ]


def test_context_of_the_next_clause_does_not_count(every: Analyzer) -> None:
    # An epoch timestamp followed by the next field's label is not a phone number.
    assert found(every, "时间戳1644226175，联系电话见附件") == []


def test_mistyped_resident_id_is_not_a_bank_card(every: Analyzer) -> None:
    from piguard.discover.recognizers.validators import luhn_ok, mod11_2_check

    candidates = [
        f"32010219531010{seq:03d}{c}"
        for seq in range(50)
        for c in "0123456789"
        if c != mod11_2_check(f"32010219531010{seq:03d}") and luhn_ok(f"32010219531010{seq:03d}{c}")
    ]
    assert candidates
    for number in candidates[:10]:
        assert found(every, f"编号{number}，") == []


def test_ip_label_glued_to_address(every: Analyzer) -> None:
    assert found(every, "登录IP10.2.3.4，") == [("IP_ADDRESS", "10.2.3.4")]


def test_year_month_birth_dates(every: Analyzer) -> None:
    assert found(every, "出生年月：1949年12月，籍贯") == [("DATE_OF_BIRTH", "1949年12月")]
    assert found(every, "1931.05出生") == [("DATE_OF_BIRTH", "1931.05")]
    assert found(every, "出生年月：1949年13月") == []
    assert found(every, "2023年12月完成审核") == []  # no birth context


@pytest.mark.parametrize(
    ("text", "births"),
    [
        # A death certificate stub: the death date is near 出生日期, but it has its own label.
        ("出生日期：1927年8月15日 死亡日期：2024年1月3日", ["1927年8月15日"]),
        ("死亡日期：2024年1月3日 出生日期：1927年8月15日", ["1927年8月15日"]),
        ("出生地：江苏省南京市 死亡日期：2024年1月3日", []),
        ("患者1927年8月15日出生，2024年1月3日死亡。", ["1927年8月15日"]),
        ("DOB: 03/15/1942, admitted 04/01/2024", ["03/15/1942"]),
        ("Born 12 May 1931, died 3 June 2024", ["12 May 1931"]),
        # "the deceased" names the person, not an event: the birth date stays one.
        ("Date of birth of the deceased: 12 March 1931", ["12 March 1931"]),
        ("Date of death: 3 June 2024. Date of birth: 12 March 1931", ["12 March 1931"]),
    ],
)
def test_death_and_admission_dates_are_not_birth_dates(every: Analyzer, text: str, births: list[str]) -> None:
    assert [v for e, v in found(every, text) if e == "DATE_OF_BIRTH"] == births
