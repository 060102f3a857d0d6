"""MINOR_UNDER_14 in text: ages under 14 stated as a person's, and words that name a child."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer
from piguard.discover.categories import category_of, is_sensitive
from piguard.discover.recognizers.generic.minors import cn_number, parse_age

from .helpers import found


@pytest.fixture(scope="module")
def minors() -> Analyzer:
    return Analyzer(entities=["MINOR_UNDER_14"])


def spans(analyzer: Analyzer, text: str) -> list[str]:
    return [value for _, value in found(analyzer, text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Death reports, case notes and forms.
        ("死者王某某，男，8岁，因溺水经抢救无效死亡。", ["8岁"]),
        ("姓名：李小明 性别：男 年龄：8岁 住址：闵行区", ["8岁"]),
        ("年龄:7", ["7"]),
        ("一名8岁男童在河边玩耍时落水。", ["8岁", "男童"]),
        ("患儿，女，3个月大，因发热入院。", ["患儿", "3个月大"]),
        ("出生3天的女婴", ["3天", "女婴"]),
        ("孩子今年十三岁，上初一。", ["十三岁"]),
        ("13岁半的学生", ["13岁半"]),
        ("5月龄婴儿，混合喂养", ["5月龄", "婴儿"]),
        ("患儿家属已到场签字", ["患儿"]),
        ("新生儿，出生体重3.2kg", ["新生儿"]),
    ],
)
def test_chinese_ages_under_14(minors: Analyzer, text: str, expected: list[str]) -> None:
    assert spans(minors, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient aged 7 was admitted with fever.", ["7"]),
        ("The boy was aged 8.", ["8"]),  # the full stop ends the sentence, not a fraction
        ("Name: Tom Lee, Age: 7, Sex: M", ["7"]),
        ("age 10 months", ["10 months"]),
        ("A 7-year-old boy was struck by a car.", ["7-year-old"]),
        ("The seven-year-old girl survived.", ["seven-year-old"]),
        ("an 18-month-old", ["18-month-old"]),
        ("My son is 7 years old.", ["7 years old"]),
        ("A child, 6, and her mother were injured.", ["6"]),
        ("survived by her son (7) and daughter (4)", ["7", "4"]),
        ("7 yo M presents with cough x3 days", ["7 yo"]),
    ],
)
def test_english_ages_under_14(minors: Analyzer, text: str, expected: list[str]) -> None:
    assert spans(minors, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Adults and the 14-year boundary.
        "死者张某，男，82岁，因心肌梗死死亡。",
        "年龄：14岁",
        "享年八十二岁",
        "Patient aged 45.",
        "a 14-year-old girl",
        # Limits and ranges are about groups, not a person.
        "8岁以下儿童免票，14周岁以下需家长陪同。",
        "适用于3-12岁儿童",
        "3岁起可以报名",
        "children aged 7-12",
        "children aged 7 and under",
        "between 5 and 7 years old",
        "under 5 years old",
        # Durations, things, departments and products.
        "服刑18个月，缓刑3天",
        "my car is 7 years old",
        "a 10-year-old bond",
        "whisky aged 12 years in oak",
        "wine aged 12 years",
        "新生儿科值班医生",
        "婴儿车一辆",
        "男童装八折",
        "page 7, stage 3 cancer, usage 5",
        "one son, 3 daughters",
        # A bare age without a person word is under the default threshold.
        "他8岁那年搬到上海。",
    ],
)
def test_not_a_child(minors: Analyzer, text: str) -> None:
    assert found(minors, text) == []


def test_a_bare_age_is_found_below_the_default_threshold() -> None:
    low = Analyzer(entities=["MINOR_UNDER_14"], min_score=0.4)
    [finding] = low.analyze("他8岁那年搬到上海。")
    assert finding.score < 0.5 and "without a person word" in finding.explanation


def test_scores_and_explanations(minors: Analyzer) -> None:
    by_span = {f"{f.start}:{f.end}": f for f in minors.analyze("8岁男童")}
    assert by_span["0:2"].score == 0.95 and "child noun" in by_span["0:2"].explanation
    [labelled] = minors.analyze("年龄：8岁")
    assert labelled.score == 0.9 and "age label" in labelled.explanation
    assert category_of(labelled.entity) == "minors" and is_sensitive(labelled.entity)


def test_minors_do_not_hide_other_entities() -> None:
    analyzer = Analyzer(entities=["MINOR_UNDER_14", "CN_MOBILE", "MEDICAL"])
    text = "患儿，男，8岁，诊断肺炎，家长电话13812345678"
    assert found(analyzer, text) == [
        ("MINOR_UNDER_14", "患儿"),
        ("MINOR_UNDER_14", "8岁"),
        ("MEDICAL", "肺炎"),
        ("CN_MOBILE", "13812345678"),
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("八", 8),
        ("十", 10),
        ("十三", 13),
        ("二十", 20),
        ("二十三", 23),
        ("两", 2),
        ("零", 0),
        ("一百", None),
        ("三三", None),
    ],
)
def test_chinese_numerals(text: str, number: int | None) -> None:
    assert cn_number(text) == number


@pytest.mark.parametrize(
    ("cell", "years"),
    [
        ("8", 8.0),
        ("8岁", 8.0),
        ("13周岁", 13.0),
        ("八岁", 8.0),
        ("3个月", 0.25),
        ("6m", 0.5),
        ("8 years", 8.0),
        ("8 years old", 8.0),
        ("8.5", 8.5),
        ("45", 45.0),
        ("abc", None),
        ("200", None),
        ("8-12", None),
    ],
)
def test_age_cells(cell: str, years: float | None) -> None:
    assert parse_age(cell) == years


def test_age_cells_in_the_column_unit() -> None:
    assert parse_age("6", unit="月") == 0.5
    assert parse_age("20", unit="天") == pytest.approx(20 / 365)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Statistics and news speak of babies in general: nobody's data.
        ("全市新生儿数量下降", []),
        ("据统计，婴儿死亡率下降", []),
        ("新生儿男女比例为1.1", []),
        ("新生儿体检率达到98%", []),
        # One child's record says so nearby.
        ("新生儿，男，出生3天，黄疸", ["新生儿"]),
        ("患者为新生儿，母亲姓王", ["新生儿"]),
        ("婴儿，女，5个月", ["婴儿"]),
    ],
)
def test_words_for_babies_in_general_are_not_a_childs_data(minors: Analyzer, text: str, expected: list[str]) -> None:
    assert spans(minors, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # HTTP headers, cookies and configuration: "age" of a cache, a cookie, a log (audit M2).
        "Cache-Control: no-cache, no-store, max-age=0, must-revalidate",
        "Strict-Transport-Security: max-age=0",
        "set-cookie: sid=; Max-Age=0; Path=/",
        "Age: 0",
        "HTTP/1.1 200 OK Age: 12 Via: 1.1 varnish",
        "min_age=6",
        "session.max_age = 12",
        "retention max age 7 days",
        "Age: 7 days (log rotation)",
        "age=7 in the config file",
        "Level 3 Age 7 Monster",
        # Ranges and limits after an age label (audit M3).
        "适用年龄：3-6岁",
        "适用年龄：3-12岁",
        "年龄：3~12岁",
        "年龄：3至12岁",
        "纳入患儿年龄5岁至12岁",
        "建议年龄：8岁+",
        # Statistics, literature and children in general (audit M4).
        "2023年全市出生人口8.2万人，新生儿数量同比下降。",
        "6岁儿童入学率达到99.9%。",
        "小学生平均年龄9岁。",
        "平均年龄为8.3岁的儿童。",
        "本组患儿男32例，女28例，年龄1-13岁，中位年龄6岁。",
        "Mean age 8.4 years (SD 2.1).",
        "mean age 6.2 years",
        "median age 9 years",
        "新生儿黄疸一般在出生后2-3天出现。",
        "本研究纳入6-12岁哮喘患儿120例。",
        "患儿平均年龄（7.2±3.1）岁。",
        "7岁孩子的家长都会遇到这个问题。",
        "如何教育3岁的孩子？",
        "5岁宝宝应该会什么？",
        "男孩一般在11岁进入青春期。",
        "A typical 8-year-old child needs 10 hours of sleep.",
        "Children aged 7 were more likely to be admitted.",
        # Things.
        "Windows 10 turns 9 years old.",
        "Version 7 is 2 years old.",
        "A 6-month-old startup.",
        "This 3-month-old iPhone is like new.",
        "The file is 3 days old.",
        "女童连衣裙130码",
    ],
)
def test_groups_things_and_configuration_are_not_a_child(minors: Analyzer, text: str) -> None:
    assert found(minors, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # One child, with the same words nearby that the negatives above use otherwise.
        ("A 7-year-old boy was struck by a car and died despite all efforts.", ["7-year-old"]),
        ("An 18-month-old was found unresponsive in the bath.", ["18-month-old"]),
        ("The deceased was 7 years old.", ["7 years old"]),
        ("She was 9 years old.", ["9 years old"]),
        ("Patient age: 7", ["7"]),
        ("patient_age=7", ["7"]),
        ("Age: 7 years", ["7 years"]),
        ("at age 6 he moved", ["6"]),
        ("her age 7", ["7"]),
        ("患儿，男，8岁，一般情况差，心率120次/分。", ["患儿", "8岁"]),
        ("患儿一般情况可，体温38.5℃。", ["患儿"]),
        ("年龄：8", ["8"]),
    ],
)
def test_one_child_is_still_found(minors: Analyzer, text: str, expected: list[str]) -> None:
    assert spans(minors, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Death certificates and case notes (outside audit, recall).
        ("张小明（8岁）", ["8岁"]),
        ("张某（男，8岁）落水", ["8岁"]),
        ("张小明，8周岁", ["8周岁"]),
        ("张小明/男/8岁", ["8岁"]),
        ("女/9岁", ["9岁"]),
        ("年龄（岁）：8", ["8"]),
        ("年龄(岁):8", ["8"]),
        ("年龄（月）：20", ["20"]),
        ("年龄=8", ["8"]),
        ("年龄 8", ["8"]),
        ("年龄：3月15天", ["3月15天"]),
        ("出生仅3天即死亡", ["3天"]),
        ("生后28天", ["28天"]),
        ("儿童，约7岁，呼吸困难。", ["7岁"]),
        ("宝宝2个月，呛奶后面色青紫。", ["2个月"]),
        ("幼儿 2岁 误吞硬币", ["2岁"]),
        ("伤者系一名初中生（13岁）。", ["13岁"]),
    ],
)
def test_chinese_forms_of_one_child(minors: Analyzer, text: str, expected: list[str]) -> None:
    assert spans(minors, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # The same shapes for adults, groups, schedules and durations.
        "张小明（38岁）",
        "张小明，45周岁",
        "张小明/男/45岁",
        "男/女：3岁",
        "男/女比例为1.1",
        "年龄（岁）：45",
        "年龄=30",
        "平均年龄（岁）：8",
        "最小年龄（岁）：3",
        "适用年龄（3岁）",
        "年龄 8 9 10 11",
        "年龄 8-12",
        "年龄：3月15日出生",
        "宝宝3天没大便",
        "孩子住院3个月",
        "生后28天内接种",
        "出生后3天内接种卡介苗",
        "出生3天后复查",
        "（8岁以下）免票",
        "三年级，8岁以下",
    ],
)
def test_chinese_forms_not_of_one_child(minors: Analyzer, text: str) -> None:
    assert found(minors, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Decedent's age (last birthday): 11", ["11"]),
        ("Age (years): 8", ["8"]),
        ("Age Under 1 Year: 3 Months", ["3 Months"]),
        ("Age under 1 day: 14 Hours", ["14 Hours"]),
        ("Pt is 9 y.o. male", ["9 y.o."]),
        ("Age/Sex: 8/M", ["8"]),
        ("Sex/Age: F/6y", ["6"]),
        ("He was only 9 when he died.", ["9"]),
        ("The patient is 8.", ["8"]),
        ("patient, 8, presented with seizure", ["8"]),
        ("The infant was found unresponsive", ["infant"]),
        ("Her baby died in the crib.", ["baby"]),
        ("Baby Girl Smith, born 2024-06-01", ["Baby Girl Smith"]),
    ],
)
def test_english_forms_of_one_child(minors: Analyzer, text: str, expected: list[str]) -> None:
    assert spans(minors, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Age (years): 45",
        "Age (mean): 8",
        "Max-Age (seconds): 0",
        "Age under 1 year: see item 24a",
        "Cache age under 1 day: 14 hours",
        "Age/Sex: 45/M",
        "Sex/Age: F/62",
        "He was 9 minutes late.",
        "She was 2 of 5 finalists.",
        "He was 9th in the race.",
        "It was 9 when we left.",
        "The score was 9.",
        "The patient was 45.",
        "Patient, 8 mg of morphine given",
        "patients, 8, were enrolled",
        "victim, 3 others injured",
        "An infant needs 14 hours of sleep.",
        "infant mortality rate fell",
        "The infant formula was recalled.",
        "Typically the infant was placed on its back.",
        "A baby was born every 8 seconds.",
        "The baby boomers retired.",
        "Baby Girl Names for 2024",
        "Baby Boy Clothes, 3 for $20",
    ],
)
def test_english_forms_not_of_one_child(minors: Analyzer, text: str) -> None:
    assert found(minors, text) == []
