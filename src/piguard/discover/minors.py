"""Columns that hold personal information of minors under 14 (``MINOR_UNDER_14``, PIPL Art. 28).

Two kinds of column do: an **age** column (``年龄``, ``age``, ``patient_age``, ``月龄``) with a
sampled age under 14, and a **birth-date** column (``出生日期``, ``dob``) with a sampled date that
puts the person under 14 on the reference date. An age is taken as written (it was the age
when the record was made); a birth date is turned into an age on the **reference date**: the
day of the scan unless the caller passes ``reference_date``. The scan date is used because
the duty PIPL Art. 28 sets applies to processing now: a register that holds people born in
2015 holds children's data today, whatever the records' own dates. A report meant to be
reproduced later passes a fixed ``reference_date``.

The name must say age or birth date, and most values must read as ages (0-130, with an
optional unit: ``8``, ``8岁``, ``3个月``, ``8 years``) or as dates: a column of small numbers
is not ages by itself. Age groups, limits and statistics (``age_group``, ``年龄段``, ``min_age``,
``最小年龄``, ``avg_age``, ``平均年龄``) are not, nor the age of a thing (``vehicle_age``,
``cookie_age``, ``pg_age``): a word in the name other than the age word and its unit that
names a group, a limit, a statistic or a thing says it is not the age of the person of the row.

Redaction asks for every age or birth-date column of people (``every_person``), a child in the
sample or not: a child's age in row 90,000 of a column sampled on 1,000 rows must not stay in
clear, and masking only the values that read as a child's would tell who the children are, so
the whole column is masked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from piguard.discover.recognizers.generic.minors import MINOR_AGE, MINOR_ENTITY, parse_age
from piguard.discover.sources.base import ColumnSample

__all__ = ["MINOR_ENTITY", "MinorColumn", "age_name", "birth_date", "minor_column", "under_age"]

# Chinese column-name fragments of an age, with the unit its values are in (None: years).
_AGE_ZH: dict[str, str | None] = {
    "月龄": "月",
    "日龄": "天",
    "实足年龄": None,
    "年龄": None,
    "岁数": None,
    "周岁": None,
    "享年": None,
    "年纪": None,
}
# Not a person's age: groups, statistics (平均年龄, 年龄中位数) and limits or rules (最小年龄,
# 年龄下限, 年龄要求, 入学年龄, 适用年龄).
_NOT_AGE_ZH = (
    "年龄段",
    "年龄组",
    "年龄范围",
    "年龄分组",
    "年龄层",
    "年龄限制",
    "平均",
    "中位",
    "均值",
    "最小",
    "最大",
    "最低",
    "最高",
    "下限",
    "上限",
    "要求",
    "入学",
    "入园",
    "适用",
    "建议",
    "推荐",
)
# English words (whole tokens of the name) and pinyin initials (年龄, 实际年龄, 死亡年龄:
# ambiguous, hence the lower weight).
_AGE_EN = {"age": 1.0, "ages": 1.0, "nl": 0.6, "sjnl": 0.6, "swnl": 0.6}
_NOT_AGE_EN = frozenset(
    {
        "group",
        "groups",
        "range",
        "band",
        "bracket",
        "limit",
        "min",
        "max",
        "minimum",
        "maximum",
        "category",
        "cat",
        "class",
        "grade",
        "rating",
        "restriction",
        "gate",
        "check",
        "verified",
        "flag",
        # Statistics over people, not one person's age.
        "avg",
        "average",
        "mean",
        "median",
        "mode",
        "std",
        "sd",
        "total",
        "sum",
        "count",
        # Limits and rules.
        "recommended",
        "required",
        "requirement",
        "suggested",
        "allowed",
        "legal",
        "threshold",
        "cutoff",
        # The age of a thing: vehicles, buildings, plants, devices and software objects, data.
        "vehicle",
        "car",
        "building",
        "house",
        "property",
        "tree",
        "plant",
        "device",
        "machine",
        "equipment",
        "asset",
        "battery",
        "app",
        "cookie",
        "cache",
        "ttl",
        "session",
        "token",
        "password",
        "key",
        "cert",
        "certificate",
        "account",
        "data",
        "file",
        "record",
        "log",
        "message",
        "pg",
        "db",
        "index",
        "snapshot",
        "backup",
        "build",
        "release",
        "version",
        "stock",
        "inventory",
        "loan",
        "debt",
        "invoice",
        "node",
        "server",
    }
)
_UNIT_EN = {
    "month": "months",
    "months": "months",
    "mo": "months",
    "mos": "months",
    "week": "weeks",
    "weeks": "weeks",
    "day": "days",
    "days": "days",
    "year": None,
    "years": None,
    "yrs": None,
}
_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Most sampled values must be ages (or dates) for the column to be read as such.
_MIN_AGE_SHARE = 0.8
_MIN_DATE_SHARE = 0.5
_EXAMPLES = 3

_BIRTH = re.compile(
    r"(?P<y>(?:18|19|20)\d\d)(?:"
    r"(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])"
    r"|\s*[-/.年]\s*(?P<m2>\d{1,2})(?:\s*[-/.月]\s*(?P<d2>\d{1,2})\s*日?|\s*月?)"
    r")(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


@dataclass(frozen=True, slots=True)
class MinorColumn:
    """Why a column holds minors' data: the name word and its weight, how many sampled values
    are minors' (``matched``), the share of values read as ages or dates, and a reason."""

    word: str
    weight: float
    matched: int
    sampled: int
    share: float
    evidence: str
    examples: tuple[str, ...]


def age_name(text: str | None) -> tuple[str, float, str | None] | None:
    """``(word, weight, unit)`` when a column name or comment says it holds ages, else None."""
    if not text or any(word in text for word in _NOT_AGE_ZH):
        return None
    for word, unit in _AGE_ZH.items():
        if word in text:
            return word, 1.0, unit
    tokens = [t.lower() for t in _TOKENS.findall(text)]
    if any(t in _NOT_AGE_EN for t in tokens):
        return None
    for token in tokens:
        if token in _AGE_EN:
            unit = next((_UNIT_EN[t] for t in tokens if t in _UNIT_EN), None)
            return token, _AGE_EN[token], unit
    return None


def birth_date(value: str) -> dt.date | None:
    """A birth-date cell as a date (``2015-03-01``, ``2015/3/1``, ``2015年3月1日``, ``20150301``,
    ``2015-03`` as the 1st of the month, an ISO timestamp), else None."""
    m = _BIRTH.fullmatch(value.strip())
    if m is None:
        return None
    month = m.group("m") or m.group("m2")
    day = m.group("d") or m.group("d2") or "1"
    try:
        return dt.date(int(m.group("y")), int(month), int(day))
    except ValueError:
        return None


def under_age(born: dt.date, reference: dt.date) -> bool:
    """Whether someone born on ``born`` is under 14 on ``reference`` (born on or before it)."""
    try:
        birthday = born.replace(year=born.year + MINOR_AGE)
    except ValueError:  # born on 29 February: the birthday is 1 March in a common year
        birthday = dt.date(born.year + MINOR_AGE, 3, 1)
    return born <= reference < birthday


def minor_column(
    column: ColumnSample, *, dob_word: str | None, dob_weight: float, reference: dt.date, every_person: bool = False
) -> MinorColumn | None:
    """How ``column`` holds minors' data, or None: an age column with an age under 14, or a
    birth-date column (``dob_word`` named it so) with a date under 14 years before ``reference``.

    With ``every_person`` (redaction), any age or birth-date column of people counts, with no
    minor in the sample too (``matched`` 0): a sample cannot show that no value of the column
    is a child's, and masking only the children's values would single them out."""
    values = column.values
    if not values or column.dtype in ("boolean", "binary"):
        return None
    named = age_name(column.name) or age_name(column.comment)
    if named is not None:
        word, weight, unit = named
        ages = [(v, parse_age(v, unit=unit)) for v in values]
        read = [(v, a) for v, a in ages if a is not None]
        if len(read) < _MIN_AGE_SHARE * len(values):
            return None
        minors = [v for v, a in read if a < MINOR_AGE]
        if not minors and not every_person:
            return None
        in_unit = f" in {unit}" if unit else ""
        evidence = (
            f"name '{word}' says ages{in_unit}; {len(minors)}/{len(values)} sampled ages are under {MINOR_AGE}; "
            f"{len(read)}/{len(values)} values read as ages"
        )
        return MinorColumn(
            word, weight, len(minors), len(values), len(read) / len(values), evidence, tuple(minors[:_EXAMPLES])
        )
    if dob_word is None:
        return None
    dates = [(v, birth_date(v)) for v in values]
    read_dates = [(v, d) for v, d in dates if d is not None]
    if len(read_dates) < _MIN_DATE_SHARE * len(values):
        return None
    minors = [v for v, d in read_dates if under_age(d, reference)]
    if not minors and not every_person:
        return None
    evidence = (
        f"name '{dob_word}' says birth dates; {len(minors)}/{len(values)} sampled birth dates are under "
        f"{MINOR_AGE} years before the reference date {reference.isoformat()}; "
        f"{len(read_dates)}/{len(values)} values read as dates"
    )
    return MinorColumn(
        dob_word,
        dob_weight,
        len(minors),
        len(values),
        len(read_dates) / len(values),
        evidence,
        tuple(minors[:_EXAMPLES]),
    )
