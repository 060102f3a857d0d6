"""Recognizers that need context or a dictionary: non-Chinese PHONE, DATE_OF_BIRTH, MEDICAL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import phonenumbers

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import (
    ASCII_AFTER,
    ASCII_BEFORE,
    Recognizer,
    Region,
    find_context,
)

__all__ = ["DateOfBirthRecognizer", "MedicalRecognizer", "PhoneRecognizer"]

_B, _A = ASCII_BEFORE, ASCII_AFTER

PHONE_CONTEXT = ("phone", "tel", "call", "mobile", "cell", "fax", "contact", "电话", "手机", "联系")
# Candidates only: phonenumbers (the libphonenumber port) decides. Mainland Chinese numbers
# are the CN_MOBILE / CN_LANDLINE recognizers' business and are skipped here.
# A country code is written "+44", "0044", "(+358)", "+(370)" or, before a North American
# number, "1-"; a trunk prefix "8 " may stand before an (area) code (Russia: 8 (495) 123-45-67).
_PHONE_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z+\-.])(?:(?:\+|00)\d{1,3}[\s.\-]?|\(\+\d{1,3}\)\s?|\+\(\d{1,3}\)\s?"
    r"|1[\s.\-](?=\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4})|[78]\s?(?=\(\d{3}\)\s?\d))?"
    r"(?:\(\d{1,5}\)[\s.\-/]?)?\d[\d\s.\-/]{3,15}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![0-9A-Za-z])"
)
# A year 1800-2099 and a month first: "0049-30-1234567" is a phone, not the year 49.
_DATE_LIKE = re.compile(r"^(?:1[89]|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_REGIONS = ("US", "GB")
_SEPARATORS = re.compile(r"[\s.\-()]")
_AMOUNT = re.compile(
    r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d+\.\d{1,2}$|^\d{1,3}(?:\.\d{1,3}){3}$"  # incl. IPv4
)
# North American 3-3-4 grouping with separators: structurally a phone number even when the
# exchange is unassigned (phonenumbers' "valid" check needs an assigned range).
_NANP = re.compile(
    r"^(?:(?:\+1|001|1)[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?$"
)


# English labels only: Chinese-labelled numbers are CN_MOBILE / CN_LANDLINE's business.
_LABEL_WORDS = frozenset({"phone", "tel", "call", "mobile", "cell", "fax", "contact"})
# Weaker English cues, enough for digits written in groups (never for a bare digit run):
# what people say about a number they message or ring ("not answering at", "text me on").
_GROUPED_CUES = (
    "answering",
    "message me",
    "message us",
    "messages to",
    "messaging",
    "whatsapp",
    "text me",
    "text us",
    "voicemail",
    "reach",
    "ring me",
    "ring us",
    "my number",
    "your number",
    "dial",
    "sms",
)
# Contact-block type tags: "Office: 555 0142", "Ph. 555 0142", "555 0142 office", "555 0142-Office".
_TAGS = r"(?:office|desk|home|work|direct|landline|hotline|helpline|ph|mob)"
_TAG_BEFORE = re.compile(r"(?<![A-Za-z])" + _TAGS + r"(?:\s*:|\.)\s*$", re.IGNORECASE)
_TAG_AFTER = re.compile(r"[ \t\-(]{0,2}" + _TAGS + r"(?![A-Za-z])", re.IGNORECASE)
# Two or more digit groups joined by single spaces, dots, hyphens or slashes, optionally a
# (area) part: a first group of up to 4 digits, then groups of 2 to 8 (a subscriber number may
# be unsplit, "0393 1144137"). A first group of 5 is ZIP+4's shape ("94105-1234",
# "02134-1234"), so it is allowed only before another group of 5 or more (India's
# "98765 43210") or as a trunk-0 prefix before a space or slash ("07700 900 123",
# "03572/80385280"). An (area) part may also stand before one unsplit subscriber number.
_GROUPED = re.compile(
    r"^(?:(?:\+\d{1,3}|\(\+\d{1,3}\)|\+\(\d{1,3}\))\s?)?"
    r"(?:(?:[78]\s?)?\(\d{1,5}\)[\s.\-/]?\d{2,8}(?:[\s.\-/]\d{2,8}){0,3}"
    r"|(?:\d{1,4}|\d{5}(?=[\s.\-/]\d{5})|0\d{4}(?=[\s/]))"
    r"(?:[\s.\-/]\d{2,8}){1,4})$"
)
# A phone label right before the number ("Phone: ", "call me at ", "text 0412...", "my number
# is "): strong enough for an unsplit digit run that phonenumbers cannot place.
_LABEL_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:tele?phone|phone|tel|mobile|cell|fax|contact|whatsapp|voicemail|sms"
    r"|(?:call|text|ring|dial|reach)(?:ing|ed)?(?:\s+(?:me|us|him|her|them|the\s+\w+))?"
    # ... or a person named between the verb and "at"/"on": "reach Alex on", "call Dr Meyer at".
    r"|(?:call|text|ring|reach)(?:ing|ed)?(?:\s+(?-i:(?:Dr|Mr|Mrs|Ms|Prof)\.?|[A-Z][a-z'\-]+)){1,2}\s+(?:at|on)"
    r"|(?:support|office|direct|land|help|hot)\s*line"
    r"|(?:my|his|her|our|their|your)\s+(?:phone\s+)?number(?:\s+is)?)"
    r"(?:\s*(?:no\.?|number|#))?(?:\s+(?:me|us))?(?:\s+(?:at|on|is))?\s*[:#.]?\s*$",
    re.IGNORECASE,
)
# An extension glued to the candidate ("...81x12") or written after it ("... ext. 12").
_EXT_IN = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,5}$")
_EXT_AFTER = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d{1,5}(?![0-9A-Za-z])", re.IGNORECASE)
# Grouped shapes that are something else: the dashed US SSN, a decimal number, a date
# written with spaces ("2024 05 06", "06 05 2024").
_M, _D = r"(?:0?[1-9]|1[0-2])", r"(?:0?[1-9]|[12]\d|3[01])"
_NOT_GROUPED_PHONE = re.compile(
    r"^\d{3}-\d{2}-\d{4}$|^\+?\d+\.\d+$"
    rf"|^(?:19|20)\d\d[\s.\-]{_M}[\s.\-]{_D}$|^{_D}[\s.\-]{_D}[\s.\-](?:19|20)\d\d$"
)
# An identifier noun right before the number: "call me about order 5233292436" is an order.
_ID_NOUN_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:order|invoice|account|acct|reference|ref|policy|ticket|tracking|transaction"
    r"|txn|case|claim|booking|confirmation|customer|member|patient|mrn|serial|id|passport|licen[cs]e)"
    r"\s*(?:no\.?|number|#|id)?\s*(?:is\s*)?[:#]?\s*$",
    re.IGNORECASE,
)
# An e-mail address on the line next to a number alone on its line: a contact block or signature.
_EMAIL_IN_LINE = re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}")
# A number listed after a phone just found shares its label: "Phone: 0490 75 40 81 and
# 0490 75 40 82", "call me on 0412 345 678, or my husband on 0412 345 679".
_LIST_JOIN = re.compile(
    r"[ \t]*(?:[,/;&]|and|or)[ \t]*(?:(?:and|or)[ \t]+)?"
    r"(?:(?:my|his|her|our|their|the)[ \t]+[a-z]+[ \t]+(?:on|at)[ \t]+)?",
    re.IGNORECASE,
)
_LIST_GAP = 40
# The candidate is only part of a longer digit sequence (a card or account number in groups).
_CONTINUES_AFTER = re.compile(r"[ .\-]\d")
_CONTINUES_BEFORE = re.compile(r"\d[ .\-]$")


def _mainland(value: str) -> bool:
    compact = _SEPARATORS.sub("", value)
    return compact.startswith(("+86", "0086")) or (len(compact) == 11 and compact[0] == "1")


def _with_extension(text: str, value: str, end: int) -> int:
    """Where the number ends, including an extension written after it (identifier regions
    stop at the space before "ext")."""
    if _EXT_IN.search(value) is None:
        m = _EXT_AFTER.match(text, end)
        if m is not None:
            return m.end()
    return end


def _in_contact_block(text: str, s: int, e: int, value: str) -> bool:
    """A national-length number alone on its line, next to a line with an e-mail address."""
    if not 7 <= sum(c.isdigit() for c in value) <= 13 or len(set(value)) < 3:
        return False
    start = text.rfind("\n", 0, s) + 1
    end = text.find("\n", e)
    end = len(text) if end < 0 else end
    if text[start:s].strip(" \t>*-") or text[e:end].strip(" \t\r.,;"):
        return False  # other words on the line: not a block line
    above = text[text.rfind("\n", 0, max(0, start - 1)) + 1 : max(0, start - 1)]
    below_end = text.find("\n", end + 1)
    below = text[end + 1 : len(text) if below_end < 0 else below_end] if end < len(text) else ""
    return _EMAIL_IN_LINE.search(above) is not None or _EMAIL_IN_LINE.search(below) is not None


def _listed_after_phone(text: str, s: int, out: list[Finding]) -> str | None:
    """The cue of a number that follows a phone just found, joined by and, or, a comma or a slash."""
    previous = next((f for f in reversed(out) if f.entity == "PHONE"), None)
    if previous is None or not 0 < s - previous.end <= _LIST_GAP:
        return None
    joined = _LIST_JOIN.fullmatch(text, previous.end, s)
    return "listed with a phone" if joined is not None else None


def _possible_international(value: str) -> bool:
    """Whether ``+CC ...`` or ``00CC ...`` has a possible length for its country (assigned range or not)."""
    if value.startswith("00"):
        value = "+" + value[2:]
    elif value.startswith("(+"):
        value = value[1:].replace(")", "", 1)  # "(+57)6061049746"
    try:
        num = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    # IS_POSSIBLE only: IS_POSSIBLE_LOCAL_ONLY lengths are too short to tell from other numbers.
    reason = phonenumbers.is_possible_number_with_reason(num)
    return bool(reason == phonenumbers.ValidationResult.IS_POSSIBLE and num.country_code != 86)


class PhoneRecognizer(Recognizer):
    """Non-Chinese phone numbers: a cheap candidate regex, then phonenumbers' validity check."""

    name = "phone"
    entities = ("PHONE",)
    uses_regions = True

    def prefilter(self, text: str) -> bool:
        """Needs at least one digit."""
        return any(c.isdigit() for c in text)

    @staticmethod
    def _valid_region(value: str) -> str | None:
        """The region of a valid non-Chinese number written as ``value``, else None."""
        compact = _SEPARATORS.sub("", value)
        if compact.startswith("00"):
            compact = "+" + compact[2:]
        if compact.startswith("+86") or (len(compact) == 11 and compact[0] == "1" and compact[1] in "3456789"):
            return None  # mainland numbers belong to CN_MOBILE / CN_LANDLINE
        for region in (None,) if compact.startswith("+") else _REGIONS:
            if region == "GB" and not compact.startswith("0"):
                continue  # UK national numbers are written with their trunk prefix 0
            try:
                num = phonenumbers.parse(value if region else compact, region)
            except phonenumbers.NumberParseException:
                continue
            if num.country_code == 86:
                return None
            # The country's main region: is_valid_number would try every region sharing the
            # calling code (25 for +1), which costs ten times more.
            main = phonenumbers.region_code_for_country_code(num.country_code or 0)
            if phonenumbers.is_valid_number_for_region(num, main):
                return main
        return None

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Phone numbers valid for their region, other than mainland China."""
        if "PHONE" not in entities:
            return []
        out: list[Finding] = []
        self._scan(text, 0, len(text), out)
        return out

    def analyze_regions(self, text: str, regions: Sequence[Region], entities: frozenset[str]) -> list[Finding]:
        """Like ``analyze``, only inside identifier regions with 7 to 20 digits."""
        if "PHONE" not in entities:
            return []
        out: list[Finding] = []
        for region in regions:
            if self.region_gate(region):
                self._scan(text, region.start, region.end, out, region.view)
        return out

    def region_gate(self, region: Region) -> bool:
        """7 to 15 digits (E.164; an extension after "x" adds a few), not a date."""
        if not 7 <= region.digits <= (20 if "x" in region.text else 15):
            return False
        return _DATE_LIKE.match(region.text) is None

    def scan_region(self, text: str, region: Region, out: list[Finding]) -> None:
        """Append the phone numbers inside one region."""
        self._scan(text, region.start, region.end, out, region.view)

    def _scan(self, text: str, pos: int, endpos: int, out: list[Finding], view: str | None = None) -> None:
        # Candidates are found in ``view`` (glued labels cut off: Tel+44…) when there is one;
        # labels, context and validation read ``text``: the offsets are the same.
        for cand in _PHONE_CANDIDATE.finditer(view or text, pos, endpos):
            value = cand.group()
            s, e = cand.start(), cand.end()
            bare = value.isdigit()
            if bare and (len(value) > 15 or (len(value) == 11 and value[0] == "1")):
                continue  # too long for E.164, or a mainland mobile (CN_MOBILE's business)
            if _DATE_LIKE.search(value.strip()) or _AMOUNT.search(value):
                continue
            if sum(c.isdigit() for c in value) < 7:
                continue
            intl = text[s] == "+" or text.startswith(("00", "(+"), s)
            if not intl and _ID_NOUN_BEFORE.search(text, max(0, s - 32), s) is not None:
                continue  # "order 5233292436", "policy no. 0412 345 678": named as something else
            word = find_context(text, s, e, PHONE_CONTEXT, label_line=True)
            labelled = bare and (self._labelled_run(text, s, value) or _in_contact_block(text, s, e, value))
            if not intl and bare and word is None and not labelled:
                continue  # a bare digit run is an order or record number far more often
            region = self._valid_region(value)
            if region is None:
                # Faker-style and newly assigned numbers fail phonenumbers' "valid" test (it
                # needs an assigned range), so a number in a phone's written form is enough.
                if _NANP.match(value.strip()) is not None:
                    basis = "NANP format"
                elif labelled:
                    basis = "digit run after a phone label or in a contact block"
                    intl = False
                elif bare or _mainland(value) or _NOT_GROUPED_PHONE.match(value):
                    continue
                elif intl and _possible_international(value):
                    basis = "+country code, phonenumbers possible length"
                    intl = False  # not a valid number: the plain score
                else:
                    cue = self._grouped_cue(text, s, e, value, word) or _listed_after_phone(text, s, out)
                    if cue is not None:
                        e = _with_extension(text, value, e)
                        out.append(Finding("PHONE", s, e, 0.6, f"grouped digits; context {cue}", self.name))
                    continue
            else:
                basis = f"phonenumbers valid ({region})"
            score = 0.8 if intl else 0.6
            explanation = f"pattern phone + {basis}"
            if word is not None:
                score = 0.9
                explanation += f"; context {word}"
            out.append(Finding("PHONE", s, _with_extension(text, value, e), score, explanation, self.name))

    @staticmethod
    def _labelled_run(text: str, s: int, value: str) -> bool:
        """A national-length digit run right after a phone label ("Phone: 4674924708")."""
        if not 7 <= len(value) <= 12 or len(set(value)) < 3:
            return False
        return _LABEL_BEFORE.search(text, max(0, s - 32), s) is not None

    @staticmethod
    def _grouped_cue(text: str, s: int, e: int, value: str, word: str | None) -> str | None:
        """The English phone cue of digit groups ``text[s:e]``, if they are a whole number."""
        if _GROUPED.match(_EXT_IN.sub("", value)) is None:
            return None
        if _CONTINUES_AFTER.match(text, e) or _CONTINUES_BEFORE.search(text, max(0, s - 2), s):
            return None  # a slice of a longer grouped number (card, account) is not a phone
        digits = sum(c.isdigit() for c in value)
        if not 7 <= digits <= 13:
            return None  # national numbers, with a country code at most 15 digits in all
        if word in _LABEL_WORDS:
            return word
        label = _LABEL_BEFORE.search(text, max(0, s - 32), s)
        if label is not None:
            return label.group().strip(" \t:#").lower()
        cue = find_context(text, s, e, _GROUPED_CUES, label_line=True)
        if cue is not None:
            return cue
        tag = _TAG_AFTER.match(text, e, e + 12) or _TAG_BEFORE.search(text, max(0, s - 16), s)
        if tag is not None:
            return tag.group().strip(" \t-(:").lower()
        return "contact block" if _in_contact_block(text, s, e, value) else None

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """PHONE when the whole value is one valid non-Chinese number (not a bare timestamp)."""
        value = value.strip()
        if _DATE_LIKE.search(value) or _AMOUNT.search(value) or not _PHONE_CANDIDATE.fullmatch(value):
            return []
        if self._valid_region(value) is None:
            return []
        # A bare digit run as a whole cell is as likely an id; the column name must help.
        return [("PHONE", 0.5 if value.isdigit() else 0.7)]


DOB_CONTEXT = (
    "出生",
    "生日",
    "生于",
    "出生日期",
    "出生年月",
    "诞辰",
    "dob",
    "d.o.b",
    "date of birth",
    "birth",
    "born",
    "birthday",
)
# Dates of other events in the same records: a date labelled or followed by one of these is
# not a birth date even with 出生 nearby (出生日期：… 死亡日期：…, 出生地：… 死亡日期：…).
_OTHER_EVENTS = (
    "死亡",
    "去世",
    "逝世",
    "病故",
    "死于",
    "入院",
    "出院",
    "就诊",
    "填报",
    "报告",
    "签发",
    "died",
    "death",
    "admitted",
    "discharged",
    "expired",
)
_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_MONTH_NUM = {
    m[:3]: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_DATES = re.compile(
    _B + r"(?:(?P<y1>(?:18|19|20)\d{2})\s*[年/\-.]\s*(?P<m1>\d{1,2})\s*[月/\-.]\s*(?P<d1>\d{1,2})"
    r"(?:\s*[日号])?"
    r"|(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>(?:18|19|20)\d{2})"
    r"|(?P<d3>\d{1,2})\s+(?P<mn3>" + _MONTHS + r")\.?,?\s+(?P<y3>(?:18|19|20)\d{2})"
    r"|(?P<mn4>" + _MONTHS + r")\.?\s+(?P<d4>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y4>(?:18|19|20)\d{2})"
    # 出生年月 forms give year and month only: 1949年12月, 1949.12
    r"|(?P<y5>(?:18|19|20)\d{2})\s*[年.]\s*(?P<m5>\d{1,2})\s*月?(?![\d日号])"
    r")(?![0-9A-Za-z:])",
    re.IGNORECASE,
)


def _date_of(m: re.Match[str]) -> dt.date | None:
    """The date a match denotes (the 1st of the month for year-month forms), if real."""
    groups = m.groupdict()
    for i in "12345":
        y = groups.get(f"y{i}")
        if y is None:
            continue
        month = groups.get(f"m{i}") or str(_MONTH_NUM[groups[f"mn{i}"][:3].lower()])
        try:
            return dt.date(int(y), int(month), int(groups.get(f"d{i}") or 1))
        except ValueError:
            return None
    return None


def _other_event(text: str, start: int, end: int) -> bool:
    """Whether the date ``text[start:end]`` is labelled as another event than a birth.

    Its own label is the nearer one before it (a birth word before another event's label
    belongs to an earlier field), or a word right after it (2024年1月3日死亡) unless those
    words end in a colon: then they are the next field's label.
    """
    head = text[max(0, start - 32) : start].lower()
    event = max(head.rfind(w) for w in _OTHER_EVENTS)
    if event >= 0 and event > max(head.rfind(w) for w in DOB_CONTEXT):
        return True
    tail = re.split(r"[，,。；;\n]", text[end : end + 12], maxsplit=1)[0]
    if ":" in tail or "：" in tail:
        return False
    tail = tail[:6].lower()
    return any(w in tail for w in _OTHER_EVENTS)


class DateOfBirthRecognizer(Recognizer):
    """Calendar dates with a birth context word nearby (a date alone is not a birth date)."""

    name = "date_of_birth"
    entities = ("DATE_OF_BIRTH",)

    def prefilter(self, text: str) -> bool:
        """Needs a digit."""
        return any(c.isdigit() for c in text)

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Real past dates near 出生/生日/born/DOB."""
        if "DATE_OF_BIRTH" not in entities:
            return []
        out: list[Finding] = []
        today = dt.date.today()
        for m in _DATES.finditer(text):
            born = _date_of(m)
            if born is None or not dt.date(1880, 1, 1) <= born <= today:
                continue
            word = find_context(text, m.start(), m.end(), DOB_CONTEXT, before=32, after=6)
            if word is None or _other_event(text, m.start(), m.end()):
                continue
            out.append(
                Finding(
                    "DATE_OF_BIRTH",
                    m.start(),
                    m.end(),
                    0.85,
                    f"pattern date + real calendar date; context {word}",
                    self.name,
                )
            )
        return out


MEDICAL_CONTEXT = (
    "icd",
    "诊断",
    "死因",
    "死亡原因",
    "根本死因",
    "直接死因",
    "病因",
    "疾病",
    "编码",
    "患有",
    "患",
    "死于",
    "病史",
    "既往",
    "diagnos",
    "dx",
    "cause of death",
    "died of",
    "suffer",
    "history of",
)
# Causes of death and chronic conditions most often written on death reports and notes.
_CN_TERMS = (  # noqa: SIM905 - one readable block
    "急性心肌梗死 心肌梗死 心肌梗塞 心梗 冠心病 冠状动脉粥样硬化性心脏病 心力衰竭 心衰 心律失常 心源性猝死 猝死 高血压 "
    "高血压病 脑出血 脑溢血 脑梗死 脑梗塞 脑卒中 中风 蛛网膜下腔出血 肺癌 肝癌 胃癌 食管癌 "
    "结直肠癌 直肠癌 结肠癌 乳腺癌 宫颈癌 胰腺癌 鼻咽癌 白血病 淋巴瘤 恶性肿瘤 肿瘤 癌症 "
    "慢性阻塞性肺疾病 慢阻肺 肺炎 重症肺炎 呼吸衰竭 肺结核 结核病 哮喘 肝硬化 肝衰竭 乙肝 乙型肝炎 "
    "丙型肝炎 肾衰竭 尿毒症 慢性肾病 糖尿病 糖尿病肾病 阿尔茨海默病 老年痴呆 帕金森病 癫痫 抑郁症 精神分裂症 "
    "艾滋病 HIV感染 新冠肺炎 新型冠状病毒感染 败血症 脓毒症 多器官功能衰竭 多脏器功能衰竭 休克 溺水 窒息 中毒 "
    "自缢 自杀 车祸 交通事故 颅脑损伤 烧伤 坠落伤 "
).split()
_EN_TERMS = (
    "myocardial infarction|heart attack|heart failure|cardiac arrest|coronary artery disease|"
    "stroke|cerebral hemorrhage|hypertension|diabetes(?: mellitus)?|pneumonia|sepsis|"
    "copd|chronic obstructive pulmonary disease|lung cancer|breast cancer|liver cancer|"
    "cancer|leukemia|lymphoma|tuberculosis|hiv|aids|cirrhosis|renal failure|kidney failure|"
    "alzheimer'?s disease|dementia|parkinson'?s disease|epilepsy|depression|schizophrenia|"
    "covid-19|overdose|asthma"
)
_ICD = re.compile(_B + r"[A-TV-Z]\d{2}(?:\.\d{1,4})?(?![0-9A-Za-z])")
_TERMS = re.compile(
    "|".join(sorted(map(re.escape, _CN_TERMS), key=len, reverse=True))
    + r"|(?<![A-Za-z])(?:"
    + _EN_TERMS
    + r")(?![A-Za-z])",
    re.IGNORECASE,
)


class MedicalRecognizer(Recognizer):
    """ICD-10 codes (only with a diagnostic context) and disease / cause-of-death phrases."""

    name = "medical"
    entities = ("MEDICAL",)

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """ICD-10 codes near 诊断/ICD/死因..., and disease phrases (stronger in context)."""
        if "MEDICAL" not in entities:
            return []
        out: list[Finding] = []
        for m in _ICD.finditer(text):
            word = find_context(text, m.start(), m.end(), MEDICAL_CONTEXT)
            if word is None:
                continue  # "A12" alone is far more often a room, part or grid reference
            out.append(Finding("MEDICAL", m.start(), m.end(), 0.85, f"pattern icd10; context {word}", self.name))
        for m in _TERMS.finditer(text):
            word = find_context(text, m.start(), m.end(), MEDICAL_CONTEXT)
            score, explanation = 0.6, "dictionary disease/cause-of-death phrase"
            if word is not None:
                score, explanation = 0.9, explanation + f"; context {word}"
            out.append(Finding("MEDICAL", m.start(), m.end(), score, explanation, self.name))
        return out

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """MEDICAL when the value is an ICD-10 code or a known disease phrase."""
        if _ICD.fullmatch(value) or _TERMS.fullmatch(value):
            return [("MEDICAL", 0.8)]
        return []
