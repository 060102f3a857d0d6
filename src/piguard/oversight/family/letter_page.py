"""The letter a family receives on a correction or deletion request: one self-contained HTML page.

Chinese by default, or English, like the account and the copy. The page names fields (never the
values, and never other people's data: a deletion says how many relatives' numbers were deleted),
says for each item what was done or why not, where to turn next, and prints the SHA-256 of the
kept JSON. Same letter, same bytes.
"""

from __future__ import annotations

from datetime import datetime

import jinja2

from piguard.errors import InputError
from piguard.oversight.family import deletions, rules
from piguard.oversight.family.page import STYLE, clock, table
from piguard.oversight.family.schemas import CorrectionLetter, DeletionLetter, LetterItem
from piguard.oversight.family.wording import LANGUAGES, field_label, term
from piguard.records import erasure

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
# The reasons the system itself gives, in Chinese (the certifier's own words are shown as written).
_REASONS_ZH = {
    rules.RETENTION_BASIS: (
        "死亡报告即居民死亡医学证明（推断）书，出具机构须依法保存，并已报送疾病预防控制机构的死亡信息登记系统；"
        "有关死亡医学证明和死亡信息登记的规定（国卫规划发〔2013〕57号）及病历管理的规定要求保存，因此不予删除。"
        "依照《个人信息保护法》第四十七条第二款，在须保存期间仅作存储、采取必要的安全保护措施并用于上述法定职责。"
    ),
    deletions.OPEN_CASE: "涉及该记录的调查尚未结束，联系方式可能是证据，暂予保存；调查结束后可再次申请删除。",
    erasure.NOT_CERTIFIED: "死亡报告尚未签发，仍需联系家属办理死亡医学证明；签发并交付后可再次申请删除。",
    erasure.NOT_HANDED_OVER: "死亡医学证明各联尚未全部交付家属，仍需联系家属；交付后可再次申请删除。",
    deletions.ALREADY_DELETED: "此前的申请已将死亡报告中的家属联系方式删除，现已无可删除的内容。",
    deletions.NEVER_HELD: "死亡报告中没有家属的电话号码或地址。",
    rules.LAPSED: (
        "出具死亡医学证明的医师未在答复期限内审核该项，因此未予更正；您可再次申请、请出具机构复核，或向卫生健康委员会投诉。"
    ),
}
_HEAD = """<!doctype html>
<html lang="{{ html_lang }}"><head><meta charset="utf-8">
<title>{{ title }}</title>
{{ style|safe }}</head><body>
<h1>{{ title }}</h1>
"""
_FOOT_EN = """<h2>How to check this letter</h2>
<p>The letter is kept exactly as issued; its SHA-256 fingerprint is <code>{{ sha256 }}</code>, and its issue is
recorded in piguard's tamper-evident access ledger. Request id <code>{{ l.request_id }}</code>.</p>
</body></html>
"""
_FOOT_ZH = """<h2>如何核验</h2>
<p>本答复按出具时的原样保存，其 SHA-256 指纹为 <code>{{ sha256 }}</code>；出具本答复已记入 piguard 防篡改访问日志。
申请编号 <code>{{ l.request_id }}</code>。</p>
</body></html>
"""
_TEMPLATES = {
    ("correction", "en"): _ENV.from_string(
        _HEAD
        + """<p>{{ l.requester_name }} ({{ relationship }} of the deceased): you asked, under Articles 46 and 49 of the
Personal Information Protection Law, for fields of the death report of {{ l.deceased_name }} to be corrected.
{% if not lapsed %}The physician who certified the death reviewed each item.
{%- elif not reviewed %}The physician who certified the death did not decide any item by the due date: every item
expired undecided and was not corrected.
{%- else %}The physician who certified the death reviewed {{ items_en(reviewed) }}.
{{ items_en(lapsed)|capitalize }} expired undecided: the physician did not decide
{{ "it" if lapsed|length == 1 else "them" }} by the due date, so {{ "it was" if lapsed|length == 1 else "they were" }}
not corrected.{% endif %} This is the answer, as of
{{ when(l.issued_at) }} (times with their UTC offset, as recorded).</p>
{{ table(["item", "field", "result", "reason"], rows) }}
<p>A corrected field now reads as you asked; the report keeps the earlier value in its correction history, as the
law on medical records requires. You may ask for a copy of the record to see it as it now stands. Where a field
was not corrected, you may ask the certifying institution to review it, or complain to the health commission.</p>
"""
        + _FOOT_EN
    ),
    ("correction", "zh"): _ENV.from_string(
        _HEAD
        + """<p>{{ l.requester_name }}（逝者的{{ relationship }}）：
您根据《中华人民共和国个人信息保护法》第四十六条、第四十九条，申请更正{{ l.deceased_name }}死亡报告中的信息。
{% if not lapsed %}出具死亡医学证明的医师已逐项审核，
{%- elif not reviewed %}出具死亡医学证明的医师未在答复期限内审核任何一项，各项均逾期未审核，未予更正；
{%- else %}出具死亡医学证明的医师已审核{{ items_zh(reviewed) }}；{{ items_zh(lapsed) }}逾期未审核
{{- "（医师未在答复期限内作出决定），未予更正；" }}
{%- endif %}截至{{ when(l.issued_at) }}（北京时间）答复如下。</p>
{{ table(["序号", "项目", "结果", "理由"], rows) }}
<p>已更正的项目现按您的申请记载；原记载内容依病历管理要求保留在更正记录中。您可申请获取个人信息副本，查看更正后的记录。
对未予更正的项目，您可请出具机构复核，或向卫生健康委员会投诉。</p>
"""
        + _FOOT_ZH
    ),
    ("deletion", "en"): _ENV.from_string(
        _HEAD
        + """<p>{{ l.requester_name }} ({{ relationship }} of the deceased): you asked, under Articles 47 and 49 of the
Personal Information Protection Law, for personal information about {{ l.deceased_name }} to be deleted. This is
the answer, as of {{ when(l.issued_at) }} (times with their UTC offset, as recorded).</p>
{{ table(["item", "what", "result", "reason or detail"], rows) }}
{% if deleted %}<p>The deleted values are gone from the death report and from its correction history, which
says only that, when and why they were deleted; virtual numbers that staff had been given for the relatives no
longer connect. The relatives' names and relationships stay on the report: the certificate records who the
informant was.</p>
<p>What this deletion does not reach:</p>
<ul>
{% if "emergency_call" in remains %}<li>The ambulance call that preceded the death is recorded by the emergency
centre, which keeps its call records under its own rules; that record may hold the number the call was made from.
This request does not change it: ask the emergency centre.</li>
{% endif %}{% if "search_text" in remains %}<li>The access log keeps, unchanged, any text staff typed into a
search (for example a phone number they looked up); it cannot be altered, so that nobody can hide an access.</li>
{% endif %}{% if "backups" in remains %}<li>Backups taken before the deletion still hold the deleted values until
the institution discards them on its backup schedule.</li>
{% endif %}</ul>{% endif %}
"""
        + _FOOT_EN
    ),
    ("deletion", "zh"): _ENV.from_string(
        _HEAD
        + """<p>{{ l.requester_name }}（逝者的{{ relationship }}）：
您根据《中华人民共和国个人信息保护法》第四十七条、第四十九条，申请删除与{{ l.deceased_name }}有关的个人信息。
截至{{ when(l.issued_at) }}（北京时间）答复如下。</p>
{{ table(["序号", "申请删除的内容", "结果", "理由或说明"], rows) }}
{% if deleted %}<p>已删除的内容已从死亡报告及其更正记录中清除，更正记录仅载明删除的时间和理由；
此前为工作人员生成的家属虚拟号码已停止接通。家属姓名及与逝者的关系仍保留在报告中，死亡医学证明须载明报告人。</p>
<p>本次删除不涉及以下内容：</p>
<ul>
{% if "emergency_call" in remains %}<li>死亡前的急救呼叫由急救中心记录，并按其自身规定保存，其中可能含有呼救电话号码；
本申请不改变该记录，如需删除请向急救中心提出。</li>
{% endif %}{% if "search_text" in remains %}<li>访问日志按原样保存工作人员在检索时输入的文字（例如所查询的电话号码）；
该日志不可更改，以免任何人隐瞒访问行为。</li>
{% endif %}{% if "backups" in remains %}<li>删除前形成的备份仍含有已删除的内容，直至机构按备份保存期限销毁。</li>
{% endif %}</ul>{% endif %}
"""
        + _FOOT_ZH
    ),
}
_TITLES = {
    ("correction", "en"): "Answer to your request to correct the death report of {name}",
    ("correction", "zh"): "关于更正{name}死亡报告信息申请的答复",
    ("deletion", "en"): "Answer to your request to delete personal information about {name}",
    ("deletion", "zh"): "关于删除{name}相关个人信息申请的答复",
}


def expired(item: LetterItem) -> bool:
    """Whether a correction item expired undecided (declined at the answer with ``rules.LAPSED``)."""
    return item.outcome == "declined" and item.reason == rules.LAPSED


def _items_en(positions: list[int]) -> str:
    """'item 2', 'items 1 and 3', 'items 1, 2 and 4'."""
    numbers = [str(n) for n in positions]
    if len(numbers) == 1:
        return f"item {numbers[0]}"
    return f"items {', '.join(numbers[:-1])} and {numbers[-1]}"


def _items_zh(positions: list[int]) -> str:
    """'第2项', '第1、3项'."""
    return f"第{'、'.join(str(n) for n in positions)}项"


def _result(lang: str, item: LetterItem) -> str:
    """The item's result column; an item that expired undecided says so rather than 'declined'."""
    if expired(item):
        return "逾期未审核" if lang == "zh" else "expired undecided"
    return term(lang, "outcome_item", item.outcome)


def _reason(lang: str, item: LetterItem) -> str:
    """Why, or what was deleted (field names and counts)."""
    if item.deleted:
        sep = "；" if lang == "zh" else "; "
        return sep.join(f"{field_label(lang, d.field)}: {d.count}" for d in item.deleted)
    if item.reason is None:
        return "-"
    if lang == "zh":
        return _REASONS_ZH.get(item.reason, item.reason)
    return item.reason


def html(letter: CorrectionLetter | DeletionLetter, lang: str = "zh", *, sha256: str) -> bytes:
    """The letter as one self-contained HTML page in ``lang`` (``zh`` or ``en``), with its kept JSON's SHA-256."""
    if lang not in LANGUAGES:
        raise InputError(f"unknown language; one of {', '.join(LANGUAGES)}", where="lang")
    kind = "deletion" if isinstance(letter, DeletionLetter) else "correction"
    local = clock(lang)

    def when(moment: datetime) -> str:
        return local(moment).isoformat(timespec="seconds")

    rows = [
        (item.position, field_label(lang, item.field), _result(lang, item), _reason(lang, item))
        for item in letter.items
    ]
    # Which items the certifier reviewed and which expired undecided: the letter never claims a review that did
    # not happen (a deletion letter has no certifier: neither list is used).
    lapsed = [item.position for item in letter.items if expired(item)]
    reviewed = [item.position for item in letter.items if not expired(item)]
    text = _TEMPLATES[(kind, lang)].render(
        l=letter,
        html_lang="zh-CN" if lang == "zh" else "en",
        title=_TITLES[(kind, lang)].format(name=letter.deceased_name),
        when=when,
        style=STYLE,
        sha256=sha256,
        table=table(lang),
        relationship=term(lang, "relationship", letter.relationship),
        rows=rows,
        lapsed=lapsed,
        reviewed=reviewed,
        items_en=_items_en,
        items_zh=_items_zh,
        deleted=any(item.outcome == "deleted" for item in letter.items),
        # Letters issued before ``remains`` existed said only that backups keep the values.
        remains=(letter.remains or [deletions.REMAINS_BACKUPS]) if isinstance(letter, DeletionLetter) else [],
    )
    return text.encode("utf-8")
