"""Every person's age in text, adults' too: masking only the children's would single them out.

``MINOR_UNDER_14`` finds an age in text by its shape and what surrounds it (a label, a person
word, a child noun, ``N-year-old``...) and keeps it only under 14. Redaction masks every age
written in those shapes: the text is read once more with each number that could be an adult's
age (14 to 130) written as a child's age of the same width (``87`` as ``08``, ``八十七`` as
``一十三``), and what the recognizer then finds on those numbers is an age too. A number in
no such shape (``8岁以下``, ``a 40-year-old building``, ``服刑18个月``) stays what it was.
"""

from __future__ import annotations

import re
from functools import cache

from piguard.discover.analyzer import DEFAULT_MIN_SCORE, Analyzer, resolve_overlaps
from piguard.discover.findings import Finding
from piguard.discover.recognizers.generic.minors import MINOR_AGE, MINOR_ENTITY, MinorRecognizer, cn_number

__all__ = ["adult_ages", "with_every_age"]

_NAME = "every_age"

# The oldest age read as one (as ``parse_age`` reads table cells).
_MAX_AGE = 130
# A whole number of two or three digits, not part of a longer number or a decimal's fraction.
_ARABIC = re.compile(r"(?<![\d.])\d{2,3}(?!\d)", re.ASCII)
_CN = re.compile(r"[零〇一二两三四五六七八九十]{2,3}")
# A child's age as wide as the number it stands for (13 in Chinese numerals, 8 in digits).
_CN_CHILD = {2: "十三", 3: "一十三"}
# Full-width digits and letters as ASCII, one code point for one, as the analyzer reads them.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp - 0xFEE0).isalnum()}
_HAS_FULLWIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]").search
# An age before a word for an adult, a shape the recognizer (which looks for children) has no
# need of: "87-year-old woman", "87岁老人", "45岁男子". Not the end of a range ("20-30岁男子").
_EN_ADULT = re.compile(
    r"(?<![A-Za-z\d.])\d{1,3}(?:\s?-\s?|\s)years?(?:\s?-\s?|\s)old(?=[\s-]+(?:man|men|woman|women|gentleman|gentlemen"
    r"|lady|ladies|person|people|adult|mother|father|husband|wife|widow|widower|grandmother|grandfather"
    r"|grandma|grandpa|retiree|pensioner|veteran|resident|driver|worker|employee)(?![A-Za-z]))",
    re.IGNORECASE,
)
_CN_ADULT = re.compile(
    r"(?<![\d.\-~～—－至到])(?:\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:周岁|岁)(?=\s*的?(?:老人|老年人|老太太?"
    r"|老大爷|老大娘|老汉|老翁|老妇|男子|女子|男性|女性|妇女|男人|女人|成人|成年人|居民|村民|农民|工人|司机))"
)


@cache
def _recognizer() -> MinorRecognizer:
    return MinorRecognizer()


def _childlike(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with each number from 14 to 130 written as a child's age of the same width,
    and the spans that were changed."""
    if _HAS_FULLWIDTH(text) is not None:  # translate is slow on CJK text: only when needed
        text = text.translate(_FULLWIDTH)
    replaced: list[tuple[int, int, str]] = []
    for m in _ARABIC.finditer(text):
        if MINOR_AGE <= int(m.group()) <= _MAX_AGE:
            replaced.append((m.start(), m.end(), "8".rjust(m.end() - m.start(), "0")))
    for m in _CN.finditer(text):
        n = cn_number(m.group())
        if n is not None and n >= MINOR_AGE:
            replaced.append((m.start(), m.end(), _CN_CHILD[m.end() - m.start()]))
    if not replaced:
        return text, []
    chars = list(text)
    for start, end, child in replaced:
        chars[start:end] = child
    return "".join(chars), [(start, end) for start, end, _ in replaced]


def adult_ages(text: str) -> list[Finding]:
    """The ages of 14 and over in ``text`` written as the recognizer reads children's ages,
    as ``MINOR_UNDER_14`` findings (the one entity ages are masked by, so all look alike)."""
    view, spans = _childlike(text)
    if not spans:
        return []
    out = [
        Finding(MINOR_ENTITY, m.start(), m.end(), 0.85, "an age before a word for an adult", _NAME)
        for pattern in (_EN_ADULT, _CN_ADULT)
        for m in pattern.finditer(view)
    ]
    recognizer = _recognizer()
    if recognizer.prefilter(view):
        out.extend(
            Finding(MINOR_ENTITY, f.start, f.end, f.score, "an age (masked like a child's)", _NAME)
            for f in recognizer.analyze(view, frozenset({MINOR_ENTITY}))
            if f.score >= DEFAULT_MIN_SCORE and any(s < f.end and f.start < e for s, e in spans)
        )
    return out


def with_every_age(text: str, findings: list[Finding], analyzer: Analyzer) -> list[Finding]:
    """``findings`` and the adults' ages in ``text`` that overlap none of them, sorted by start;
    ``findings`` itself when the analyzer does not look for ``MINOR_UNDER_14``."""
    if MINOR_ENTITY not in analyzer.entities:
        return findings
    extra = adult_ages(text)
    if not extra:
        return findings
    taken = [(f.start, f.end) for f in findings]
    extra = [f for f in extra if not any(s < f.end and f.start < e for s, e in taken)]
    if not extra:
        return findings
    return resolve_overlaps([*findings, *extra])
