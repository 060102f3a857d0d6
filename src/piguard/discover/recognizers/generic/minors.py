"""MINOR_UNDER_14: text that shows a person is a child under 14 (PIPL Art. 28 makes any
personal information of such a minor sensitive).

Found: an age under 14 stated with a label (``年龄：8岁``, ``age: 7``, ``aged 7``), written as a
person's age (``8岁男童``, ``患者，男，8岁``, ``7-year-old``, ``7 yo``, ``child, 6``), and the words
that only name a child (``患儿``, ``男童``, ``女婴``, ``新生儿``). An age alone (``8岁``) with no
label, person word or child noun near it is scored under the default threshold: ``8岁以下免票``
and ``the 7 years old building`` are not about a person. Ranges and limits (``3-12岁``,
``14岁以下``, ``under 14``) never are. ``parse_age`` reads a table cell as an age in years.
"""

from __future__ import annotations

import re

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer, find_context

__all__ = ["MINOR_AGE", "MINOR_ENTITY", "MinorRecognizer", "cn_number", "parse_age"]

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
_CN_LABEL = re.compile(r"(?:年龄|年纪|岁数|实足年龄|享年|终年|年仅|年方|现年|今年)\s*[:：]?\s*$")
# An age label with a bare number after it (a form: "年龄：8").
_CN_LABEL_BARE = re.compile(r"(?:年龄|年纪|岁数|实足年龄)\s*[:：]\s*(?P<num>\d{1,3})(?![\d.岁月个天周])")
_CN_CHILD_AFTER = re.compile(
    r"\s*的?(?:男童|女童|男孩|女孩|儿童|患儿|孩子|小孩|宝宝|男婴|女婴|婴儿|幼儿|儿子|女儿|孙子|孙女|外孙|学生|小学生)"
)
# Ranges and limits are about a group, not a person: 3-12岁, 3至12岁, 8岁以下, 14周岁以上.
_CN_RANGE_BEFORE = re.compile(rf"{_NUM}\s*(?:[-~～—－]|至|到)\s*$")
_CN_RANGE_AFTER = re.compile(r"\s*(?:以下|以上|以内|及以下|及以上|[-~～—－]\s*\d|至|到|起|之间)")
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
)
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
_CN_WORD_NOT_PERSON = re.compile(r"[科期室房病装服鞋]|护理|筛查|用品|疾病|医院|重症")

_EN_NUM = rf"(?:\d{{1,2}}(?:\.\d)?|{'|'.join(_EN_NUMBERS)})"
_EN_LABELLED = re.compile(
    r"(?<![A-Za-z])(?P<label>age[d]?)(?:\s*[:=]\s*|\s+)(?P<num>\d{1,3}(?:\.\d)?)"
    r"(?:\s*(?P<unit>years?|yrs?|y|months?|mos?|weeks?|wks?|days?)(?![A-Za-z]))?(?![\d.\-–])",
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
    r"|nephew|niece)(?:\s*,\s*|\s*\(\s*)(?P<num>\d{1,2})(?:\s*\))?(?![\d.%]|\s+[A-Za-z])",
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
_EN_RANGE_AFTER = re.compile(
    r"\s*(?:[-–~]|to|and\s+(?:under|over|up|older|younger)|or\s+(?:under|older|younger|over)|\+)", re.IGNORECASE
)
_EN_RANGE_BEFORE = re.compile(r"(?:under|over|below|above|between|from|to|[-–~]|\d\s*(?:and|or))\s*$", re.IGNORECASE)
# Cheap tests before the patterns run (most lines hold none of these).
_CN_HINTS = ("岁", "童", "婴", "龄", "患儿", "新生儿", "个月", "天")
_EN_CHILD_WORD = re.compile(r"child|boy|girl|son|daughter|kid|baby|infant|toddler|pupil|nephew|niece")


class MinorRecognizer(Recognizer):
    """Ages under 14 stated in text and words that only name a child (``MINOR_UNDER_14``)."""

    name = "minor_under_14"
    entities = (MINOR_ENTITY,)

    def prefilter(self, text: str) -> bool:
        """Needs an age word or unit (岁, 童, 个月, age, old, yo, child...)."""
        if any(hint in text for hint in _CN_HINTS):
            return True
        lower = text.lower()
        return "age" in lower or "old" in lower or "y/o" in lower or "yo" in lower or bool(_EN_CHILD_WORD.search(lower))

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
            if _CN_RANGE_BEFORE.search(text, max(0, start - 8), start) or _CN_RANGE_AFTER.match(text, end):
                continue
            labelled = _CN_LABEL.search(text, max(0, start - 8), start) is not None
            child = _CN_CHILD_AFTER.match(text, end) is not None
            duration = unit in ("个月", "个多月", "天")
            if duration and not (labelled or child):
                continue  # 18个月, 3天: a duration, unless an age label or a child noun says otherwise
            if child:
                score, why = 0.95, "age under 14 before a child noun"
            elif labelled:
                score, why = 0.9, "age under 14 after an age label"
            elif (word := find_context(text, start, end, _CN_PERSON_CONTEXT)) is not None:
                score, why = 0.85, f"age under 14; context {word}"
            elif unit in _INFANT_UNITS:
                score, why = 0.8, f"an infant's age ({unit})"
            else:
                score, why = 0.45, "age under 14 without a person word"
            self._add(out, start, end, score, why)
        for m in _CN_LABEL_BARE.finditer(text):
            if int(m.group("num")) < MINOR_AGE:
                self._add(out, m.start("num"), m.end("num"), 0.85, "age under 14 after an age label")
        for m in _CN_CHILD_WORDS.finditer(text):
            if _CN_WORD_NOT_PERSON.match(text, m.end()):
                continue  # 新生儿科, 婴儿期, 新生儿筛查: a department, a period, a programme
            word = m.group()
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
        if "old" in lower:
            self._year_old(text, out)
        if "yo" in lower or "y/o" in lower or "y.o" in lower:
            for m in _EN_YO.finditer(text):
                if int(m.group("num")) < MINOR_AGE and not _glued_before(text, m.start()):
                    self._add(out, m.start(), m.end(), 0.85, "age under 14 (yo)")
        if ("," in text or "(" in text) and _EN_CHILD_WORD.search(lower):
            for m in _EN_CHILD_COMMA.finditer(text):
                if int(m.group("num")) < MINOR_AGE:
                    who = m.group("who").lower()
                    self._add(out, m.start("num"), m.end("num"), 0.85, f"age under 14 after '{who}'")

    def _labelled(self, text: str, out: list[Finding]) -> None:
        for m in _EN_LABELLED.finditer(text):
            number = _number(m.group("num"))
            if number is None or _years(number, m.group("unit")) >= MINOR_AGE:
                continue
            if _EN_RANGE_AFTER.match(text, m.end()) or _EN_AGED_THING.match(text, m.end()):
                continue
            if _thing_before(text, m.start()):
                continue
            score = 0.85 if m.group("label").lower() == "aged" else 0.9
            self._add(out, m.start("num"), m.end(), score, f"age under 14 after '{m.group('label').lower()}'")

    def _year_old(self, text: str, out: list[Finding]) -> None:
        for m in _EN_YEAR_OLD.finditer(text):
            number = _number(m.group("num"))
            if number is None or _years(number, m.group("unit")) >= MINOR_AGE:
                continue
            start, end = m.span()
            if _EN_RANGE_BEFORE.search(text, max(0, start - 12), start) or _EN_THING_AFTER.match(text, end):
                continue
            if _thing_before(text, start):
                continue
            person = _EN_PERSON_AFTER.match(text, end) is not None
            self._add(
                out,
                start,
                end,
                0.95 if person else 0.8,
                "age under 14 before a person noun" if person else "age under 14 (N-year-old)",
            )


def _glued_before(text: str, start: int) -> bool:
    """Whether a letter, digit or dot stands right before ``start``."""
    return start > 0 and (text[start - 1].isascii() and (text[start - 1].isalnum() or text[start - 1] == "."))


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
