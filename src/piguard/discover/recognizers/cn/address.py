"""Chinese addresses: GB/T 2260 gazetteer for the administrative part, grammar for the rest."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer, find_context

__all__ = ["ChineseAddressRecognizer", "gazetteer"]

ADDRESS_CONTEXT = ("地址", "住址", "家住", "住在", "居住", "户籍", "现住", "住所", "籍贯", "寄往",
                   "送往", "发往", "接往", "address", "现场")
_ADMIN_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "新区", "地区", "省", "市", "区",
                   "县", "旗", "盟")
_N = r"(?:\d{1,5}|[一二三四五六七八九十百零〇两]{1,4})"
_ROAD = (
    r"[\u4e00-\u9fffA-Za-z0-9]{1,6}?(?:大道|大街|胡同|路|街|巷|弄|里)"
    r"(?:[东南西北中]段|[一二三四五六七八九十\d]+段)?"
)
# A house number; a lane number may be followed by the house's own (漕宝路1555弄12号).
_NUM = _N + r"(?:[-－之]\d{1,4})?(?:号|弄|巷)(?:院)?(?:(?<=[弄巷])" + _N + r"(?:[-－]\d{1,4})?(?:号|支弄))?"
_BLD = r"(?:[A-Za-z]?\d{1,4}|[A-Za-z]|[一二三四五六七八九十]{1,3})(?:号楼|栋|幢|座|楼|单元|层|室|号房|户)"
_CPD = r"[\u4e00-\u9fff]{2,6}?(?:小区|花园|公寓|大厦|新村|家园|社区|苑|公馆|宿舍)"
_TOWN = r"[\u4e00-\u9fff]{1,6}?(?:街道|镇|乡|村|屯|组)"
_DETAIL = re.compile(
    rf"(?:{_TOWN})?(?:"
    rf"(?P<road>{_ROAD})(?P<num>{_NUM})(?P<cpd>{_CPD})?(?P<bld>(?:{_BLD})+)?"
    rf"|(?P<road2>{_ROAD})(?P<cpd2>{_CPD})?(?P<bld2>(?:{_BLD})+)"
    rf"|(?P<cpd3>{_CPD})(?P<bld3>(?:{_BLD})+))"
)
_REST = re.compile(rf"(?:{_TOWN})?(?:{_ROAD})|{_TOWN}")
_ANCHOR = re.compile(r"路|街|巷|弄|胡同|大道|号|栋|幢|单元|室|小区|花园|公寓|大厦|新村|家园|苑|村|镇|乡")
# Words that end a clause and so can never start a road or compound name.
_STOP = set("在于住到的是和与从往向自去及了也就即为把被由对给叫称说")


@cache
def gazetteer() -> frozenset[str]:
    """Administrative names (full and short forms) of every GB/T 2260 code since 1980."""
    text = resources.files("piguard.discover.recognizers.data").joinpath("gbt2260.txt")
    names: set[str] = set()
    for line in text.read_text(encoding="utf-8").splitlines():
        name = line.split("\t", 1)[1] if "\t" in line else ""
        if not name or name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        names.add(name)
        for suffix in _ADMIN_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                names.add(name[: -len(suffix)])
                break
    return frozenset(names)


def _admin_prefix(text: str, end: int) -> int:
    """Start of the longest chain of gazetteer names ending right at ``end``."""
    names = gazetteer()
    start = end
    while True:
        for length in range(8, 1, -1):
            s = start - length
            if s >= 0 and text[s:start] in names:
                start = s
                break
        else:
            return start


_ADMIN_END = set("省市区县旗州")


def _after_admin_name(text: str, start: int, limit: int) -> int:
    """Where the street part begins when the lazy grammar started inside an administrative name.

    "北京市朝阳区建国门外大街" lets the road name start at "阳区建国门外" (six characters before
    大街); a gazetteer name ending in an administrative suffix (朝阳区) inside that run means the
    road starts after it. Names without a suffix (南京路, 中山路) are road names and stay.
    """
    names = gazetteer()
    best = start
    for k in range(start + 1, limit):
        if text[k - 1] in _ADMIN_END and any(text[k - n : k] in names for n in range(2, 9) if k - n >= 0):
            best = k
    return best


def _trim_left(text: str, start: int, end: int) -> int:
    """Drop leading clause words ("住在", "我们去") that the lazy grammar swallowed."""
    best = start
    for k in range(start, end):
        if text[k] in _STOP:
            best = k + 1
    return best


class ChineseAddressRecognizer(Recognizer):
    """ADDRESS in Chinese: [gazetteer names] [town/village] [road + number] [compound] [building/room]."""

    name = "cn_address"
    entities = ("ADDRESS",)

    def prefilter(self, text: str) -> bool:
        """Needs an address anchor character."""
        return _ANCHOR.search(text) is not None or any(c in text for c in "省市区县")

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Addresses scored by how many parts agree (admin names, road+number, building)."""
        if "ADDRESS" not in entities:
            return []
        out: list[Finding] = []
        for m in _DETAIL.finditer(text):
            g = m.groupdict()
            road, num = g["road"] or g["road2"], g["num"]
            cpd, bld = g["cpd"] or g["cpd2"] or g["cpd3"], g["bld"] or g["bld2"] or g["bld3"]
            start = _trim_left(text, m.start(), m.end())
            start = _after_admin_name(text, start, m.end())
            admin_start = _admin_prefix(text, start)
            parts = []
            score = 0.7
            if admin_start < start:
                parts.append("gazetteer GB/T 2260")
                score = 0.85
            start = admin_start
            kinds = (("road", road), ("number", num), ("compound", cpd), ("building", bld))
            parts.append("grammar " + "+".join(k for k, v in kinds if v))
            word = find_context(text, start, m.end(), ADDRESS_CONTEXT, before=8, after=0)
            if word is not None:
                score = min(0.95, score + 0.1)
                parts.append(f"context {word}")
            out.append(Finding("ADDRESS", start, m.end(), score, "; ".join(parts), self.name))
        out.extend(self._admin_chains(text, out))
        return out

    def _admin_chains(self, text: str, found: list[Finding]) -> list[Finding]:
        """Two or more administrative levels in a row (浙江省杭州市西湖区) without street detail."""
        out: list[Finding] = []
        for m in re.finditer(r"[\u4e00-\u9fff]{2,}?(?:省|自治区|市|自治州|区|县|旗)", text):
            end = m.end()
            if any(f.start <= m.start() < f.end for f in found + out):
                continue
            start = _admin_prefix(text, end)
            if start == end:
                continue
            chain = text[start:end]
            word = find_context(text, start, end, ADDRESS_CONTEXT, before=8, after=0)
            # The street part without a house number may follow: a town, a road (漕溪北路).
            rest = _REST.match(text, end)
            levels = sum(chain.count(s) for s in _ADMIN_END)
            # One level is a place name, not an address, unless a town or road and an address
            # word go with it ("联系地址为闵行区莘庄镇").
            if (levels < 2 or len(chain) < 5) and (rest is None or word is None):
                continue
            if rest is not None:
                end = rest.end()
            score = 0.75 if word else 0.55
            explanation = "gazetteer GB/T 2260 chain" + ("+town/road" if rest else "") + (
                f"; context {word}" if word else ""
            )
            out.append(Finding("ADDRESS", start, end, score, explanation, self.name))
        return out

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """ADDRESS when the whole value reads as an address."""
        found = self.analyze(value, frozenset({"ADDRESS"}))
        if found and found[0].start <= 2 and max(f.end for f in found) >= len(value) - 2:
            return [("ADDRESS", max(f.score for f in found))]
        return []
