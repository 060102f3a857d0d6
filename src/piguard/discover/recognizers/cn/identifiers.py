"""Chinese identifiers: resident ID, mobile, landline, USCC, plates, passports, travel permits."""

from __future__ import annotations

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import (
    ASCII_AFTER,
    ASCII_BEFORE,
    DIGITS_AFTER,
    PatternRecognizer,
    PatternSpec,
    Region,
)
from piguard.discover.recognizers.validators import (
    cn_landline,
    cn_mobile,
    cn_resident_id,
    uscc,
)

__all__ = ["cn_recognizers"]

_B, _A = ASCII_BEFORE, ASCII_AFTER
# Resident IDs, mobiles and landlines may have a label glued before them (TEL13812345678: they
# are matched in the region's ``glue_view``) and, when labelled, letters glued after them
# (手机号:13812345678abc): their patterns end in _T and ``glued_tail_ok`` decides.
_T = DIGITS_AFTER
# Digits may be followed by "X" in IDs, so an ID is not allowed to touch more digits/letters.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Z"
# Written between the issuing letter and the serial: a space (also the ideographic one) or a
# middle dot as on the physical plate (沪A·12345; the katakana and hyphenation-point look-alikes
# too). "-", "·" and "•" are region characters; the others end a region, so the serial's region
# starts after them and the plate recognizer looks back for the head (see _plate_head).
_PLATE_SEPARATORS = " \u3000·•・‧"
# Trailer, driving-school (coach), police, Hong Kong, Macao and consulate plates end in a class
# character after four serial characters (沪A·1234挂, 粤Z·1234港, 沪A·1234领).
_PLATE_SUFFIXES = "挂学警港澳领"
# A class character that starts a word with the next one is that word, not a plate's end:
# "沪A1234学生", "京A1234警察", "粤B1234领取" (a code followed by a verb or noun).
_SUFFIX_WORDS = {
    "挂": "号失靠钩账职",
    "学": "生校习院员历期号费位科会",
    "警": "察告报示方情官务号",
    "港": "口澳币股元务",
    "澳": "门洲大",
    "领": "取导用先域袖料队事款证",
}
# Embassy plates: 使 then the embassy's three-digit number and a three-digit serial (使014·578).
_EMBASSY = "使"
# 使 ending a word is not a plate's head: 行使, 即使, 大使, 致使 ... followed by a number.
_EMBASSY_WORD_STARTS = "行即致促大假迫驱特公天出指纵"

ID_CONTEXT = ("身份证", "证件号", "公民身份", "身份号", "id card", "resident id", "sfz", "sfzh")
MOBILE_CONTEXT = ("手机", "电话", "联系", "致电", "mobile", "phone", "tel", "sjh", "lxdh")
LANDLINE_CONTEXT = ("电话", "座机", "固话", "联系", "办公", "传真", "tel", "phone", "fax", "lxdh")
USCC_CONTEXT = ("信用代码", "统一社会信用", "税号", "纳税人识别", "uscc", "credit code")
PLATE_CONTEXT = ("车牌", "号牌", "车辆", "牌照", "plate", "救护车")
PASSPORT_CONTEXT = ("护照", "passport")
PERMIT_CONTEXT = ("通行证", "回乡证", "台胞证", "港澳", "台湾", "往来", "permit")


def cn_recognizers() -> list[PatternRecognizer]:
    """The Chinese identifier recognizers, freshly built."""
    return [
        PatternRecognizer(
            name="cn_resident_id",
            gate=lambda r: 15 <= r.digits <= 18,
            entity="CN_RESIDENT_ID",
            patterns=[
                PatternSpec("cn_id_18", _B + r"[1-8]\d{5}(?:18|19|20)\d{9}[\dXx]" + _T, 0.95),
                PatternSpec("cn_id_15", _B + r"[1-8]\d{14}" + _T, 0.5),
                # Written in its three parts (area, birth date, sequence and check digit).
                PatternSpec("cn_id_18_grouped", _B + r"[1-8]\d{5}[ \-](?:18|19|20)\d{6}[ \-]\d{3}[\dXx]" + _T, 0.9),
            ],
            validator=cn_resident_id,
            context=ID_CONTEXT,
            context_score=0.99,
            # A random 15-digit number with a real area code and date is common enough (order
            # numbers) that the legacy form needs a context word to be reported.
            min_score=0.55,
            required_chars="0123456789",
            glued_tail=True,
        ),
        PatternRecognizer(
            name="cn_mobile",
            gate=lambda r: 11 <= r.digits <= 15,
            entity="CN_MOBILE",
            patterns=[
                PatternSpec("cn_mobile_11", _B + r"1[3-9]\d{9}" + _T, 0.85),
                PatternSpec(
                    "cn_mobile_intl",
                    rf"(?:\+|{_B}00)86[\s\-]?1[3-9]\d(?:[\s\-]?\d{{4}}){{2}}" + _T,
                    0.9,
                ),
                PatternSpec("cn_mobile_86", _B + r"86[\s\-]1[3-9]\d(?:[\s\-]?\d{4}){2}" + _T, 0.85),
                PatternSpec("cn_mobile_spaced", _B + r"1[3-9]\d(?:[\s\-]\d{4}){2}" + _T, 0.8),
            ],
            validator=cn_mobile,
            context=MOBILE_CONTEXT,
            context_score=0.97,
            required_chars="1",
            glued_tail=True,
        ),
        PatternRecognizer(
            name="cn_landline",
            gate=lambda r: 9 <= r.digits <= 17,
            entity="CN_LANDLINE",
            patterns=[
                PatternSpec(
                    "cn_landline_area",
                    # Not after "+" or ")": "+45 83016613" is a Danish number, not area code
                    # 045, and "+44(0)20 7496 0069" a London one; nor after another country's
                    # code ("+91 319 4875749" is Indian, not area code 0319).
                    _B + r"(?<![+)])(?<!\+\d[\s\-])(?<!\+\d\d[\s\-])(?<!\+\d\d\d[\s\-])"
                    r"(?:\+86[\s\-]?\(0?[1-9]\d{1,2}\)\s?|(?:\+86[\s\-]?|86-)?"
                    r"(?:0?[1-9]\d{1,2}[\s\-]|\(0[1-9]\d{1,2}\)\s?|（0[1-9]\d{1,2}）))[2-9]\d{6,7}(?:-\d{1,5})?" + _T,
                    0.8,
                ),
                # The subscriber number in two groups (021-5555 0123, (021) 5555-0123), only after
                # an area code written with its 0, or without it after +86 (the international
                # form, +86 10 6512 3456): "284 698 2548" is not a Chinese number.
                PatternSpec(
                    "cn_landline_grouped",
                    _B + r"(?<![+)])(?:\+86[\s\-]?(?:0?[1-9]\d{1,2}[\s\-]|\(0?[1-9]\d{1,2}\)\s?)|(?:86-)?"
                    r"(?:0[1-9]\d{1,2}[\s\-]|\(0[1-9]\d{1,2}\)\s?|（0[1-9]\d{1,2}）))"
                    r"[2-9]\d{2,3}[ \-]\d{4}(?:-\d{1,5})?" + _T,
                    0.8,
                ),
                PatternSpec("cn_landline_compact", _B + r"0[1-9]\d{9,10}" + _T, 0.5),
                # The international form written without separators, as in a tel: URI
                # (tel:+862164381234); a mobile (+86 1…) never has a 1 or 0 after +86 here.
                PatternSpec("cn_landline_intl_compact", r"\+86(?:10|2\d|[3-9]\d{2})[2-9]\d{6,7}" + _T, 0.8),
            ],
            validator=cn_landline,
            context=LANDLINE_CONTEXT,
            context_score=0.95,
            min_score=0.55,
            required_chars="0",
            glued_tail=True,
        ),
        PatternRecognizer(
            name="cn_uscc",
            gate=lambda r: len(r.text) >= 18 and r.digits >= 6,
            entity="CN_USCC",
            patterns=[
                PatternSpec(
                    "uscc_18",
                    _B + r"[1-9A-HJ-NPQRTUWXY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}" + _A,
                    0.85,
                )
            ],
            validator=uscc,
            context=USCC_CONTEXT,
            context_score=0.99,
            required_chars="0123456789",
        ),
        _PlateRecognizer(
            name="cn_plate",
            in_digit_runs=False,
            gate=_plate_gate,
            margin=1,
            entity="CN_PLATE",
            patterns=[
                PatternSpec(
                    "cn_plate_new_energy",
                    f"[{_PROVINCES}][{_PLATE_LETTER}][{_PLATE_SEPARATORS}\\s\\-]?"
                    r"(?:[A-HJK][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])" + _A,
                    0.9,
                ),
                PatternSpec(
                    "cn_plate",
                    f"[{_PROVINCES}][{_PLATE_LETTER}][{_PLATE_SEPARATORS}\\s\\-]?"
                    f"[A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9{_PLATE_SUFFIXES}]" + _A,
                    0.85,
                ),
                PatternSpec(
                    "cn_plate_embassy",
                    f"{_EMBASSY}[{_PLATE_SEPARATORS}\\-]?\\d{{3}}[{_PLATE_SEPARATORS}\\-]?\\d{{3}}" + _A,
                    0.7,
                ),
            ],
            validator=_plate_ok,
            validator_name="plate",
            context=PLATE_CONTEXT,
            context_score=0.97,
        ),
        PatternRecognizer(
            name="cn_passport",
            in_digit_runs=False,
            gate=lambda r: r.text[0] in "EGDSP" and r.digits >= 7,
            entity="CN_PASSPORT",
            patterns=[
                PatternSpec("cn_passport_e", _B + r"E[A-HJ-NP-Z0-9]\d{7}" + _A, 0.6),
                PatternSpec("cn_passport_old", _B + r"[GDSP]\d{8}" + _A, 0.4),
            ],
            validator=_letters_digits,
            context=PASSPORT_CONTEXT,
            context_score=0.95,
            min_score=0.55,
            required_chars="EGDSP",
        ),
        PatternRecognizer(
            name="cn_travel_permit",
            gate=lambda r: r.text[0] in "CLHM" or r.digits == 8,
            entity="CN_TRAVEL_PERMIT",
            patterns=[
                # 往来港澳通行证 C + 8 digits / C + letter + 7 digits; 往来台湾通行证 L + 8.
                PatternSpec("permit_mainland", _B + r"[CL][A-HJ-NP-Z0-9]\d{7}" + _A, 0.45),
                # 港澳居民来往内地通行证 (回乡证): H/M + 8 or 10 digits.
                PatternSpec("permit_hk_macao_resident", _B + r"[HM]\d{8}(?:\d{2})?" + _A, 0.45),
                # 台湾居民来往大陆通行证 (台胞证): 8 digits, only with context.
                PatternSpec("permit_taiwan_resident", _B + r"\d{8}" + _A, 0.2),
            ],
            validator=_letters_digits,
            context=PERMIT_CONTEXT,
            context_score=0.9,
            min_score=0.55,
        ),
    ]


class _PlateRecognizer(PatternRecognizer):
    """Plates whose region starts at the letter (沪A12345, 沪A-12345) or, after a space or a
    middle dot that ends a region, at the serial (沪A 12345, 沪A D12345, 沪A・12345); embassy
    plates (使014·578) start at the digits after 使."""

    # 使 too: the digits after it are a short number, which alone is noise (使014578).
    noise_head_ends = _PLATE_SEPARATORS + _EMBASSY

    def scan_region(self, text: str, region: Region, out: list[Finding]) -> None:
        """Scan from the province character: one before the region, or a whole head before it."""
        start, end = region.start, region.end
        # A trailer, school, police or Hong Kong/Macao plate ends in a Chinese character
        # (沪A1234挂), which is not a region character: read one more.
        if _class_suffix_at(text, end):
            end += 1
        head = _plate_head(text, start)
        if head >= 0:
            self._scan(text, head, end, out)
        elif region.text[0] >= "A":  # not a digit: the region may start at the issuing letter
            self._scan(text, max(0, start - self.margin), end, out)
        else:
            embassy = _embassy_head(text, start)
            if embassy >= 0:
                self._scan(text, embassy, end, out)

    def scan_noise(self, text: str, start: int, value: str, out: list[Finding]) -> None:
        """A short serial (noise on its own) after a spaced head: 沪A 12345, 沪A 1234挂, or the
        digits of an embassy plate (使014578, 使 014 578)."""
        if len(value) == 5 or (len(value) == 4 and _class_suffix_at(text, start + 4)):
            head = _plate_head(text, start)
            if head >= 0:
                self._scan(text, head, start + len(value) + (len(value) == 4), out)
        elif len(value) in (3, 6):
            head = _embassy_head(text, start)
            if head >= 0:
                # Three digits may be followed by the other three after a separator.
                self._scan(text, head, min(len(text), start + 7 if len(value) == 3 else start + 6), out)


def _class_suffix_at(text: str, i: int) -> bool:
    """Whether a plate's class character (挂, 学, 警...) ends the plate at ``i``: not the start
    of a word such as 学生 or 警察."""
    if i >= len(text) or text[i] not in _PLATE_SUFFIXES:
        return False
    return i + 1 >= len(text) or text[i + 1] not in _SUFFIX_WORDS[text[i]]


def _embassy_head(text: str, start: int) -> int:
    """Where 使 (with an optional separator) stands right before ``start``, or -1."""
    if start >= 1 and text[start - 1] == _EMBASSY:
        head = start - 1
    elif start >= 2 and text[start - 2] == _EMBASSY and text[start - 1] in _PLATE_SEPARATORS:
        head = start - 2
    else:
        return -1
    return -1 if head and text[head - 1] in _EMBASSY_WORD_STARTS else head


def _plate_head(text: str, start: int) -> int:
    """Where a head written with a separator ("沪A ", "沪A·") ends right at ``start``, or -1."""
    if (
        start >= 3
        and text[start - 1] in _PLATE_SEPARATORS
        and "A" <= text[start - 2] <= "Z"
        and text[start - 3] in _PROVINCES
    ):
        return start - 3
    return -1


def _plate_gate(region: Region) -> bool:
    # The region starts at the issuing letter after the province character (not an identifier
    # character), or at the serial after a spaced head; scan_region tells which.
    first = region.text[0]
    return ("A" <= first <= "Z" or "0" <= first <= "9") and region.digits >= 2 and len(region.text) <= 9


def _letters_digits(value: str) -> str | None:
    # Reject runs of one repeated digit ("E00000000"), which are placeholders.
    digits = value[1:]
    return None if len(set(digits)) == 1 else "format"


def _plate_ok(value: str) -> str | None:
    tail = "".join(c for c in value[2:] if c.isalnum())
    # Plates have at most 2 letters in the serial part (GA 36); rules out ICD-like or word runs.
    letters = sum(c.isascii() and c.isalpha() for c in tail)
    if letters > 3:
        return None
    return "GA 36 plate format"
