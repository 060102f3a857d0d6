"""What a column's name or comment says it holds: Chinese fragments, English words, pinyin initials.

Weights feed ``classify``'s log-odds: ``身份证号`` or ``phone`` makes a column likely but not certain
to hold its entity; words such as ``version`` or ``运单号`` rule entities out.
"""

from __future__ import annotations

import re

__all__ = [
    "EN_LEXICON",
    "ZH_LEXICON",
    "is_order_name",
    "is_version_name",
    "name_evidence",
    "name_tokens",
    "negated_by_name",
]

_PHONES = {"CN_MOBILE": 0.9, "CN_LANDLINE": 0.8, "PHONE": 0.5}

# Chinese name/comment fragments, matched as substrings. Longer fragments win over shorter.
ZH_LEXICON: dict[str, dict[str, float]] = {
    "身份证": {"CN_RESIDENT_ID": 1.0},
    "身份号码": {"CN_RESIDENT_ID": 1.0},
    "证件号": {"CN_RESIDENT_ID": 0.8, "CN_PASSPORT": 0.4, "CN_TRAVEL_PERMIT": 0.4},
    "护照": {"CN_PASSPORT": 1.0},
    "通行证": {"CN_TRAVEL_PERMIT": 1.0},
    "台胞证": {"CN_TRAVEL_PERMIT": 1.0},
    "手机": {"CN_MOBILE": 1.0, "PHONE": 0.4},
    "电话": _PHONES,
    "联系方式": _PHONES,
    "座机": {"CN_LANDLINE": 1.0},
    "固话": {"CN_LANDLINE": 1.0},
    "固定电话": {"CN_LANDLINE": 1.0},
    "邮箱": {"EMAIL": 1.0},
    "电子邮件": {"EMAIL": 1.0},
    "银行卡": {"BANK_CARD": 1.0},
    "卡号": {"BANK_CARD": 0.8},
    "账号": {"BANK_CARD": 0.6, "IBAN": 0.3},
    "姓名": {"PERSON": 1.0},
    "名字": {"PERSON": 0.9},
    "联系人": {"PERSON": 0.8},
    "患者": {"PERSON": 0.5},
    "家属": {"PERSON": 0.5},
    "死者": {"PERSON": 0.5},
    "地址": {"ADDRESS": 1.0},
    "住址": {"ADDRESS": 1.0},
    "住所": {"ADDRESS": 0.9},
    "居住地": {"ADDRESS": 0.8},
    "户籍": {"ADDRESS": 0.6},
    "出生日期": {"DATE_OF_BIRTH": 1.0},
    "出生年月": {"DATE_OF_BIRTH": 1.0},
    "生日": {"DATE_OF_BIRTH": 1.0},
    "车牌": {"CN_PLATE": 1.0},
    "信用代码": {"CN_USCC": 1.0},
    "诊断": {"MEDICAL": 0.9},
    "死因": {"MEDICAL": 0.9},
    "死亡原因": {"MEDICAL": 0.9},
    "疾病": {"MEDICAL": 0.9},
    "病史": {"MEDICAL": 0.9},
    "病情": {"MEDICAL": 0.8},
    "主诉": {"MEDICAL": 0.7},
    "网址": {"URL": 0.9},
    "链接": {"URL": 0.7},
}

# English words and pinyin initials (lxdh = 联系电话), matched as whole tokens of the name.
# Pinyin initials are ambiguous (xm is also 项目), hence their lower weights.
EN_LEXICON: dict[str, dict[str, float]] = {
    "idcard": {"CN_RESIDENT_ID": 1.0},
    "idno": {"CN_RESIDENT_ID": 0.9},
    "idnumber": {"CN_RESIDENT_ID": 0.9},
    "nationalid": {"CN_RESIDENT_ID": 1.0},
    "citizenid": {"CN_RESIDENT_ID": 1.0},
    "identity": {"CN_RESIDENT_ID": 0.6},
    "sfz": {"CN_RESIDENT_ID": 0.85},
    "sfzh": {"CN_RESIDENT_ID": 0.9},
    "sfzhm": {"CN_RESIDENT_ID": 0.9},
    "zjhm": {"CN_RESIDENT_ID": 0.8},
    "passport": {"CN_PASSPORT": 1.0},
    "hzh": {"CN_PASSPORT": 0.6},
    "phone": _PHONES,
    "telephone": _PHONES,
    "tel": _PHONES,
    "phonenumber": _PHONES,
    "mobile": {"CN_MOBILE": 1.0, "PHONE": 0.5},
    "cellphone": {"CN_MOBILE": 1.0, "PHONE": 0.5},
    "cell": {"CN_MOBILE": 0.6, "PHONE": 0.4},
    "landline": {"CN_LANDLINE": 1.0},
    "lxdh": _PHONES,
    "lxfs": _PHONES,
    "dh": {"CN_MOBILE": 0.5, "CN_LANDLINE": 0.5},
    "sjh": {"CN_MOBILE": 0.85},
    "sjhm": {"CN_MOBILE": 0.85},
    "gddh": {"CN_LANDLINE": 0.85},
    "email": {"EMAIL": 1.0},
    "mail": {"EMAIL": 0.8},
    "yx": {"EMAIL": 0.4},
    "bankcard": {"BANK_CARD": 1.0},
    "cardno": {"BANK_CARD": 0.8},
    "cardnumber": {"BANK_CARD": 0.8},
    "accountno": {"BANK_CARD": 0.6},
    "yhkh": {"BANK_CARD": 0.85},
    "iban": {"IBAN": 1.0},
    "ssn": {"US_SSN": 1.0},
    "name": {"PERSON": 0.9},
    "fullname": {"PERSON": 1.0},
    "firstname": {"PERSON": 1.0},
    "lastname": {"PERSON": 1.0},
    "surname": {"PERSON": 1.0},
    "givenname": {"PERSON": 1.0},
    "xm": {"PERSON": 0.5},
    "hzxm": {"PERSON": 0.85},
    "lxr": {"PERSON": 0.7},
    "xingming": {"PERSON": 0.9},
    "address": {"ADDRESS": 1.0},
    "addr": {"ADDRESS": 0.9},
    "street": {"ADDRESS": 0.7},
    "dz": {"ADDRESS": 0.5},
    "zz": {"ADDRESS": 0.5},
    "jtzz": {"ADDRESS": 0.85},
    "hjdz": {"ADDRESS": 0.85},
    "xzz": {"ADDRESS": 0.8},
    "zhuzhi": {"ADDRESS": 0.9},
    "dob": {"DATE_OF_BIRTH": 1.0},
    "birth": {"DATE_OF_BIRTH": 0.9},
    "birthday": {"DATE_OF_BIRTH": 1.0},
    "birthdate": {"DATE_OF_BIRTH": 1.0},
    "dateofbirth": {"DATE_OF_BIRTH": 1.0},
    "csrq": {"DATE_OF_BIRTH": 0.85},
    "plate": {"CN_PLATE": 0.9},
    "licenseplate": {"CN_PLATE": 1.0},
    "cph": {"CN_PLATE": 0.7},
    "uscc": {"CN_USCC": 1.0},
    "creditcode": {"CN_USCC": 0.9},
    "tyshxydm": {"CN_USCC": 0.9},
    "diagnosis": {"MEDICAL": 0.9},
    "icd": {"MEDICAL": 0.9},
    "icd10": {"MEDICAL": 0.9},
    "causeofdeath": {"MEDICAL": 1.0},
    "disease": {"MEDICAL": 0.8},
    "zd": {"MEDICAL": 0.4},
    "gbsy": {"MEDICAL": 0.8},
    "ip": {"IP_ADDRESS": 0.9},
    "ipaddress": {"IP_ADDRESS": 1.0},
    "ipaddr": {"IP_ADDRESS": 1.0},
    "url": {"URL": 0.9},
    "website": {"URL": 0.8},
    "homepage": {"URL": 0.8},
}
# "name" next to these words is somebody's name; next to other words (org_name, file_name)
# it is probably not.
_PERSON_QUALIFIERS = frozenset(
    {
        "patient",
        "person",
        "contact",
        "relative",
        "deceased",
        "customer",
        "client",
        "full",
        "first",
        "last",
        "given",
        "family",
        "real",
        "legal",
        "mother",
        "father",
        "spouse",
        "owner",
        "holder",
        "caller",
        "doctor",
        "physician",
        "emergency",
        "next",
        "kin",
        "of",
    }
)
_COMPACT_MIN = 5

_TOKEN_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def name_tokens(name: str) -> list[str]:
    """Lower-case tokens of a column name: ``contactPhone_2`` -> ``contact, phone, 2``."""
    return [token.lower() for token in _TOKEN_RE.findall(name)]


def name_evidence(text: str | None) -> dict[str, tuple[float, str]]:
    """Entities suggested by a column name or comment, with weight and the word that matched."""
    if not text:
        return {}
    found: dict[str, tuple[float, str]] = {}

    def offer(entity: str, weight: float, word: str) -> None:
        if weight > found.get(entity, (0.0, ""))[0]:
            found[entity] = (weight, word)

    for fragment, weights in ZH_LEXICON.items():
        if fragment in text:
            for entity, weight in weights.items():
                offer(entity, weight, fragment)
    tokens = name_tokens(text)
    compact = "".join(tokens)
    for word in (*tokens, compact):
        for entity, weight in EN_LEXICON.get(word, {}).items():
            if entity == "PERSON" and word == "name" and len(tokens) > 1:
                qualified = any(t in _PERSON_QUALIFIERS for t in tokens)
                weight = 1.0 if qualified else 0.3
            offer(entity, weight, word)
    for key, weights in EN_LEXICON.items():
        # Long words also count inside run-together names: deceasedidcard, relativephone.
        if len(key) >= _COMPACT_MIN and key in compact and key not in tokens and key != compact:
            for entity, weight in weights.items():
                offer(entity, 0.9 * weight, key)
    return found


# Column names of version and build numbers (1.2.3.4 looks like an IPv4 address).
_VERSION_WORDS = frozenset({"version", "ver", "build", "release", "revision", "firmware", "bbh"})
_VERSION_ZH = ("版本", "构建", "固件")


# Column names of order, waybill and tracking numbers (16-19 digits, 1 in 10 passes Luhn).
_ORDER_WORDS = frozenset({"order", "orderno", "orderid", "waybill", "tracking", "shipment", "ddh", "ydh"})
_ORDER_ZH = ("订单", "运单", "快递", "物流单", "单号")


def is_version_name(text: str | None) -> bool:
    """Whether a column name or comment says it holds versions (``app_version``, ``软件版本``)."""
    if not text:
        return False
    tokens = name_tokens(text)
    return (
        any(t in _VERSION_WORDS for t in tokens)
        or "version" in "".join(tokens)
        or any(word in text for word in _VERSION_ZH)
    )


def is_order_name(text: str | None) -> bool:
    """Whether a column name or comment says it holds order or waybill numbers (``order_no``, ``运单号``)."""
    if not text:
        return False
    tokens = name_tokens(text)
    return any(t in _ORDER_WORDS for t in tokens) or any(word in text for word in _ORDER_ZH)


def negated_by_name(text: str | None) -> frozenset[str]:
    """Entities a column name or comment rules out unless it also names them: IP addresses in
    a version column, bank cards in an order or waybill number column."""
    out: set[str] = set()
    if is_version_name(text):
        out.add("IP_ADDRESS")
    if is_order_name(text):
        out.add("BANK_CARD")
    return frozenset(out)
