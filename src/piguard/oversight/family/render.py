"""The account as the family receives it: one self-contained HTML page with a chart (Chinese by
default, or English), or JSON. ``render`` also serves the copy (its page is ``copy_page``) and the
correction and deletion letters (``letter_page``).

Same account, same bytes: the chart is drawn with the reports' fixed settings and the page
carries no generation time other than the account's own ``until``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date, datetime, timedelta

import jinja2
import matplotlib.pyplot as plt
import rfc8785
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from piguard.errors import InputError
from piguard.oversight.family import copy_page, letter_page
from piguard.oversight.family.page import STYLE, clock, table
from piguard.oversight.family.schemas import (
    CorrectionLetter,
    DeletionLetter,
    DisclosureAccount,
    FamilyCopy,
    FamilyDocument,
)
from piguard.oversight.family.wording import LANGUAGES, staff, term
from piguard.oversight.reports import charts

FORMATS = ("html", "json")
_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATES = {
    "en": _ENV.from_string(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Account of accesses — {{ a.deceased_name }}</title>
{{ style|safe }}</head><body>
<h1>Account of accesses to the records of {{ a.deceased_name }}</h1>
<p>Prepared for {{ a.requester_name }} ({{ relationship }} of the deceased) at their request under Article 49
of the Personal Information Protection Law. It lists every access to {{ a.deceased_name }}'s death report, the
ambulance call and the relatives' contact details recorded from {{ day(a.since) }}
to {{ when(a.until) }}, including attempts that were refused (times with their UTC offset, as recorded).
Staff are shown by organisation and role; "staff 1", "staff 2" and so on are the same person throughout this
account.</p>
<section class="kpi">
<div><b>{{ a.accesses }}</b>accesses</div><div><b>{{ a.denied }}</b>refused attempts</div>
<div><b>{{ a.contact_disclosures }}</b>showed relatives' phone numbers</div>
<div><b>{{ a.by_organisation|length }}</b>organisations</div>
<div><b>{{ a.emergency_uses|length }}</b>emergency (break-glass) uses</div>
</section>
<h2>When</h2>
<figure>{{ chart|safe }}</figure>
<p><span class="access">&#9632;</span> accesses <span class="refused">&#9632;</span> refused attempts, per day</p>
<h2>By organisation</h2>
{{ table(["organisation", "type", "accesses", "refused"], organisations) }}
<h2>Emergency access</h2>
<p>Emergency ("break-glass") access bypasses the usual need-to-know rules for one hour and is always reviewed.</p>
{{ table(["granted", "organisation", "role", "staff", "review"], emergency) }}
<h2>Investigations</h2>
<p>Investigations by the privacy office concerning this record (their findings are not part of this account).</p>
{{ table(["opened", "state"], investigations) }}
<h2>Every access</h2>
{{ table(["time", "organisation", "role", "staff", "action", "record", "information shown", "purpose",
          "outcome", "ledger #"], lines) }}
<h2>How to check this account</h2>
<p>Each line is an entry of piguard's tamper-evident access ledger (an RFC 9162 Merkle log). The account was
read against the signed checkpoint below; the privacy office can produce, for any line, a proof that it is in
that log, verifiable without trusting piguard. Request id <code>{{ a.request_id }}</code>.</p>
<pre>{{ a.ledger.note }}</pre>
</body></html>
"""
    ),
    "zh": _ENV.from_string(
        """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>个人信息访问记录告知书 — {{ a.deceased_name }}</title>
{{ style|safe }}</head><body>
<h1>{{ a.deceased_name }}个人信息访问记录告知书</h1>
<p>{{ a.requester_name }}（逝者的{{ relationship }}）：根据《中华人民共和国个人信息保护法》第四十九条，应您的申请，
现将{{ day(a.since) }}至{{ when(a.until) }}期间记录在案的、对{{ a.deceased_name }}的死亡报告、
急救出车记录及家属联系方式的全部访问（包括被拒绝的访问尝试）告知如下。时间均为北京时间。工作人员以所属机构和岗位显示；
“工作人员1”“工作人员2”等在本告知书中始终指同一人。</p>
<section class="kpi">
<div><b>{{ a.accesses }}</b>次访问</div><div><b>{{ a.denied }}</b>次被拒绝的尝试</div>
<div><b>{{ a.contact_disclosures }}</b>次显示了家属电话</div>
<div><b>{{ a.by_organisation|length }}</b>个机构</div>
<div><b>{{ a.emergency_uses|length }}</b>次紧急授权</div>
</section>
<h2>访问时间分布</h2>
<figure>{{ chart|safe }}</figure>
<p><span class="access">&#9632;</span> 访问 <span class="refused">&#9632;</span> 被拒绝的尝试（按日统计）</p>
<h2>按机构统计</h2>
{{ table(["机构", "类型", "访问", "被拒绝"], organisations) }}
<h2>紧急授权</h2>
<p>紧急授权（“破窗”）可在一小时内越过常规的“按需知悉”规则，每次使用都须经审查。</p>
{{ table(["授权时间", "机构", "岗位", "人员", "审查结果"], emergency) }}
<h2>相关调查</h2>
<p>个人信息保护部门针对该记录开展的调查（调查结论不在本告知书范围内）。</p>
{{ table(["立案日期", "状态"], investigations) }}
<h2>全部访问明细</h2>
{{ table(["时间", "机构", "岗位", "人员", "操作", "记录", "显示的信息", "目的", "结果", "日志序号"], lines) }}
<h2>如何核验</h2>
<p>每一条均为 piguard 防篡改访问日志（RFC 9162 默克尔日志）中的记录。本告知书依据下方经签名的日志检查点生成；
个人信息保护部门可为任意一条出具其包含在该日志中的证明，无需信任 piguard 即可核验。申请编号
<code>{{ a.request_id }}</code>。</p>
<pre>{{ a.ledger.note }}</pre>
</body></html>
"""
    ),
}


def daily(account: DisclosureAccount, lang: str = "en") -> Figure:
    """Accesses and refused attempts per day (in the page's time), from the first to the last recorded one."""
    local = clock(lang)
    allowed: Counter[date] = Counter()
    refused: Counter[date] = Counter()
    for line in account.lines:
        (allowed if line.outcome == "allowed" else refused)[local(line.time).date()] += 1
    days = sorted(set(allowed) | set(refused))
    if days:
        span = (days[-1] - days[0]).days
        days = [days[0] + timedelta(days=n) for n in range(span + 1)]
    fig, ax = plt.subplots(figsize=(7.5, 2.4))
    positions = list(range(len(days)))
    ax.bar(positions, [allowed[d] for d in days], color=charts.ACCESS)
    ax.bar(
        positions,
        [refused[d] for d in days],
        bottom=[allowed[d] for d in days],
        color=charts.DENIED,
    )
    step = max(1, len(days) // 6)
    ax.set_xticks(positions[::step], [d.isoformat() for d in days[::step]], rotation=30, ha="right")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    # No words in the chart: the page's caption explains it in the page's language, and a
    # machine without a CJK font would draw Chinese labels as boxes.
    fig.tight_layout()
    return fig


def html(account: DisclosureAccount, lang: str = "zh") -> bytes:
    """The account as one self-contained HTML page in ``lang`` (``zh`` or ``en``)."""
    if lang not in LANGUAGES:
        raise InputError(f"unknown language; one of {', '.join(LANGUAGES)}", where="lang")
    with charts.style():
        chart = charts.svg(daily(account, lang))
    local = clock(lang)

    def when(moment: datetime) -> str:
        return local(moment).isoformat(timespec="seconds")

    text = _TEMPLATES[lang].render(
        a=account,
        when=when,
        day=lambda moment: local(moment).date().isoformat(),
        style=STYLE,
        chart=chart,
        table=table(lang),
        relationship=term(lang, "relationship", account.relationship),
        organisations=[
            (o.organisation, term(lang, "org_type", o.organisation_type), o.allowed, o.denied)
            for o in account.by_organisation
        ],
        emergency=[
            (
                when(e.granted_at),
                e.organisation,
                term(lang, "role", e.role),
                staff(lang, e.staff),
                term(lang, "review", e.review),
            )
            for e in account.emergency_uses
        ],
        investigations=[
            (local(i.opened_at).date().isoformat(), term(lang, "case_state", i.state)) for i in account.investigations
        ],
        lines=[
            (
                when(line.time),
                line.organisation,
                term(lang, "role", line.role),
                staff(lang, line.staff),
                term(lang, "action", line.action),
                term(lang, "record", line.record),
                ("、" if lang == "zh" else ", ").join(term(lang, "kind", k) for k in line.disclosed) or "-",
                term(lang, "purpose", line.purpose) if lang == "zh" else line.purpose_meaning or line.purpose or "-",
                term(lang, "outcome", line.outcome),
                line.ledger_index,
            )
            for line in account.lines
        ],
    )
    return text.encode("utf-8")


def as_json(document: FamilyDocument) -> bytes:
    """The account or copy as canonical JSON (RFC 8785), the bytes whose SHA-256 the request keeps.

    A deletion letter with nothing in ``remains`` leaves the key out, so letters issued before it
    existed print again byte for byte.
    """
    empty = isinstance(document, DeletionLetter) and not document.remains
    return bytes(rfc8785.dumps(document.model_dump(mode="json", exclude={"remains"} if empty else None)))


def render(document: FamilyDocument, fmt: str, lang: str = "zh") -> bytes:
    """The account or copy in one of ``FORMATS`` (the HTML page in ``lang``; the JSON has no language)."""
    if fmt == "json":
        return as_json(document)
    if isinstance(document, FamilyCopy):
        return copy_page.html(document, lang, sha256=hashlib.sha256(as_json(document)).hexdigest())
    if isinstance(document, CorrectionLetter | DeletionLetter):
        return letter_page.html(document, lang, sha256=hashlib.sha256(as_json(document)).hexdigest())
    return html(document, lang)
