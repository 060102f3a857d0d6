"""MINOR_UNDER_14: text that shows a person is a child under 14 (PIPL Art. 28 makes any
personal information of such a minor sensitive).

Found: an age under 14 stated with a label (``年龄：8岁``, ``age: 7``, ``aged 7``), written as a
person's age (``8岁男童``, ``患者，男，8岁``, ``7-year-old``, ``7 yo``, ``child, 6``), and the words
that only name a child (``患儿``, ``男童``, ``女婴``, ``新生儿``, ``the infant was found``), and the
forms of death certificates and case notes (``年龄（岁）：8``, ``年龄：3月15天``, ``张小明（8岁）``,
``女/9岁``, ``生后28天``, ``Age Under 1 Year: 3 Months``, ``Age/Sex: 8/M``, ``Baby Girl Smith``).
An age alone (``8岁``) with no label, person word or child noun near it is scored under the
default threshold: ``8岁以下免票`` and ``the 7 years old building`` are not about a person.
Ranges and limits (``3-12岁``,
``14岁以下``, ``under 14``) never are. ``parse_age`` reads a table cell as an age in years.
"""

from __future__ import annotations

import re

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer, find_context
from piguard.discover.recognizers.cn.surnames import COMPOUND_SURNAMES, SINGLE_SURNAMES

__all__ = ["MINOR_AGE", "MINOR_ENTITY", "MinorRecognizer", "cn_number", "is_child_word", "parse_age"]

MINOR_ENTITY = "MINOR_UNDER_14"
#: PIPL Art. 28: the personal information of a minor under 14 is sensitive.
MINOR_AGE = 14

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {
    word: i
    for i, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
        ]
    )
}


def cn_number(text: str) -> int | None:
    """A Chinese numeral below 100 (``八``, ``十三``, ``二十``, ``两``), else None."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _number(text: str) -> float | None:
    text = text.strip().lower()
    if text in _EN_NUMBERS:
        return float(_EN_NUMBERS[text])
    try:
        return float(text)
    except ValueError:
        pass
    n = cn_number(text)
    return None if n is None else float(n)


# Years per unit; a unit not listed here is years.
_PER_YEAR = {
    "月": 12.0,
    "个月": 12.0,
    "个多月": 12.0,
    "月龄": 12.0,
    "month": 12.0,
    "months": 12.0,
    "mo": 12.0,
    "mos": 12.0,
    "m": 12.0,
    "周": 52.0,
    "week": 52.0,
    "weeks": 52.0,
    "wk": 52.0,
    "wks": 52.0,
    "w": 52.0,
    "天": 365.0,
    "日": 365.0,
    "日龄": 365.0,
    "day": 365.0,
    "days": 365.0,
    "d": 365.0,
    "hour": 8766.0,
    "hours": 8766.0,
    "hr": 8766.0,
    "hrs": 8766.0,
    "minute": 525960.0,
    "minutes": 525960.0,
    "min": 525960.0,
    "mins": 525960.0,
}


def _years(number: float, unit: str | None) -> float:
    unit = (unit or "").lower()
    half = 0.5 if unit.endswith("半") else 0.0
    unit = unit.removesuffix("半").removesuffix("大").removesuffix("-old").removesuffix(" old").strip(" -")
    return number / _PER_YEAR.get(unit, 1.0) + half


_NUM = r"(?:\d{1,3}(?:\.\d)?|[零〇一二两三四五六七八九十]{1,3})"
_CELL = re.compile(
    # Up to five digits: an age in days (4000) is a number of days.
    rf"(?P<num>\d{{1,5}}(?:\.\d+)?|[零〇一二两三四五六七八九十]{{1,3}}|{'|'.join(_EN_NUMBERS)})\s*"
    r"(?P<unit>周岁|岁半?|个多?月|月龄|月|天|日龄|周|years?|yrs?|y|months?|mos?|m|weeks?|wks?|w|days?|d)?"
    r"\s*(?:old)?",
    re.IGNORECASE,
)


def parse_age(value: str, *, unit: str | None = None) -> float | None:
    """A table cell read as an age in years (``8``, ``8岁``, ``3个月``, ``15天``, ``8 years``,
    ``6m``), or None; ``unit`` is the column's unit when its name gives one (``月龄``)."""
    m = _CELL.fullmatch(value.strip())
    if m is None:
        return None
    number = _number(m.group("num"))
    if number is None:
        return None
    years = _years(number, m.group("unit") or unit)
    return years if 0 <= years <= 130 else None


# Chinese: a number and an age unit. "个月" and "天" are durations too (服刑18个月), so they
# count only with 大 or 龄 (3个月大, 月龄), a child noun after them, or an age label before.
_CN_AGE = re.compile(rf"(?<![\d.])(?P<num>{_NUM})\s*(?P<unit>周岁|岁半?|个多?月大?|月龄|天大?|日龄)")
_CN_LABEL = re.compile(r"(?:年龄|年纪|岁数|实足年龄|享年|终年|年仅|年方|现年|今年)\s*[:：=]?\s*$")
# An age label with a bare number after it (a form: "年龄：8", "年龄（岁）：8", "年龄=8", "年龄 8"),
# not the start of a range ("年龄：3-6岁") or a row of numbers ("年龄 8 9 10"). A unit in brackets
# after the label is the number's unit; after a label "3月" is months (the death certificate's
# infant age "3月15天"), where elsewhere it is March.
_CN_LABEL_BARE = re.compile(
    r"(?:年龄|年纪|岁数|实足年龄)\s*(?:[（(]\s*(?P<lunit>周岁|岁|个?月|天|日)\s*[)）])?\s*(?:[:：=]|\s)\s*"
    r"(?P<num>\d{1,3})(?:(?P<month>月)(?:\d{1,2}天)?)?"
    r"(?![\d.岁月个天周龄份号日]|\s*(?:[-~～—－+]|至|到|\d))"
)
_CN_CHILD_AFTER = re.compile(
    r"\s*的?(?:男童|女童|男孩|女孩|儿童|患儿|孩子|小孩|宝宝|男婴|女婴|婴儿|幼儿|儿子|女儿|孙子|孙女|外孙|学生|小学生)"
)
# Ranges and limits are about a group, not a person: 3-12岁, 3至12岁, 8岁以下, 14周岁以上.
# The first end may carry its unit (5岁至12岁); "8岁+" is a lower limit.
_CN_RANGE_BEFORE = re.compile(rf"{_NUM}\s*(?:周岁|岁|个月|月|天)?\s*(?:[-~～—－]|至|到)\s*$")
_CN_RANGE_AFTER = re.compile(r"\s*(?:以下|以上|以内|及以下|及以上|[-~～—－]\s*\d|至|到|起|之间|[+＋])")
# A label that makes the age a rule for a group: 适用年龄, 建议年龄, 最小年龄, 入学年龄.
_CN_LIMIT_LABEL = re.compile(
    r"(?:适用|建议|推荐|要求|最小|最大|最低|最高|入学|入园|法定|平均|中位)\s*(?:年龄|年纪)"
    r"\s*(?:[（(][^）)]{1,4}[)）])?\s*[:：为=（(]?\s*$"
)
# What makes a clause about a group, a population or children in general rather than one
# child: statistics (counts of cases, rates, means, medians), a population, and generic or
# habitual statements and questions (一般, 通常, 如何, 应该, 都会). A record of one child is
# written without them; "一般情况" is the clinical "general condition", "心率" a heart rate.
_CN_GROUP = re.compile(
    r"\d+\s*例|万人|人口|数量|(?<![心频])率|比例|平均|中位|均值|均数|±|统计|纳入|本组|研究|调查"
    r"|一般(?!情况)|通常|往往|普遍|大多|多数|大部分|都会|每个|每名|每位|所有|如何|怎么|怎样|为什么|什么|应该|应当|哪些"
    r"|家长们|[?？]"
)
_CN_CLAUSE = re.compile(r"[，,。；;！!？?\n]")
_CN_PERSON_CONTEXT = (
    "患者",
    "死者",
    "病人",
    "病员",
    "孩子",
    "小孩",
    "儿子",
    "女儿",
    "男孩",
    "女孩",
    "学生",
    "宝宝",
    "孙子",
    "孙女",
    "外孙",
    "男，",
    "女，",
    "男,",
    "女,",
    "男性",
    "女性",
    "姓名",
    "患儿",
    "男童",
    "女童",
    "男婴",
    "女婴",
    "婴儿",
    "新生儿",
    "儿童",
    "幼儿",
    "初中生",
    "中学生",
    "伤者",
)
# What says, right before an age, whose it is. A child noun before an age in months or days
# makes it the child's age (宝宝2个月, 患儿3天), unless a negation or a time word after it makes
# it a duration (宝宝3天没大便, 3天内). 出生 with 仅/才 or the clinical 生后 before days or months is
# an infant's age (出生仅3天, 生后28天); a bare 出生3天 is also a point in a schedule.
_CN_CHILD_BEFORE = re.compile(r"(?:患儿|男童|女童|男婴|女婴|婴儿|新生儿|宝宝|幼儿|儿童)\s*(?:约|仅|才|已|刚满|满)?\s*$")
_CN_BIRTH_BEFORE = re.compile(
    r"(?:出生后?\s*(?:仅|才|只有?|刚|不到|不足)|(?<!出)生后\s*(?:仅|才|只有?|刚|不到|不足)?)\s*$"
)
_CN_DURATION_AFTER = re.compile(r"\s*(?:没|未|不|内|以来|后|前|起)")
# A sex given as a field of its own right before the age: "张小明/男/8岁", "女/9岁" (not "男/女").
_CN_SEX_FIELD = re.compile(r"(?<!\w)[男女]性?\s*[/／|]\s*$")
# An age in brackets right after a name or person word is that person's: "张小明（8岁）",
# "初中生（13岁）", "张某（男，8岁）". A name (a surname and one or two characters) alone in
# its field right before the age: "张小明，8周岁".
_CN_BRACKET_BEFORE = re.compile(r"[\u4e00-\u9fff][（(]\s*(?:[男女]性?\s*[，,、/]\s*)?$")
_CN_BRACKET_AFTER = re.compile(r"\s*(?:[，,、]\s*[男女]性?\s*)?[)）]")
_CN_NAME_BEFORE = re.compile(r"(?:^|[\s:：;；。，,、|/])(?P<name>[\u4e00-\u9fff]{2,4})\s*[，,/／]\s*$")
# Ages in months or days with 大 or 龄 are only said of infants: 3个月大, 5月龄, 20天大.
_INFANT_UNITS = frozenset({"个月大", "个多月大", "月龄", "天大", "日龄"})
# Words for babies that statistics and news also use collectively: one child's record says so
# nearby (a sex, an age in days or months, a birth, a parent, a name, a patient or the deceased).
_COLLECTIVE = frozenset({"婴儿", "新生儿"})
_INDIVIDUAL_SPAN = 16
_CN_INDIVIDUAL = re.compile(
    r"(?:^|[，,:：;；\s])[男女](?:性)?(?:$|[，,。;；\s])|性别|出生|[0-9一二三四五六七八九十]+\s*(?:天|日龄|个月|月龄)"
    r"|母亲|父亲|之子|之女|姓名|患者|死者|病人|某某|某[男女]"
)
# Words that only ever name a child; not as the start of a thing (婴儿车, 新生儿科).
_CN_CHILD_WORDS = re.compile(r"患儿|男童|女童|男婴|女婴|新生儿|婴儿(?![车床用奶服装房室游])")
_CN_WORD_NOT_PERSON = re.compile(r"[科期室房病装服鞋衣裙裤袜帽]|护理|筛查|用品|疾病|医院|重症|连衣裙|奶粉|玩具")
_EN_CHILD_WORDS = frozenset(
    {"child", "children", "boy", "girl", "son", "daughter", "kid", "baby", "infant", "toddler", "newborn", "neonate"}
)


def is_child_word(text: str) -> bool:
    """Whether ``text`` is only a word that names a child (``患儿``, ``新生儿``, ``infant``): in a
    column name or a JSON key it says what the column is about, not whose data the name is."""
    text = text.strip()
    return _CN_CHILD_WORDS.fullmatch(text) is not None or text.lower() in _EN_CHILD_WORDS


_EN_NUM = rf"(?:\d{{1,2}}(?:\.\d)?|{'|'.join(_EN_NUMBERS)})"
_EN_UNITS = r"years?|yrs?|y|months?|mos?|weeks?|wks?|days?|hours?|hrs?"
# A qualifier in brackets after the label is a form's: the unit of the field ("Age (years): 8") or
# which age it is ("Decedent's age (last birthday): 11").
_EN_LABELLED = re.compile(
    r"(?<![A-Za-z])(?P<label>age[d]?)"
    rf"(?:\s*\((?:in\s+)?(?P<qual>(?P<qunit>{_EN_UNITS})|last\s+birthday|at\s+(?:last\s+birthday|death|time\s+of\s+death)"
    r"|completed\s+years)\))?(?:\s*[:=]\s*|\s+)(?P<num>\d{1,3}(?:\.\d)?)"
    rf"(?:\s*(?P<unit>{_EN_UNITS})(?![A-Za-z]))?(?![\d\-–]|\.\d)",
    re.IGNORECASE,
)
# A death certificate's age fields for infants ("Age Under 1 Year: 3 Months", "Under 1 Day: 14
# Hours"): whatever the value, it is the age of a child under one.
_EN_UNDER_ONE = re.compile(
    r"(?<![A-Za-z])age\s*[-–(,]?\s*under\s+(?:1|one)\s+(?:year|day)\s*\)?\s*[:=]\s*"
    r"(?P<value>\d{1,2}\s*(?:months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?)(?![A-Za-z]))",
    re.IGNORECASE,
)
# A clinical note's combined field: "Age/Sex: 8/M", "Sex/Age: F/8y".
_EN_SEX = r"(?:m|f|male|female)"
_EN_AGE_SEX = re.compile(
    rf"(?<![A-Za-z])(?:age\s*/\s*(?:sex|gender)\s*[:=]?\s*(?P<num>\d{{1,3}})\s*(?P<unit>{_EN_UNITS}|yo|d|w|m)?\s*/\s*{_EN_SEX}"
    rf"|(?:sex|gender)\s*/\s*age\s*[:=]?\s*{_EN_SEX}\s*/\s*(?P<num2>\d{{1,3}})\s*(?P<unit2>{_EN_UNITS}|yo|d|w|m)?)"
    r"(?![A-Za-z\d])",
    re.IGNORECASE,
)
_EN_YEAR_OLD = re.compile(
    rf"(?<![A-Za-z\d.])(?P<num>{_EN_NUM})(?:[\s-]|\s?-\s?)(?P<unit>years?|months?|weeks?|days?)[\s-]old(?![A-Za-z])",
    re.IGNORECASE,
)
# Starts with the digit (no lookbehind), so that the regex engine can skip to digits fast.
_EN_YO = re.compile(r"(?P<num>\d{1,2})\s?(?:yo|y/o|y\.o\.?)(?![A-Za-z])", re.IGNORECASE)
_EN_CHILD_COMMA = re.compile(
    r"(?<![A-Za-z])(?P<who>child|boy|girl|son|daughter|kid|baby|infant|toddler|pupil|grandson|granddaughter"
    r"|nephew|niece|patient|pt|decedent|deceased|victim)(?:\s*,\s*|\s*\(\s*)(?P<num>\d{1,2})(?:\s*\))?(?![\d.%]|\s+[A-Za-z])",
    re.IGNORECASE,
)
_EN_PERSON_AFTER = re.compile(
    r"[\s-]+(?:boy|girl|child|son|daughter|kid|baby|infant|toddler|patient|student|pupil|brother|sister"
    r"|grandson|granddaughter|nephew|niece|twins?|male|female)s?(?![A-Za-z])",
    re.IGNORECASE,
)
# What a stated age is often about when it is not a person.
_EN_THING_AFTER = re.compile(
    r"[\s-]+(?:car|vehicle|truck|bike|boat|house|home|building|roof|company|firm|business|brand|tree|dog|cat"
    r"|puppy|kitten|horse|foal|calf|pet|laptop|computer|phone|device|machine|account|bottle|wine|whisky"
    r"|whiskey|scotch|bourbon|cheese|bond|loan|mortgage|policy|record|tradition|site|blog|post|thread|bug"
    r"|issue|game|model|version|app|software|system|debt|tire|tyre|battery)s?(?![A-Za-z])",
    re.IGNORECASE,
)
_EN_AGED_THING = re.compile(r"\s*(?:in|for)\s+(?:oak|barrels?|casks?)", re.IGNORECASE)
# Things that are aged or N years old, named before the age: "whisky aged 12 years", "my car
# is 7 years old" (a person word nearer to the age wins: "my son is 7 years old").
_EN_THINGS = (
    "whisky",
    "whiskey",
    "scotch",
    "bourbon",
    "wine",
    "cheese",
    "rum",
    "brandy",
    "cognac",
    "beef",
    "steak",
    "vinegar",
    "car",
    "vehicle",
    "truck",
    "house",
    "building",
    "roof",
    "company",
    "tree",
    "dog",
    "cat",
    "horse",
    "laptop",
    "computer",
    "machine",
    "account",
    "bond",
    "loan",
    "policy",
)
_EN_PERSONS = (
    "son",
    "daughter",
    "child",
    "boy",
    "girl",
    "kid",
    "baby",
    "patient",
    "brother",
    "sister",
    "grandson",
    "granddaughter",
    "nephew",
    "niece",
    "student",
    "pupil",
    "he",
    "she",
    "who",
)
# "age" is a person's age after nothing, a field separator, a possessive or a preposition ("Age:",
# "her age", "at age 7") or after a person word ("patient_age", "child age"); any other word
# before it says whose or what age it is (max-age, min_age, mean age, cache age, Level 3 Age).
_EN_AGE_OPENERS = frozenset(
    {"at", "by", "of", "the", "his", "her", "their", "its", "whose", "my", "your", "our", "and", "with", "from", "to"}
)
_EN_WORD_BEFORE = re.compile(r"([A-Za-z]+|\d+)[\s_.\-]*$")
# Lines of HTTP, cookies, caches and configuration use "age" for durations and limits.
_EN_CONFIG = re.compile(
    r"https?\b|cache|cookie|header|\bvia\b|config|setting|session|\bttl\b|retention|rotation|expir|\blog\b"
    r"|server|proxy|token",
    re.IGNORECASE,
)
# Fields of a person's record near an "age" field: it is a form about a person.
_EN_FORM = re.compile(
    r"\b(?:name|sex|gender|dob|born|birth|patient|pt|deceased|decedent|victim|child|boy|girl|infant|baby|male"
    r"|female|mother|father|parent|guardian|student|pupil|son|daughter|he|she)\b",
    re.IGNORECASE,
)
# What makes an English statement about children in general or a group: "A typical 8-year-old
# child needs…", "the average age", "usually", a population or a cohort.
_EN_GENERIC = re.compile(
    r"\b(?:typical(?:ly)?|average|median|usually|generally|normally|population|cohort)\b", re.IGNORECASE
)
# A plural person noun right before "aged": a group ("Children aged 7 were more likely…").
_EN_GROUP_BEFORE = re.compile(
    r"\b(?:children|kids|boys|girls|patients|students|pupils|infants|babies|toddlers|people|subjects|participants)"
    r"\s*,?\s*$",
    re.IGNORECASE,
)
_EN_SENTENCE = re.compile(r"[.;!?\n]\s")
_EN_RANGE_AFTER = re.compile(
    r"\s*(?:[-–~]|to|and\s+(?:under|over|up|older|younger)|or\s+(?:under|older|younger|over)|\+)", re.IGNORECASE
)
_EN_RANGE_BEFORE = re.compile(r"(?:under|over|below|above|between|from|to|[-–~]|\d\s*(?:and|or))\s*$", re.IGNORECASE)
# Cheap tests before the patterns run (most lines hold none of these).
_CN_HINTS = ("岁", "童", "婴", "龄", "患儿", "新生儿", "个月", "天")
_EN_CHILD_WORD = re.compile(
    r"child|boy|girl|son|daughter|kid|baby|infant|toddler|pupil|nephew|niece|newborn|neonate|patient|\bpt\b"
    r"|decedent|deceased|victim"
)
# A person said to be an age: "He was only 9 when he died.", "The patient is 8." The number must
# end the clause or be followed by "when" or "at the time"; any other word after it makes it a
# count or a measure ("he was 9 minutes late", "she was 2 of 5").
_EN_WAS_AGE = re.compile(
    r"(?<![A-Za-z])(?P<who>he|she|boy|girl|child|son|daughter|kid|baby|infant|toddler|victim|deceased|decedent"
    rf"|patient)\s+(?:is|was)\s+(?:only\s+|just\s+|barely\s+)?(?P<num>\d{{1,2}}|{'|'.join(_EN_NUMBERS)})"
    r"(?=\s+(?:when|at\s+the\s+time|at\s+(?:his|her|the)\s+death)\b|\s*(?:[.;!?](?!\d)|,\s|$))",
    re.IGNORECASE,
)
# One young child in a record of what happened to it: a determiner, the word, and a verb in the
# past ("The infant was found unresponsive", "her baby died"); a generic statement is in the
# present ("An infant needs…") and a thing follows the word ("infant formula", "baby monitor").
_EN_ONE_INFANT = re.compile(
    r"(?<![A-Za-z])(?:the|this|an?|her|his|their|our|my)\s+(?P<word>infant|newborn|neonate|toddler|baby)"
    r"\s+(?:was|had|has\s+been|died|fell|[a-z]{3,}ed)(?![A-Za-z])",
    re.IGNORECASE,
)
# A rate is a statistic about babies, not a record of one ("A baby was born every 8 seconds").
_EN_RATE = re.compile(r"\b(?:every|per|each|rates?)\b", re.IGNORECASE)
# A hospital's name for a newborn not yet named ("Baby Girl Smith"), on a line of a birth record.
_EN_NEWBORN_NAME = re.compile(r"(?<![A-Za-z])(?:Baby|Infant)\s+(?:Girl|Boy)\s+[A-Z][A-Za-z'\-]+")
_EN_BIRTH_RECORD = re.compile(
    r"\b(?:born|dob|birth|mother|mrn|died|delivered|deceased|decedent)\b|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}",
    re.IGNORECASE,
)


class MinorRecognizer(Recognizer):
    """Ages under 14 stated in text and words that only name a child (``MINOR_UNDER_14``)."""

    name = "minor_under_14"
    entities = (MINOR_ENTITY,)

    def prefilter(self, text: str) -> bool:
        """Needs an age word or unit (岁, 童, 个月, age, old, yo, child...)."""
        if any(hint in text for hint in _CN_HINTS):
            return True
        lower = text.lower()
        return (
            "age" in lower
            or "old" in lower
            or "y/o" in lower
            or "yo" in lower
            or "y.o" in lower
            or " was " in lower
            or " is " in lower
            or bool(_EN_CHILD_WORD.search(lower))
        )

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Ages under 14 and child words, scored by how clearly they are a person's."""
        if MINOR_ENTITY not in entities:
            return []
        out: list[Finding] = []
        if any(hint in text for hint in _CN_HINTS):
            self._chinese(text, out)
        self._english(text, text.lower(), out)
        return out

    def _add(self, out: list[Finding], start: int, end: int, score: float, explanation: str) -> None:
        out.append(Finding(MINOR_ENTITY, start, end, score, explanation, self.name))

    def _chinese(self, text: str, out: list[Finding]) -> None:
        for m in _CN_AGE.finditer(text):
            start, end = m.span()
            number, unit = _number(m.group("num")), m.group("unit")
            if number is None or _years(number, unit) >= MINOR_AGE:
                continue
            if _CN_RANGE_BEFORE.search(text, max(0, start - 10), start) or _CN_RANGE_AFTER.match(text, end):
                continue
            if _CN_LIMIT_LABEL.search(text, max(0, start - 10), start) or _group_clause(text, start, end):
                continue  # a rule or a statistic for a group, or children in general
            labelled = _CN_LABEL.search(text, max(0, start - 8), start) is not None
            child = _CN_CHILD_AFTER.match(text, end) is not None
            child_before = _CN_CHILD_BEFORE.search(text, max(0, start - 8), start) is not None
            born = _CN_BIRTH_BEFORE.search(text, max(0, start - 8), start) is not None
            duration = unit in ("个月", "个多月", "天")
            # 18个月, 3天: a duration, unless an age label, a child noun or a birth says otherwise.
            of_a_child = labelled or child or ((child_before or born) and not _CN_DURATION_AFTER.match(text, end))
            if duration and not of_a_child:
                continue
            if child:
                score, why = 0.95, "age under 14 before a child noun"
            elif labelled:
                score, why = 0.9, "age under 14 after an age label"
            elif child_before:
                score, why = 0.9, "age under 14 after a child noun"
            elif born:
                score, why = 0.85, "an infant's age after its birth"
            elif (word := find_context(text, start, end, _CN_PERSON_CONTEXT)) is not None:
                score, why = 0.85, f"age under 14; context {word}"
            elif (whose := _cn_whose(text, start, end)) is not None:
                score, why = 0.8, f"age under 14 {whose}"
            elif unit in _INFANT_UNITS:
                score, why = 0.8, f"an infant's age ({unit})"
            else:
                score, why = 0.45, "age under 14 without a person word"
            self._add(out, start, end, score, why)
        for m in _CN_LABEL_BARE.finditer(text):
            unit = m.group("month") or m.group("lunit")
            if _years(int(m.group("num")), unit) >= MINOR_AGE:
                continue
            if _CN_LIMIT_LABEL.search(text, max(0, m.start() - 4), m.start("num")):
                continue
            if not _group_clause(text, m.start(), m.end()):
                self._add(out, m.start("num"), m.end(), 0.85, "age under 14 after an age label")
        for m in _CN_CHILD_WORDS.finditer(text):
            if _CN_WORD_NOT_PERSON.match(text, m.end()):
                continue  # 新生儿科, 婴儿期, 新生儿筛查: a department, a period, a programme
            word = m.group()
            if _group_clause(text, m.start(), m.end()):
                # 本组患儿32例, 新生儿数量下降, 新生儿黄疸一般在…: children as a group or in general.
                self._add(out, m.start(), m.end(), 0.45, f"word {word} about a group or children in general")
                continue
            near = text[max(0, m.start() - _INDIVIDUAL_SPAN) : m.end() + _INDIVIDUAL_SPAN]
            if word in _COLLECTIVE and _CN_INDIVIDUAL.search(near) is None:
                # 婴儿死亡率, 全市新生儿数量: babies in general, not one child's data.
                self._add(out, m.start(), m.end(), 0.45, f"word {word} without a person word")
                continue
            score = 0.8 if word == "患儿" else 0.7
            self._add(out, m.start(), m.end(), score, f"word {word} names a child")

    def _english(self, text: str, lower: str, out: list[Finding]) -> None:
        # Each pattern runs only when its word is in the line (a scan per pattern is the cost).
        if "age" in lower:
            self._labelled(text, out)
            self._age_forms(text, out)
        if " was " in lower or " is " in lower:
            for m in _EN_WAS_AGE.finditer(text):
                number = _number(m.group("num"))
                if number is not None and number < MINOR_AGE and not _en_generic(text, m.start(), m.end()):
                    self._add(out, m.start("num"), m.end("num"), 0.85, f"age under 14 of '{m.group('who').lower()}'")
        if "old" in lower:
            self._year_old(text, out)
        if "yo" in lower or "y/o" in lower or "y.o" in lower:
            for m in _EN_YO.finditer(text):
                if int(m.group("num")) < MINOR_AGE and not _glued_before(text, m.start()):
                    self._add(out, m.start(), m.end(), 0.85, "age under 14 (yo)")
        if _EN_CHILD_WORD.search(lower):
            self._child_words(text, out)

    def _child_words(self, text: str, out: list[Finding]) -> None:
        if "," in text or "(" in text:
            for m in _EN_CHILD_COMMA.finditer(text):
                if int(m.group("num")) < MINOR_AGE:
                    who = m.group("who").lower()
                    self._add(out, m.start("num"), m.end("num"), 0.85, f"age under 14 after '{who}'")
        for m in _EN_ONE_INFANT.finditer(text):
            if not _en_generic(text, m.start(), m.end()) and not _en_sentence_has(text, m.start(), m.end(), _EN_RATE):
                word = m.group("word").lower()
                self._add(out, m.start("word"), m.end("word"), 0.7, f"word {word} names one child")
        for m in _EN_NEWBORN_NAME.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            line = text[line_start : len(text) if line_end < 0 else line_end]
            if _EN_BIRTH_RECORD.search(line):
                self._add(out, m.start(), m.end(), 0.85, "a newborn's name before it is named")

    def _age_forms(self, text: str, out: list[Finding]) -> None:
        for m in _EN_UNDER_ONE.finditer(text):
            if not _EN_CONFIG.search(text):
                self._add(out, m.start("value"), m.end("value"), 0.9, "an age under one year (form field)")
        for m in _EN_AGE_SEX.finditer(text):
            num, unit = (m.group("num"), m.group("unit")) if m.group("num") else (m.group("num2"), m.group("unit2"))
            unit = {"yo": "y", "m": "mo"}.get((unit or "").lower(), unit)
            if _years(float(num), unit) < MINOR_AGE:
                group = "num" if m.group("num") else "num2"
                self._add(out, m.start(group), m.end(group), 0.9, "age under 14 in an age/sex field")

    def _labelled(self, text: str, out: list[Finding]) -> None:
        for m in _EN_LABELLED.finditer(text):
            number = _number(m.group("num"))
            if number is None or _years(number, m.group("unit") or m.group("qunit")) >= MINOR_AGE:
                continue
            if _EN_RANGE_AFTER.match(text, m.end()) or _EN_AGED_THING.match(text, m.end()):
                continue
            if _thing_before(text, m.start()) or _en_generic(text, m.start(), m.end()):
                continue
            label = m.group("label").lower()
            unit = m.group("unit") or m.group("qunit")
            if label == "aged" and _EN_GROUP_BEFORE.search(text, max(0, m.start() - 16), m.start()):
                continue
            if label == "age":
                # A label "age" is a person's only as a field or a person's word (not max-age=0,
                # an HTTP Age header or a config's age=7): a person or form context, or the
                # unit of an age, must say so.
                opener = _en_age_opener(text, m.start())
                if opener is None or _EN_CONFIG.search(text):
                    continue
                if opener == "field" and not (unit or m.group("qual") or _EN_FORM.search(text)):
                    continue
            score = 0.85 if label == "aged" else 0.9
            self._add(out, m.start("num"), m.end(), score, f"age under 14 after '{label}'")

    def _year_old(self, text: str, out: list[Finding]) -> None:
        for m in _EN_YEAR_OLD.finditer(text):
            number = _number(m.group("num"))
            if number is None or _years(number, m.group("unit")) >= MINOR_AGE:
                continue
            start, end = m.span()
            if _EN_RANGE_BEFORE.search(text, max(0, start - 12), start) or _EN_THING_AFTER.match(text, end):
                continue
            if _thing_before(text, start) or _en_generic(text, start, end):
                continue
            person = _EN_PERSON_AFTER.match(text, end) is not None
            if not person and not _en_said_of_a_person(text, start, end, m.group()):
                continue
            self._add(
                out,
                start,
                end,
                0.95 if person else 0.8,
                "age under 14 before a person noun" if person else "age under 14 (N-year-old)",
            )


def _group_clause(text: str, start: int, end: int) -> bool:
    """Whether the clause of ``text[start:end]`` (between commas and sentence ends) speaks of
    a group, a population or children in general (``_CN_GROUP``)."""
    before = text[max(0, start - 40) : start]
    cuts = list(_CN_CLAUSE.finditer(before))
    begin = max(0, start - 40) + (cuts[-1].end() if cuts else 0)
    after = _CN_CLAUSE.search(text, end, end + 40)
    # The clause's closing mark counts: a question is not a record.
    stop = after.end() if after is not None else min(len(text), end + 40)
    return _CN_GROUP.search(text, begin, stop) is not None


def _cn_whose(text: str, start: int, end: int) -> str | None:
    """Why the age at ``text[start:end]`` is a person's by what stands right before it (a name
    or person word with the age in brackets, a sex field, a name alone in its field), or None."""
    head = max(0, start - 12)
    if _CN_BRACKET_BEFORE.search(text, head, start) and _CN_BRACKET_AFTER.match(text, end):
        return "in brackets after a name or person word"
    if _CN_SEX_FIELD.search(text, head, start):
        return "after a sex field"
    m = _CN_NAME_BEFORE.search(text, head, start)
    if m is not None and _is_cn_name(m.group("name")):
        return "after a name"
    return None


def _is_cn_name(word: str) -> bool:
    """Whether ``word`` has the shape of a Chinese name: a surname and one or two characters."""
    if word[:2] in COMPOUND_SURNAMES:
        return len(word) in (3, 4)
    return word[0] in SINGLE_SURNAMES and len(word) in (2, 3)


def _glued_before(text: str, start: int) -> bool:
    """Whether a letter, digit or dot stands right before ``start``."""
    return start > 0 and (text[start - 1].isascii() and (text[start - 1].isalnum() or text[start - 1] == "."))


_EN_POSSESSIVES = frozenset({"his", "her", "their", "whose", "my", "your", "our"})
_EN_PERSON_MODIFIERS = frozenset({"pt", "deceased", "decedent", "victim", "infant", "toddler", "person", "child"})


def _en_age_opener(text: str, start: int) -> str | None:
    """What stands before the label "age" at ``start``: ``"person"`` (a person word or a
    possessive: "patient_age", "her age"), ``"field"`` (nothing, a field separator or a
    preposition: "Age:", "at age"), or None (any other word: max-age, mean age, Level 3 Age)."""
    # A possessive names whose age it is: "Decedent's age", "the patient's age".
    head = re.sub(r"['’]s\s*$", " ", text[max(0, start - 24) : start])
    if not head.strip() or head.rstrip()[-1:] in ",;:|([{\"'\t":
        return "field"  # the start of the text or of a field
    m = _EN_WORD_BEFORE.search(head)
    if m is None:
        return "field"
    word = m.group(1).lower()
    if word in _EN_POSSESSIVES or word in _EN_PERSON_MODIFIERS or word in _EN_PERSONS:
        return "person"
    return "field" if word in _EN_AGE_OPENERS else None


def _en_generic(text: str, start: int, end: int) -> bool:
    """Whether the sentence around ``text[start:end]`` speaks of children in general or a group."""
    return _en_sentence_has(text, start, end, _EN_GENERIC)


def _en_sentence_has(text: str, start: int, end: int, pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` occurs in the sentence around ``text[start:end]``."""
    cuts = list(_EN_SENTENCE.finditer(text, max(0, start - 80), start))
    begin = cuts[-1].end() if cuts else max(0, start - 80)
    after = _EN_SENTENCE.search(text, end, end + 80)
    stop = after.start() if after is not None else min(len(text), end + 80)
    return pattern.search(text, begin, stop) is not None


# A word after "N-year-old" that shows it is used as a noun (a person: "an 18-month-old was
# found", "a 7-year-old died"): a function word, a verb in the past, or nothing.
_EN_NOMINAL_AFTER = re.compile(
    r"\s*(?:$|[.,;:!?)\]—–-]|(?:is|was|were|has|had|who|and|with|from|in|at|on|of|to|after|before|when|while"
    r"|whose|died|[a-z]+ed)\b)",
    re.IGNORECASE,
)
_EN_SUBJECT_PERSONS = frozenset({*("he", "she", "i", "we", "they", "deceased", "decedent", "victim", "infant")})


def _en_said_of_a_person(text: str, start: int, end: int, matched: str) -> bool:
    """Whether an "N years old" without a person noun after it is said of a person.

    Attributive ("a 6-month-old startup") it is said of the noun after it; used as a noun
    ("an 18-month-old was found") it names a person. Predicative ("… is 9 years old") it is
    said of the subject, which must be a person word (son, she, the deceased)."""
    if "-old" in matched.lower():
        return _EN_NOMINAL_AFTER.match(text, end) is not None
    head = re.split(r"[.;:!?\n]", text[max(0, start - 40) : start])[-1].lower()
    words = re.findall(r"[a-z]+", head)
    return any(w in _EN_PERSONS or w.removesuffix("s") in _EN_PERSONS or w in _EN_SUBJECT_PERSONS for w in words)


def _thing_before(text: str, start: int) -> bool:
    """Whether the age at ``start`` is said of a thing named before it in its clause, with no
    person word nearer to it."""
    head = re.split(r"[.;:!?\n]", text[max(0, start - 32) : start])[-1].lower()
    for word in reversed(re.findall(r"[a-z]+", head)):
        if word in _EN_PERSONS or word.removesuffix("s") in _EN_PERSONS:
            return False
        if word in _EN_THINGS or word.removesuffix("s") in _EN_THINGS:
            return True
    return False
