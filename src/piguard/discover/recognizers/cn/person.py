"""Chinese personal names: jieba's LAC tagger, jieba POS, the surname dictionary and context cues.

The main signal is the ``PER`` / ``nr`` tags of jieba's LAC model (``cn/lac.py``, weights shipped
in the jieba package). Its spans are cleaned by rules: punctuation, a leading preposition
(应克林顿) and a trailing title (江主席, 张老师) are cut off, so a title after a bare surname
leaves the surname (the MSRA annotation convention); a run of five or more characters that
is really several names printed without separators (name lists) is split at surnames;
place names and the common words jieba's dictionary mislabels are dropped. The older
jieba-POS + surname rules (``_rule_candidates``) still report names next to a cue word
(患者, 家属...) or a title that the tagger missed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer, find_context
from piguard.discover.recognizers.cn.address import gazetteer
from piguard.discover.recognizers.cn.lac import lac_tagger
from piguard.discover.recognizers.cn.places import FOREIGN_PLACES
from piguard.discover.recognizers.cn.surnames import (
    COMPOUND_SURNAMES,
    SINGLE_SURNAMES,
    TRANSLITERATION_CHARS,
)

__all__ = ["ChinesePersonRecognizer", "Token", "tokenize"]

# A conjunction or preposition that jieba's HMM glued onto the front of an unknown name
# (和小王, 与张明) and a title glued onto its end (张老师) are not part of the name.
_LEADING = frozenset("和与及同跟对向在从被把给让叫请由为")
_TRAILING = ("老师", "先生", "女士", "小姐", "同志", "医生", "大夫", "师傅", "主任", "书记", "局长")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    name = text[start:end]
    if len(name) >= 3 and name[0] in _LEADING and (_surname_len(name[1:]) or name[1] in "小老"):
        start += 1
    for title in _TRAILING:
        if text[start:end].endswith(title):
            end -= len(title)
            break
    return start, end

Token = tuple[str, str, int, int]  # word, POS flag, start, end

CUES_BEFORE = (
    "姓名", "患者", "病人", "家属", "联系人", "死者", "逝者", "亲属", "配偶", "之子", "之女",
    "申请人", "报告人", "经办人", "医生", "医师", "护士", "户主", "监护人", "委托人", "收件人",
)
TITLES_AFTER = ("先生", "女士", "小姐", "同志", "老人", "医生", "大夫", "护士", "老师", "师傅", "阿姨")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
# POS flags that never belong inside a given name (function words, punctuation, numerals...).
_NOT_NAME_FLAGS = frozenset({"x", "p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "m", "q",
                             "r", "d", "y", "e", "o", "w", "eng", "f", "s", "t"})
_NOT_GIVEN_CHARS = frozenset("的了是在和与及或也都就又很说对将把被从向为等着过")
# How the names of diseases end (白血病, 尿毒症, 宫颈癌, 尤文瘤, 牛皮癣): no given name ends so.
# 炎 is a given name by itself (江炎), but two characters ending in it are a disease (毛囊炎).
_DISEASE_ENDINGS = frozenset("病症癌瘤疮疹癣疸痹疡")


def _disease_like(given: str) -> bool:
    """Whether the part of a value after its surname reads as a disease's name, not a given name."""
    return given[-1:] in _DISEASE_ENDINGS or (len(given) == 2 and given.endswith("炎"))


@cache
def _common_words() -> frozenset[str]:
    """Words jieba's dictionary tags as names that are productive common words (data/)."""
    data = resources.files("piguard.discover.recognizers.data").joinpath("cn_nr_common.txt")
    return frozenset(w for w in data.read_text(encoding="utf-8").splitlines() if w)


@cache
def _posseg() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading on INFO to stderr
    return jieba.posseg.POSTokenizer(jieba.Tokenizer())


def tokenize(text: str) -> list[Token]:
    """jieba POS tokens with their code-point spans."""
    out: list[Token] = []
    pos = 0
    for pair in _posseg().lcut(text):
        word, flag = pair.word, pair.flag
        out.append((word, flag, pos, pos + len(word)))
        pos += len(word)
    return out


# The 100 most frequent surnames (the list is ordered by frequency) cover ~85% of people.
_TOP_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
) | COMPOUND_SURNAMES


def _surname_len(word: str) -> int:
    if word[:2] in COMPOUND_SURNAMES:
        return 2
    return 1 if word[:1] in SINGLE_SURNAMES else 0


def _given_ok(word: str, flag: str) -> bool:
    return (
        1 <= len(word) <= 2
        and _CJK.fullmatch(word) is not None
        and flag not in _NOT_NAME_FLAGS
        and not (set(word) & _NOT_GIVEN_CHARS)
    )


# Titles after a name (cut off a LAC span; a bare surname before one is a reference to a person).
_TITLES = tuple(sorted({
    *TITLES_AFTER, "主席", "副主席", "总统", "副总统", "总理", "副总理", "首相", "总书记", "书记",
    "委员长", "部长", "副部长", "外长", "大使", "市长", "省长", "州长", "局长", "主任", "院长",
    "校长", "经理", "董事长", "教授", "博士", "将军", "阁下", "夫人", "议长", "国王", "律师", "法官",
    "警官", "队长", "村长", "厂长", "处长", "科长", "县长",
}, key=len, reverse=True))
_ANY_CUE = frozenset(CUES_BEFORE) | frozenset(TITLES_AFTER)
_NAME_CHAR = re.compile(r"[\u4e00-\u9fff·•]")
_LAC_NAME_TAGS = {"PER": "PER", "nr": "nr"}


def _tagged_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, tag) of the ``PER``/``nr`` spans in LAC's B/I tags."""
    out: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        head, _, position = tag.rpartition("-")
        if position == "I" and start >= 0 and head == kind:
            continue
        if start >= 0:
            out.append((start, i, kind))
            start, kind = -1, ""
        if position == "B" and head in _LAC_NAME_TAGS:
            start, kind = i, head
    return out


def _clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut punctuation, a glued preposition (应克林顿) and a trailing title (江主席) off a span."""
    while end > start and not _NAME_CHAR.match(text[end - 1]):
        end -= 1
    while start < end and not _NAME_CHAR.match(text[start]):
        start += 1
    for title in _TITLES:
        if text[start:end].endswith(title) and end - start > len(title):
            end -= len(title)
            break
    rest = text[start + 1 : end]
    if (
        end - start >= 3
        and text[start] in _LEADING | {"应"}
        and (_surname_len(rest) or set(rest) <= TRANSLITERATION_CHARS)
    ):
        start += 1
    return start, end


def _title_after(text: str, start: int, end: int) -> str | None:
    for title in _TITLES:
        if text.startswith(title, end):
            return title
    return None


def _split_name_list(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Several Chinese names printed without separators (丁关根田纪云) split at surnames.

    Only for runs longer than a name (5+ characters, or 4 made of two top surnames each with
    one given character) without an interpunct; each piece is a surname plus one or two
    characters, three-character pieces preferred. Anything that does not split cleanly stays whole.
    """
    name = text[start:end]
    n = len(name)
    if "·" in name or "•" in name or n < 4:
        return [(start, end)]
    if n == 4:
        if name[0] in _TOP_SURNAMES and name[2] in _TOP_SURNAMES and name[:2] not in COMPOUND_SURNAMES:
            return [(start, start + 2), (start + 2, end)]
        return [(start, end)]
    # best[i]: (cost, cut points) for name[:i]; a piece costs 1, a two-character piece 1.5.
    best: list[tuple[float, list[int]] | None] = [None] * (n + 1)
    best[0] = (0.0, [])
    for i in range(n):
        current = best[i]
        if current is None:
            continue
        surname = _surname_len(name[i:])
        if not surname:
            continue
        for given in (1, 2):
            j = i + surname + given
            if j > n:
                continue
            cost = current[0] + (1.5 if surname + given == 2 else 1.0)
            previous = best[j]
            if previous is None or cost < previous[0]:
                best[j] = (cost, [*current[1], j])
    final = best[n]
    if final is None:
        return [(start, end)]
    cuts = [0, *final[1]]
    return [(start + a, start + b) for a, b in pairwise(cuts)]


def _given_after_compound(text: str, start: int, end: int) -> int:
    """The end of a name whose compound surname LAC tagged alone, after a cue word.

    LAC reads a given name that is also a word as that word (欧阳|建国, "found a nation", after
    ``联系人：``) and tags the surname alone. With a cue word before it (联系人, 姓名, 家属...),
    the name goes on over the next one or two CJK characters that can be part of a given name
    (not a function word such as 的, not the start of a title such as 先生).
    """
    if not find_context(text, start, end, CUES_BEFORE, before=6, after=0):
        return end
    stop = end
    while (
        stop < len(text)
        and stop - end < 2
        and _CJK.fullmatch(text[stop]) is not None
        and text[stop] not in _NOT_GIVEN_CHARS
        and _title_after(text, start, stop) is None
    ):
        stop += 1
    return stop


class ChinesePersonRecognizer(Recognizer):
    """PERSON in Chinese text.

    Signals: jieba's LAC tagger marks the span ``PER`` (or ``nr``); it starts with a surname of
    the dictionary (single or compound); cue words before (姓名, 患者, 家属, 联系人...) or
    titles after (先生/女士...). The jieba-POS rules add cue-word names LAC missed.
    """

    name = "cn_person"
    entities = ("PERSON",)

    def __init__(self) -> None:
        self._tagged: dict[str, list[str]] = {}

    def prefilter(self, text: str) -> bool:
        """Needs at least one CJK character."""
        return _CJK.search(text) is not None

    def prepare(self, texts: Sequence[str]) -> None:
        """Tag ``texts`` in one batch (the tagger is several times faster so); [] forgets them."""
        texts = list(dict.fromkeys(texts))
        self._tagged = dict(zip(texts, lac_tagger().tag_many(texts), strict=True)) if texts else {}

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Names tagged by LAC, then cue-word names of the jieba rules that LAC missed."""
        if "PERSON" not in entities:
            return []
        out = self.lac_findings(text)
        if any(cue in text for cue in _ANY_CUE):
            taken = [(f.start, f.end) for f in out]
            for f in self.analyze_tokens(text, tokenize(text)):
                if "context" in f.explanation and not any(s < f.end and f.start < e for s, e in taken):
                    out.append(f)
            out.sort(key=lambda f: f.start)
        return out

    def lac_findings(self, text: str) -> list[Finding]:
        """PERSON spans of jieba's LAC tagger, cleaned (see the module docstring)."""
        tags = self._tagged.get(text) or lac_tagger().tag(text)
        out: list[Finding] = []
        for start, end, kind in _tagged_spans(tags):
            start, end = _clean_span(text, start, end)
            title = _title_after(text, start, end)
            if title is None and text[start:end] in COMPOUND_SURNAMES:
                end = _given_after_compound(text, start, end)
            if end - start == 1:
                if text[start] in SINGLE_SURNAMES and title:
                    out.append(Finding("PERSON", start, end, 0.6, f"jieba LAC {kind}; surname + title {title}",
                                       self.name))
                continue
            pieces = _split_name_list(text, start, end)
            for piece_start, piece_end in pieces:
                name = text[piece_start:piece_end]
                if len(name) < 2 or name in FOREIGN_PLACES or name in gazetteer() or name in _common_words():
                    continue
                score = 0.85 if kind == "PER" else 0.7
                signals = [f"jieba LAC {kind}"]
                if len(pieces) > 1:
                    score = min(score, 0.75)
                    signals.append("split name list")
                if _surname_len(name):
                    score += 0.05
                    signals.append("surname dictionary")
                cue = find_context(text, piece_start, piece_end, CUES_BEFORE, before=6, after=0) or (
                    _title_after(text, piece_start, piece_end)
                )
                if cue:
                    score += 0.07
                    signals.append(f"context {cue}")
                out.append(Finding("PERSON", piece_start, piece_end, round(min(score, 0.97), 3),
                                   "; ".join(signals), self.name))
        return out

    def analyze_tokens(self, text: str, tokens: list[Token]) -> list[Finding]:
        """The jieba-POS + surname-dictionary rules on already-tokenized text."""
        out: list[Finding] = []
        i = 0
        while i < len(tokens):
            found = self._candidate(tokens, i)
            if found is None:
                i += 1
                continue
            j, score, signals = found
            start = tokens[i][2]
            j2 = self._extend_foreign(tokens, j)
            if j2 > j:
                score = max(score, 0.75)
                signals.append("interpunct full name")
            j = j2
            end = tokens[j][3]
            start, end = _trim(text, start, end)
            name = text[start:end]
            if len(name) < 2:
                i += 1
                continue
            if name in _common_words():
                score = min(score, 0.35)
                signals.append("common word in jieba dictionary")
            if name in FOREIGN_PLACES or name in gazetteer():
                i += 1
                continue  # a place name jieba's dictionary also lists as a person
            cue = find_context(text, start, end, CUES_BEFORE, before=6, after=0)
            title = find_context(text, start, end, TITLES_AFTER, before=0, after=3)
            if cue or title:
                score = min(0.95, score + 0.15)
                signals.append(f"context {cue or title}")
            if score < 0.5:
                i += 1
                continue
            out.append(
                Finding("PERSON", start, end, round(score, 3), "; ".join(signals), self.name)
            )
            i = j + 1
        return out

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """PERSON when the whole value is a Chinese name: surname + 1-2 (compound: 1-2) chars."""
        value = value.strip()
        if not _CJK.fullmatch(value.replace("·", "")) or value in _common_words():
            return []
        if value in FOREIGN_PLACES or value in gazetteer():
            return []
        sl = _surname_len(value)
        given = value[sl:]
        if sl and 1 <= len(given) <= 2 and not set(given) & _NOT_GIVEN_CHARS and not _disease_like(given):
            return [("PERSON", 0.7 if value[:sl] in _TOP_SURNAMES else 0.55)]
        if "·" in value and set(value.replace("·", "")) <= TRANSLITERATION_CHARS:
            return [("PERSON", 0.6)]
        return []

    @staticmethod
    def _extend_foreign(tokens: list[Token], j: int) -> int:
        """Foreign full names are written with an interpunct: 卡斯特罗·鲁斯 is one name."""
        while (
            j + 2 < len(tokens)
            and tokens[j + 1][0] in ("·", "•", "・", "．")
            and _CJK.fullmatch(tokens[j + 2][0]) is not None
            and (tokens[j + 2][1].startswith("nr") or len(tokens[j + 2][0]) >= 2)
        ):
            j += 2
        return j

    def _candidate(self, tokens: list[Token], i: int) -> tuple[int, float, list[str]] | None:
        word, flag = tokens[i][0], tokens[i][1]
        if not _CJK.fullmatch(word):
            return None
        sl = _surname_len(word)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if flag.startswith("nr"):
            if len(word) == sl and nxt is not None and _given_ok(nxt[0], nxt[1]):
                return i + 1, 0.75, ["jieba nr", "surname dictionary + given name"]
            if sl and 2 <= len(word) <= 4 and len(word) > sl:
                if (
                    len(word) - sl == 1
                    and nxt is not None
                    and len(nxt[0]) == 1
                    and nxt[1].startswith("nr")
                    and _CJK.fullmatch(nxt[0])
                ):
                    # jieba cut a two-character given name after its first character.
                    return i + 1, 0.8, [f"jieba {flag}", "surname dictionary", "joined given name"]
                return i, 0.8, [f"jieba {flag}", "surname dictionary"]
            if len(word) >= 2 and set(word) <= TRANSLITERATION_CHARS:
                # Transliterated foreign names (克林顿, 叶利钦): jieba and the Xinhua table agree.
                return i, 0.65, [f"jieba {flag}", "transliteration characters"]
            if len(word) >= 2:
                # No surname and not a transliteration: jieba alone, reported with a cue only.
                return i, 0.45, [f"jieba {flag}"]
            return None
        if (
            sl
            and len(word) == sl
            and flag not in _NOT_NAME_FLAGS
            and nxt is not None
            and _given_ok(nxt[0], nxt[1])
        ):
            # Surname split from an unknown given name: only trusted when jieba sees the
            # following token as a name part, or a cue word makes it likely (added by caller).
            if nxt[1].startswith("nr"):
                return i + 1, 0.75, ["surname dictionary + jieba given name"]
            return i + 1, 0.4, ["surname dictionary + given-name shape"]
        return None
