"""CN_PLATE as documents write it: separators, class characters (挂 学 警 港 澳 领), embassy plates."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.recognizers.registry import ALL_ENTITIES

from .helpers import found


@pytest.fixture(scope="module")
def ids() -> Analyzer:
    """Every entity but names and addresses (their taggers are not needed here)."""
    return Analyzer(entities=[e for e in ALL_ENTITIES if e not in ("PERSON", "ADDRESS")])


PLATES = [
    "沪A 1234挂",  # trailer, a space after the issuing letter
    "沪A·1234挂",
    "沪A-1234挂",
    "沪A1234挂",
    "沪A·12345",
    "沪A-12345",
    "沪A 12345",
    "粤B D12345",  # new energy, spaced
    "粤B·D12345",
    "粤B 12345D",
    "京A·1234警",  # police
    "京A 1234警",
    "贵A·3456学",  # driving school (coach)
    "沪A 3456学",
    "粤Z·1234港",  # Hong Kong and Macao cross-border
    "粤Z 1234澳",
    "沪A·0023领",  # consulate
    "沪A0023领",
    "使014·578",  # embassy: 使, the embassy's number, a serial
    "使014578",
    "使 014 578",
    "使014・578",
]


@pytest.mark.parametrize("plate", PLATES)
def test_plates_with_the_separators_and_class_characters_documents_use(ids: Analyzer, plate: str) -> None:
    assert found(ids, f"车牌号：{plate}，停在急诊门口") == [("CN_PLATE", plate)]
    assert found(ids, f"救护车{plate}于八点到达") == [("CN_PLATE", plate)]
    assert found(ids, f"plate {plate}.") == [("CN_PLATE", plate)]
    [finding] = ids.analyze(f"车牌{plate}")
    assert finding.explanation.startswith("pattern cn_plate") and "GA 36 plate format" in finding.explanation


@pytest.mark.parametrize("plate", ["沪A 1234挂", "沪A·0023领", "使014·578"])
def test_plates_as_column_values(ids: Analyzer, plate: str) -> None:
    assert "CN_PLATE" in dict(ids.validate_value(plate))


@pytest.mark.parametrize(
    "text",
    [
        # A class character that starts a word is that word: a code, then a verb or noun.
        "型号沪A1234学生版",
        "京A1234警察局",
        "粤B1234领取",
        "沪A 1234学习机",
        "京A·1234警告",
        "粤Z1234港口",
        "沪A1234挂号",
        # 使 ending a word before a number: 行使, 即使, 大使.
        "依法行使123456元债权",
        "即使 123456 次",
        "大使馆 014578",
        # Wrong lengths.
        "使12345",
        "使1234567",
        "使014·5789",
        "沪A 1234",
        "沪A 123挂",
        # ICD codes, versions and product codes.
        "诊断：C34.1，J18.0，I21.9",
        "ICD-10: I10 E11.9",
        "版本V1.2.3 build 1234",
        "沪A 1.2.3",
        "型号HP-A1234X",
        "京A 12345 67890",
        "京A-1234-5678",
        "京I 1234挂",  # I and O are never issuing letters
    ],
)
def test_look_alikes_are_not_plates(ids: Analyzer, text: str) -> None:
    assert "CN_PLATE" not in {e for e, _ in found(ids, text)}
