"""What the family's page says, in Chinese (the default: the families are in China) and English.

The account itself (JSON) keeps codes and English terms; only the page is translated. A term
without a translation is shown as it is rather than dropped.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")

_ZH: dict[str, dict[str, str]] = {
    "role": {
        "physician": "医师",
        "nurse": "护士",
        "emt": "急救人员",
        "dispatcher": "调度员",
        "cdc_coder": "疾控死因编码员",
        "cdc_epidemiologist": "疾控流行病学人员",
        "police_registrar": "公安户籍民警",
        "funeral_clerk": "殡仪馆业务员",
        "privacy_officer": "个人信息保护专员",
        "admin": "系统管理员",
        "service": "系统服务",
    },
    "org_type": {
        "hospital": "医院",
        "emergency_center": "急救中心",
        "cdc": "疾病预防控制中心",
        "police": "公安机关",
        "funeral_home": "殡仪馆",
        "civil_affairs": "民政部门",
        "health_commission": "卫生健康委员会",
        "unknown": "未知",
    },
    "action": {
        "read": "查看",
        "search": "检索",
        "print": "打印",
        "export": "导出",
        "create": "创建",
        "update": "更新",
        "breakglass": "紧急授权",
        "resolve_handle": "接通虚拟号码",
    },
    "record": {
        "death report": "死亡报告",
        "ambulance call": "急救出车记录",
        "relative's phone number": "家属电话",
        "this request": "本申请",
        "a relative's request": "家属申请",
        "investigation": "调查",
        "search results": "检索结果",
        "record": "记录",
        "a copy of the record for a relative": "向家属提供的个人信息副本",
    },
    "kind": {
        "identity": "身份信息",
        "identity number": "身份证号",
        "identity number (masked, last 4)": "身份证号（已遮蔽，仅后4位）",
        "addresses": "地址",
        "cause and circumstances of death": "死亡原因及情况",
        "date of death": "死亡日期",
        "date and time of death": "死亡时间",
        "relatives' names and relationship": "家属姓名及关系",
        "relatives' phone (virtual number)": "家属电话（虚拟号码）",
        "caller's phone (virtual number)": "呼救人电话（虚拟号码）",
        "relatives' real phone number": "家属真实电话号码",
        "relatives' contact details deleted": "删除家属联系方式",
        "death certificate": "死亡医学证明",
        "ambulance call details": "急救出车信息",
        "access records": "访问记录",
        "investigation records": "调查记录",
        "relatives' requests": "家属申请办理",
        "record status": "记录状态",
    },
    "purpose": {
        "TREAT": "诊疗",
        "ETREAT": "急救",
        "BTG": "紧急授权",
        "HOPERAT": "医疗机构业务管理",
        "PUBHLTH": "公共卫生",
        "HRESCH": "医学研究",
        "LEGAL": "法定事务（户籍注销、调查）",
        "FAMRQT": "应家属申请",
        "HPAYMT": "医疗费用支付",
        "HMARKT": "医疗营销",
    },
    "outcome": {"allowed": "已允许", "denied": "已拒绝"},
    "review": {
        "awaiting review": "待审查",
        "reviewed: justified": "已审查：合理",
        "reviewed: unjustified": "已审查：不合理",
    },
    "case_state": {
        "open": "已立案",
        "investigating": "调查中",
        "substantiated": "查证属实",
        "unsubstantiated": "查无实据",
        "closed": "已结案",
    },
    "sex": {"male": "男", "female": "女", "unknown": "未知"},
    "place": {
        "hospital": "医疗卫生机构",
        "home": "家中",
        "en_route": "送医途中",
        "care_home": "养老服务机构",
        "other": "其他场所",
    },
    "manner": {
        "natural": "自然死亡（疾病）",
        "accident": "意外",
        "suicide": "自杀",
        "homicide": "他杀",
        "pending": "待定（调查中）",
        "undetermined": "无法确定",
    },
    "report_status": {
        "draft": "草稿（尚未签发）",
        "certified": "已签发",
        "reported": "已签发并报告疾控中心",
        "coded": "已签发，根本死因已编码",
    },
    "relationship": {
        "spouse": "配偶",
        "parent": "父母",
        "child": "子女",
        "sibling": "兄弟姐妹",
        "grandparent": "祖父母、外祖父母",
        "grandchild": "孙子女、外孙子女",
    },
}


# The fields and targets of correction and deletion requests, as a letter names them.
FIELDS_EN = {
    "name": "name",
    "sex": "sex",
    "id_number": "ID number",
    "birth_date": "date of birth",
    "usual_address": "usual address",
    "household_address": "household (hukou) address",
    "part2": "Part II: other significant conditions",
    "manner": "manner of death",
    "place_detail": "place of death (detail)",
    "report": "the death report (all the deceased's information on it)",
    "relative_contacts": "the relatives' contact details on the report",
    "relative.phone": "relatives' phone numbers",
    "relative.address": "relatives' addresses",
}
_ZH["field"] = {
    "name": "姓名",
    "sex": "性别",
    "id_number": "公民身份号码",
    "birth_date": "出生日期",
    "usual_address": "常住地址",
    "household_address": "户籍地址",
    "part2": "第二部分：其他重要疾病或情况",
    "manner": "死亡方式",
    "place_detail": "死亡地点（详细）",
    "report": "死亡报告（其中逝者的全部信息）",
    "relative_contacts": "死亡报告中的家属联系方式",
    "relative.phone": "家属电话号码",
    "relative.address": "家属地址",
}
_ZH["outcome_item"] = {
    "pending": "待审核",
    "corrected": "已更正",
    "declined": "未更正",
    "deleted": "已删除",
    "kept": "未删除",
    "not_held": "未持有，无可删除",
}


def field_label(lang: str, field: str) -> str:
    """A request item's field or target as the letter names it in ``lang``."""
    if lang == "zh":
        return _ZH["field"].get(field, field)
    return FIELDS_EN.get(field, field)


def term(lang: str, kind: str, value: str | None) -> str:
    """``value`` of vocabulary ``kind`` in ``lang`` (itself when English or untranslated)."""
    if value is None:
        return "-"
    if lang != "zh":
        return value
    return _ZH.get(kind, {}).get(value, value)


def staff(lang: str, label: str) -> str:
    """'staff 3' as 工作人员3 in Chinese; 'system' as 系统."""
    if lang != "zh":
        return label
    if label == "system":
        return "系统"
    return label.replace("staff ", "工作人员")
