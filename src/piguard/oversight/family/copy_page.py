"""The copy as the family receives it: one self-contained HTML page, Chinese by default, or English.

The page shows exactly the copy's fields (the canonical JSON is the copy as kept), says what the
copy leaves out and why, and prints the SHA-256 of the kept JSON so the page can be matched with
the copy on record and with the ledger event of its issue. Same copy, same bytes.
"""

from __future__ import annotations

from datetime import date, datetime

import jinja2

from piguard.errors import InputError
from piguard.oversight.family.page import STYLE, clock, table
from piguard.oversight.family.schemas import FamilyCopy
from piguard.oversight.family.wording import LANGUAGES, term

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATES = {
    "en": _ENV.from_string(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Copy of personal information — {{ c.record.deceased.name }}</title>
{{ style|safe }}</head><body>
<h1>Copy of the personal information of {{ c.record.deceased.name }}</h1>
<p>Prepared for {{ c.requester_name }} ({{ relationship }} of the deceased) at their request under Article 49
of the Personal Information Protection Law (right of access and copy). It holds the personal information of
{{ c.record.deceased.name }} recorded in the death information system as it stood at {{ when(c.issued_at) }}
(times with their UTC offset, as recorded).</p>
<h2>Identity</h2>
{{ table(["item", "recorded"], identity) }}
<h2>Death</h2>
{{ table(["item", "recorded"], death) }}
<h2>Cause of death</h2>
<p>Part I: the chain of conditions leading directly to death, (a) the immediate cause, down to the underlying
cause; with the approximate interval between onset and death.</p>
{{ table(["line", "condition", "ICD-10", "interval"], causes) }}
{{ table(["item", "recorded"], cause_summary) }}
<h2>Certificate</h2>
{{ table(["item", "recorded"], certificate) }}
<h2>Not in this copy</h2>
<p>The names and telephone numbers of relatives are their own personal information and are not copied here;
each relative may ask for their own. Staff names and internal identifiers are not the deceased's information.
The certifying doctor's investigation notes (free text that may record what other people said) are kept by the
certifying institution, which can be asked for them.</p>
<h2>How to check this copy</h2>
<p>The copy is kept exactly as issued; its SHA-256 fingerprint is <code>{{ sha256 }}</code>, and its issue is
recorded in piguard's tamper-evident access ledger. Request id <code>{{ c.request_id }}</code>.</p>
</body></html>
"""
    ),
    "zh": _ENV.from_string(
        """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>逝者个人信息副本 — {{ c.record.deceased.name }}</title>
{{ style|safe }}</head><body>
<h1>{{ c.record.deceased.name }}个人信息副本</h1>
<p>{{ c.requester_name }}（逝者的{{ relationship }}）：根据《中华人民共和国个人信息保护法》第四十九条（查阅、复制），
应您的申请，现将死亡信息系统中截至{{ when(c.issued_at) }}（北京时间）记录的
{{ c.record.deceased.name }}的个人信息复制如下。</p>
<h2>身份信息</h2>
{{ table(["项目", "记录内容"], identity) }}
<h2>死亡情况</h2>
{{ table(["项目", "记录内容"], death) }}
<h2>死亡原因</h2>
<p>第一部分：直接导致死亡的疾病或情况，自（a）直接死因起依次至根本死因，以及发病至死亡的大概间隔时间。</p>
{{ table(["行", "疾病或情况", "ICD-10编码", "发病至死亡大概间隔"], causes) }}
{{ table(["项目", "记录内容"], cause_summary) }}
<h2>死亡医学证明</h2>
{{ table(["项目", "记录内容"], certificate) }}
<h2>本副本不包括的内容</h2>
<p>其他家属的姓名和电话号码属于其本人的个人信息，不在本副本中复制，可由其本人申请。工作人员姓名及系统内部编号不属于逝者的个人信息。
出具证明的医师所作的死亡调查记录（可能记载他人陈述的文字记录）由出具机构保存，可向该机构申请。</p>
<h2>如何核验</h2>
<p>本副本按出具时的原样保存，其 SHA-256 指纹为 <code>{{ sha256 }}</code>；出具本副本已记入 piguard 防篡改访问日志。
申请编号 <code>{{ c.request_id }}</code>。</p>
</body></html>
"""
    ),
}
_LABELS = {
    "en": {
        "name": "name",
        "sex": "sex",
        "id_number": "ID number",
        "birth_date": "date of birth",
        "ethnicity": "ethnicity",
        "marital_status": "marital status",
        "occupation": "occupation",
        "household_address": "household (hukou) address",
        "usual_address": "usual address",
        "time": "date and time of death",
        "place": "place of death",
        "place_detail": "place of death (detail)",
        "cause_part2": "Part II: other significant conditions",
        "manner": "manner of death",
        "underlying_icd10": "underlying cause of death (ICD-10)",
        "number": "certificate number",
        "status": "status",
        "institution": "certifying institution",
    },
    "zh": {
        "name": "姓名",
        "sex": "性别",
        "id_number": "公民身份号码",
        "birth_date": "出生日期",
        "ethnicity": "民族",
        "marital_status": "婚姻状况",
        "occupation": "职业",
        "household_address": "户籍地址",
        "usual_address": "常住地址",
        "time": "死亡日期及时间",
        "place": "死亡地点",
        "place_detail": "死亡地点（详细）",
        "cause_part2": "第二部分：其他重要疾病或情况",
        "manner": "死亡方式",
        "underlying_icd10": "根本死因（ICD-10编码）",
        "number": "证明编号",
        "status": "状态",
        "institution": "出具机构",
    },
}


def _value(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def html(copy: FamilyCopy, lang: str = "zh", *, sha256: str) -> bytes:
    """The copy as one self-contained HTML page in ``lang`` (``zh`` or ``en``), with its kept JSON's SHA-256."""
    if lang not in LANGUAGES:
        raise InputError(f"unknown language; one of {', '.join(LANGUAGES)}", where="lang")
    local = clock(lang)
    label = _LABELS[lang]
    person, death, cert = copy.record.deceased, copy.record.death, copy.record.certificate

    def when(moment: datetime) -> str:
        return local(moment).isoformat(timespec="seconds")

    def rows(pairs: list[tuple[str, object]]) -> list[tuple[object, ...]]:
        return [(label[key], _value(value)) for key, value in pairs]

    text = _TEMPLATES[lang].render(
        c=copy,
        when=when,
        style=STYLE,
        sha256=sha256,
        table=table(lang),
        relationship=term(lang, "relationship", copy.relationship),
        identity=rows(
            [
                ("name", person.name),
                ("sex", term(lang, "sex", person.sex)),
                ("id_number", person.id_number),
                ("birth_date", person.birth_date),
                ("ethnicity", person.ethnicity),
                ("marital_status", person.marital_status),
                ("occupation", person.occupation),
                ("household_address", person.household_address),
                ("usual_address", person.usual_address),
            ]
        ),
        death=rows(
            [
                ("time", when(death.time)),
                ("place", term(lang, "place", death.place)),
                ("place_detail", death.place_detail),
            ]
        ),
        causes=[(f"({line.line})", line.text, _value(line.icd10), _value(line.interval)) for line in death.cause_part1],
        cause_summary=rows(
            [
                ("cause_part2", death.cause_part2),
                ("manner", term(lang, "manner", death.manner)),
                ("underlying_icd10", death.underlying_icd10),
            ]
        ),
        certificate=rows(
            [
                ("number", cert.number),
                ("status", term(lang, "report_status", cert.status)),
                ("institution", cert.institution),
            ]
        ),
    )
    return text.encode("utf-8")
