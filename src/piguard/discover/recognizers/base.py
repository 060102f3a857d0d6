"""Recognizer building blocks: the base class, regex-plus-validator recognizers and context cues.

Boundaries are ASCII-aware on purpose: Python's ``\\b`` treats Chinese characters as word
characters, so ``身份证号310112...`` would have no boundary before the digits. We only
require that an identifier is not glued to further ASCII letters/digits, with one exception:
a label written glued to its number (``TEL13812345678``, ``ID31011219...``, see
``GLUED_LABELS``) ends where the digits begin.
"""

from __future__ import annotations

import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from piguard.discover.findings import Finding

__all__ = [
    "ASCII_AFTER",
    "ASCII_BEFORE",
    "DIGITS_AFTER",
    "DIGITS_TABLE",
    "GLUED_LABELS",
    "GLUE_MIN_DIGITS",
    "NOISE",
    "REGION",
    "PatternRecognizer",
    "PatternSpec",
    "Recognizer",
    "Region",
    "Validator",
    "find_context",
    "find_regions",
    "glue_view",
    "glued_tail_ok",
    "labelled_before",
    "may_split",
    "split_joined",
]

#: Not preceded / followed by an ASCII letter or digit (CJK characters are fine neighbours).
ASCII_BEFORE = r"(?<![0-9A-Za-z])"
ASCII_AFTER = r"(?![0-9A-Za-z])"

#: Labels written glued to the number they label (``TEL13812345678``, ``Mobile13912345678``,
#: ``ID31011219...X``, ``SFZ…``, ``NO13812345678``, ``MobileNo…``), compared case-insensitively.
#: A run of ASCII letters that is exactly one of them, not the end of a longer word
#: (``PID``, ``UUID``, ``VIDEO``, ``PIANO`` are not labels), ends at the digits after it. None
#: is made only of hex digits a-f, so no hash, UUID or hex dump holds one.
GLUED_LABELS: tuple[str, ...] = (
    "tel",
    "telno",
    "phone",
    "phoneno",
    "mobile",
    "mobileno",
    "mob",
    "mobno",
    "cell",
    "cellphone",
    "fax",
    "telfax",
    "sjh",
    "sjhm",
    "lxdh",
    "id",
    "idno",
    "idcard",
    "sfz",
    "sfzh",
    "sfzhm",
    "zjhm",
    "no",
    "card",
    "cardno",
    "acct",
    "acctno",
    "ssn",
)
# Labels of the next field, glued after a number: "TEL13812345678FAX0211234567".
_NEXT_LABELS = (*GLUED_LABELS, "email", "mail", "name", "addr", "address")


_LABELS = "|".join(sorted(GLUED_LABELS, key=len, reverse=True))
_NEXT = "|".join(sorted(_NEXT_LABELS, key=len, reverse=True))
_LABEL_SET = frozenset(GLUED_LABELS)
_NEXT_SET = frozenset(_NEXT_LABELS)
# Every label has a letter beyond a-f: a region without one (a hex id, a hash) holds none.
_NON_HEX_LETTER = re.compile("[g-zG-Z]").search
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LETTER_BEFORE_NUMBER = re.compile("[A-Za-z](?=[0-9+(（])")
_DIGIT_BEFORE_LETTER = re.compile("[0-9](?=[A-Za-z])")
#: Fewest digits of a number a label may be glued to (PHONE's shortest): shorter regions get
#: no ``glue_view``.
GLUE_MIN_DIGITS = 7
#: The end of a number that may be followed by letters: recognizers using it check the
#: letters with ``glued_tail_ok``.
DIGITS_AFTER = r"(?![0-9])"
_LABEL_AT = re.compile(rf"(?i:{_NEXT})(?![A-Za-z])").match
# Hex letters glued after digits up to the end of the token: the rest of a hex id or digest.
_HEX_TAIL = re.compile(r"[A-Fa-f][0-9A-Fa-f]*(?![0-9A-Za-z])").match


def glue_view(text: str, start: int, value: str) -> str | None:
    """``text`` with a space for the letter of a glued label that touches a number in the region
    ``value`` at ``start`` (``TEL13812345678FAX…`` reads ``TE 13812345678 AX…``), or None when
    the region has no glued label.

    Recognizers match in this view, so that their ordinary ASCII boundaries hold at a glued
    label, and read context words and labels in ``text`` itself. A view is made only for the
    rare regions that hold a label; a boundary in the patterns themselves would cost every
    region (a lookbehind of alternatives at each position).
    """
    if _NON_HEX_LETTER(value) is None:
        return None
    cuts = []
    for m in _LETTER_BEFORE_NUMBER.finditer(value):
        end = m.end()
        begin = end - 1
        while begin and value[begin - 1] in _ASCII_LETTERS:
            begin -= 1
        if value[begin:end].lower() in _LABEL_SET:  # the whole letter run is a label
            cuts.append(start + end - 1)
    for m in _DIGIT_BEFORE_LETTER.finditer(value):
        begin = end = m.end()
        while end < len(value) and value[end] in _ASCII_LETTERS:
            end += 1
        if value[begin:end].lower() in _NEXT_SET:
            cuts.append(start + begin)
    if not cuts:
        return None
    view = text
    for i in sorted(set(cuts)):
        view = view[:i] + " " + view[i + 1 :]
    return view


# What may stand between a label and its value: "手机号：", "Tel. ", "ID#", "sfzh=".
_LABEL_SEPARATORS = " \t:：#＃=.．-"
_LABEL_REACH = 16


def glued_tail_ok(text: str, start: int, end: int, labels: Sequence[str]) -> bool:
    """Whether the number ``text[start:end]`` ends at ``end`` although ASCII letters follow it.

    Letters glued after digits usually continue a code (a hash, a serial, ``15000000000ns``),
    so they end the number only when they are the next field's label (``…5678FAX…``) or when
    the number is labelled right before it by one of ``labels`` or ``GLUED_LABELS``
    (``手机号:13812345678abc``, ``TEL13812345678abc``): then the label says what the digits are.
    """
    if end >= len(text) or text[end] not in _ASCII_LETTERS:
        return True
    if _LABEL_AT(text, end) is not None:
        return True
    if _HEX_TAIL(text, end) is not None:
        # The digits and the letters read as one hex token (trace_id=13812345678abcdef, a
        # request or message id): only a label of this very entity (手机号, TEL) says the
        # digits are a number of their own; a generic one (id, no, …_id) labels the token.
        return labelled_before(text, start, labels, generic=False)
    return labelled_before(text, start, labels)


def labelled_before(text: str, start: int, labels: Sequence[str], *, generic: bool = True) -> bool:
    """Whether a label (one of ``labels``, lower case, or with ``generic`` one of
    ``GLUED_LABELS``) ends right before ``start``, separated by nothing but ``:``, ``#``, ``=``,
    ``.``, ``-`` or spaces."""
    head = text[max(0, start - _LABEL_REACH) : start].rstrip(_LABEL_SEPARATORS).lower()
    candidates = (*labels, *GLUED_LABELS) if generic else tuple(labels)
    for stem in {head, head.removesuffix("号码").removesuffix("号")}:
        for label in candidates:
            if stem.endswith(label):
                before = stem[-len(label) - 1 : -len(label)]
                # An English label is a whole word: "hotel" does not end in the label "tel".
                if not (label.isascii() and before.isascii() and before.isalpha()):
                    return True
    return False


#: A validator gets the matched text and returns a score adjustment reason, or None to reject.
Validator = Callable[[str], str | None]

# Characters an identifier is made of. A region is a maximal run of them that contains a
# digit or "@", continued across single spaces/hyphens before a digit, a bracket or a capital
# that does not start a capitalised word (138 1234 5678, GB82 WEST 1234...). A word such as
# "Tel" or "Order" ends the region: "ID 11010519491231002X Phone 13812345678" is two numbers,
# and one region of both would be too long for either recognizer. Identifier recognizers only
# look inside regions, so a line is scanned once by this regex instead of once per pattern.
_C = r"[0-9A-Za-z_@.+\-()（）:/·•#%]"
_C_NO_DIGIT = r"[A-Za-z_.+\-()（）:/·•#%]"
# Possessive quantifiers: a word without a digit fails without backtracking. A region starts
# only where a run of identifier characters starts (the lookbehind): tried at every position of
# a long run without digits ("xxxx…", a DNA sequence, a rule of dashes), the run would be read
# to its end from each of them, in time quadratic in its length; the lookbehind fails at once
# inside the run, so a line is read in linear time. The leftmost match is the same, since a
# match tried inside a run would have matched from the run's start already.
REGION = re.compile(rf"(?<!{_C_NO_DIGIT}){_C_NO_DIGIT}*+[0-9@]{_C}*+(?:[ \-](?=[0-9(（+]|[A-Z](?![a-z])){_C}++)*")
# Regions no identifier can be: short numbers, dates and times, amounts, dotted versions
# (but not phone numbers written with dots, 555.867.5309 or 0412.345.678: nine digits or more).
NOISE = re.compile(
    r"\d{1,6}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|\d{1,2}:\d{2}(?::\d{2})?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{1,2}"
    r"|(?!(?:\d\.?){9,}$)\d+\.\d+\.\d+"
)
DIGITS_TABLE = str.maketrans("", "", "0123456789")


@dataclass(slots=True)  # not frozen: frozen dataclasses construct several times slower
class Region:
    """A run of identifier characters in the analysed text."""

    start: int
    end: int
    text: str
    digits: int
    #: The analysed text with glued labels cut off (``glue_view``), to match in; None: the text.
    view: str | None = None


_TOKEN = re.compile(r"[^ /]+")
# Seven digits, possibly in hyphenated or dotted groups (138-1234-5678), inside one token.
_SEVEN_DIGITS = re.compile(r"(?:[0-9][\-.]?){6}[0-9]")
# Digits each side of a space or slash needs for the two sides to be separate identifiers.
_WHOLE_NUMBER_DIGITS = 7


# A glued label between two numbers (TEL13812345678FAX02112345678): the second starts there.
# The first may end in the check character X of a resident ID (ID31011219500307001XTEL…): an X
# only after 17 digits, any other letter before the label is part of the label's word.
# (A digit first, and the cut one after it: a pattern that starts with a character class is
# searched fast.)
_GLUED_SPLIT = re.compile(rf"(?:[0-9]|(?<=[0-9]{{17}})[Xx])(?=(?i:{_LABELS})[:#.\-]?[0-9+(])")


def may_split(value: str, digits: int) -> bool:
    """Cheap test: whether ``split_joined`` could cut a region of ``digits`` digits."""
    if digits < 2 * _WHOLE_NUMBER_DIGITS:
        return False
    if " " in value or "/" in value:
        return True
    return digits != len(value) and _NON_HEX_LETTER(value) is not None and _GLUED_SPLIT.search(value) is not None


def split_joined(value: str, digits: int) -> list[tuple[int, str]]:
    """The pieces of a region that holds several whole numbers joined by a space, a slash or a
    glued label.

    "11010519491231002X 13812345678" and "13812345678/13912345678" are two identifiers each,
    but one region of both is too long for any recognizer's gate. A space or slash splits only
    where both neighbouring tokens have 7 digits or more, so grouped numbers (138 1234 5678,
    6222 0212 3456 7890 003, GB82 WEST 1234 ...) stay whole. A glued label after a digit
    starts a new piece (TEL13812345678|FAX02112345678). Returns (offset, text) pieces.
    """
    if not may_split(value, digits):
        return [(0, value)]
    cuts = [m.end() for m in _GLUED_SPLIT.finditer(value)] if digits != len(value) else []
    bounds = [0, *cuts, len(value)]
    pieces: list[tuple[int, str]] = []
    for begin, end in itertools.pairwise(bounds):
        piece = value[begin:end]
        count = len(piece) - len(piece.translate(DIGITS_TABLE))
        pieces.extend((begin + offset, text) for offset, text in _split_spaced(piece, count))
    return pieces


def _split_spaced(value: str, digits: int) -> list[tuple[int, str]]:
    """``split_joined`` at spaces and slashes only."""
    if digits < 2 * _WHOLE_NUMBER_DIGITS or (" " not in value and "/" not in value):
        return [(0, value)]
    if len(_SEVEN_DIGITS.findall(value)) < 2:
        return [(0, value)]  # grouped digits (6222 0212 3456 7890 003): nothing to split, cheaply
    tokens = [(m.start(), m.end(), sum(c.isdigit() for c in m.group())) for m in _TOKEN.finditer(value)]
    pieces: list[tuple[int, str]] = []
    begin = tokens[0][0]
    for (_, left_end, left_digits), (right_start, _, right_digits) in itertools.pairwise(tokens):
        if left_digits >= _WHOLE_NUMBER_DIGITS and right_digits >= _WHOLE_NUMBER_DIGITS:
            pieces.append((begin, value[begin:left_end]))
            begin = right_start
    pieces.append((begin, value[begin : tokens[-1][1]]))
    return pieces


def find_regions(text: str) -> list[Region]:
    """Every identifier-shaped region of ``text`` (noise shapes such as dates left out)."""
    out = []
    noise = NOISE.fullmatch
    for m in REGION.finditer(text):
        whole = m.group()
        digits = len(whole) - len(whole.translate(DIGITS_TABLE))
        for offset, value in split_joined(whole, digits):
            if noise(value) is None:
                start = m.start() + offset
                digits_in = len(value) - len(value.translate(DIGITS_TABLE))
                view = glue_view(text, start, value) if len(value) > digits_in >= GLUE_MIN_DIGITS else None
                out.append(Region(start, start + len(value), value, digits_in, view))
    return out


_CLAUSE_END = re.compile(r"[，,。；;\n]")
CONTEXT_BEFORE = 24
CONTEXT_AFTER = 12


def find_context(
    text: str,
    start: int,
    end: int,
    words: Sequence[str],
    *,
    before: int = CONTEXT_BEFORE,
    after: int = CONTEXT_AFTER,
    label_line: bool = False,
) -> str | None:
    """The first context word found near ``text[start:end]`` (case-insensitive), or None.

    With ``label_line``, a value alone at the start of its line also takes the line before
    when that line is a label ending in a colon ("Phone:\n555 0142", forms and CVs).
    """
    if not words:
        return None
    head = text[max(0, start - before) : start]
    tail = text[end : end + after]
    # A cue belongs to its own clause: the text after a value stops at the next separator
    # (the next field's label, "，电话", is not about this value), the text before stops at
    # the previous sentence end.
    cut = _CLAUSE_END.search(tail)
    if cut is not None:
        tail = tail[: cut.start()]
    cut_before = -1
    for ch in "。；;\n":
        i = head.rfind(ch)
        if i > cut_before:
            cut_before = i
    if cut_before >= 0:
        rest = head[cut_before + 1 :]
        if label_line and head[cut_before] == "\n" and not rest.strip():
            label = head[:cut_before].rstrip(" \t")
            if label.endswith((":", "：")):
                # The label's own line only, not the lines above it.
                rest = label[label.rfind("\n") + 1 :] + rest
        head = rest
    window = (head + " " + tail).lower()
    for word in words:
        if word in window:
            return word
    return None


class Recognizer(ABC):
    """Finds one or more entities in text; pure, stateless after construction."""

    name: str = "recognizer"
    entities: tuple[str, ...] = ()
    #: True when the recognizer only needs the identifier regions (see ``find_regions``).
    uses_regions: bool = False
    #: False when the recognizer can never match inside a region made only of digits.
    in_digit_runs: bool = True
    #: Characters that may end a head this recognizer reads together with the region after
    #: it, even a region dropped as noise: the space of "沪A 12345" before the short number
    #: "12345". Only a noise region right after one of them is passed to ``scan_noise``.
    noise_head_ends: str = ""

    def analyze_regions(self, text: str, regions: Sequence[Region], entities: frozenset[str]) -> list[Finding]:
        """Findings inside ``regions`` only; by default the whole text is analysed."""
        del regions
        return self.analyze(text, entities)

    def region_gate(self, region: Region) -> bool:
        """Whether a region can hold this recognizer's entity (cheap; regions only)."""
        del region
        return True

    def scan_region(self, text: str, region: Region, out: list[Finding]) -> None:
        """Append the findings inside one region (region recognizers override this)."""
        out.extend(self.analyze_regions(text, [region], frozenset(self.entities)))

    def scan_noise(self, text: str, start: int, value: str, out: list[Finding]) -> None:
        """Append the findings of a noise-shaped region ``value`` at ``start`` read with the
        head before it (see ``noise_head_ends``); nothing by default."""
        del text, start, value, out

    @abstractmethod
    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """All findings of the requested ``entities`` in ``text`` (may overlap)."""

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """Entities whose rules accept the whole ``value``, with a score; none by default."""
        del value
        return []

    def prefilter(self, text: str) -> bool:
        """Cheap test: False when the text certainly contains nothing for this recognizer."""
        del text
        return True

    def prepare(self, texts: Sequence[str]) -> None:
        """Batch hook: ``texts`` are about to be analysed one by one (a model may tag them
        together); ``prepare([])`` forgets them. Results never depend on it."""
        del texts


@dataclass(frozen=True)
class PatternSpec:
    """One regex of a pattern recognizer, with its base score."""

    name: str
    regex: str
    score: float
    flags: int = 0


class PatternRecognizer(Recognizer):
    """Regex candidates, a validator over the candidate, and context words that raise the score.

    ``score`` of a finding: the pattern's base score if the validator passed, raised to
    ``context_score`` when a context word is near. Candidates whose final score is under
    ``min_score`` are dropped here already (weak patterns need context to be reported).
    """

    def __init__(
        self,
        *,
        name: str,
        entity: str,
        patterns: Sequence[PatternSpec],
        validator: Validator | None = None,
        validator_name: str = "",
        context: Sequence[str] = (),
        context_score: float = 0.9,
        min_score: float = 0.0,
        negative_context: Sequence[str] = (),
        required_chars: str = "",
        normalise: Callable[[str], str] | None = None,
        gate: Callable[[Region], bool] | None = None,
        margin: int = 0,
        required_any: Sequence[str] = (),
        in_digit_runs: bool = True,
        context_beats_negative: bool = False,
        glued_tail: bool = False,
    ) -> None:
        self.name = name
        self.entity = entity
        self.entities = (entity,)
        self.patterns = tuple(patterns)
        self.validator = validator
        self.validator_name = validator_name
        self.context = tuple(w.lower() for w in context)
        self.context_score = context_score
        self.min_score = min_score
        self.negative_context = tuple(w.lower() for w in negative_context)
        self.required_chars = required_chars
        self.normalise = normalise
        self.gate = gate
        self.uses_regions = gate is not None
        self.margin = margin
        self.required_any = tuple(required_any)
        self.in_digit_runs = in_digit_runs
        # A context word near the match outweighs a negative one ("订单…银行卡号6222…").
        self.context_beats_negative = context_beats_negative
        # Patterns end in DIGITS_AFTER: letters glued after a match are checked in code.
        self.glued_tail = glued_tail
        self._compiled = [(p, re.compile(p.regex, p.flags)) for p in self.patterns]
        # All patterns in one alternation (named g0, g1...): one scan per region instead of
        # one per pattern. At one position the earlier pattern wins, so specs are ordered
        # most specific first; ``lastgroup`` names the pattern that matched.
        flags = 0
        for p in self.patterns:
            flags |= p.flags
        self._combined = re.compile("|".join(f"(?P<g{i}>{p.regex})" for i, p in enumerate(self.patterns)), flags)

    @property
    def compiled(self) -> list[tuple[PatternSpec, re.Pattern[str]]]:
        """The compiled patterns with their specs."""
        return self._compiled

    def prefilter(self, text: str) -> bool:
        """False when none of ``required_chars`` / ``required_any`` occurs in the text."""
        if self.required_any:
            for needle in self.required_any:
                if needle in text:
                    break
            else:
                return False
        if not self.required_chars:
            return True
        return any(c in text for c in self.required_chars)

    def _check(self, value: str) -> str | None:
        candidate = self.normalise(value) if self.normalise else value
        if self.validator is None:
            return "no validator"
        return self.validator(candidate)

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Run every pattern, validate, apply context; return findings at or above min_score."""
        if self.entity not in entities:
            return []
        out: list[Finding] = []
        self._scan(text, 0, len(text), out)
        return out

    def analyze_regions(self, text: str, regions: Sequence[Region], entities: frozenset[str]) -> list[Finding]:
        """Like ``analyze``, only inside the regions the gate accepts."""
        if self.gate is None:
            return self.analyze(text, entities)
        if self.entity not in entities:
            return []
        out: list[Finding] = []
        gate = self.gate
        for region in regions:
            if gate(region):
                self.scan_region(text, region, out)
        return out

    def region_gate(self, region: Region) -> bool:
        """The recognizer's gate (always True without one)."""
        return self.gate is None or self.gate(region)

    def scan_region(self, text: str, region: Region, out: list[Finding]) -> None:
        """Append the findings inside one region (plus ``margin`` characters before it)."""
        # Only the recognizers of labelled numbers read the view: an IBAN starts with its country
        # (NO93 8601 …), which may look like a label.
        view = region.view if self.glued_tail else None
        self._scan(text, max(0, region.start - self.margin), region.end, out, view)

    def _scan(self, text: str, pos: int, endpos: int, out: list[Finding], view: str | None = None) -> None:
        # Matched in ``view`` (glued labels cut off) when there is one; everything else reads
        # ``text``: the offsets are the same.
        patterns = self.patterns
        for m in self._combined.finditer(view or text, pos, endpos):
            spec = patterns[int((m.lastgroup or "g0")[1:])]
            start, end = m.span()
            if (
                self.glued_tail
                and end < len(text)
                and text[end] in _ASCII_LETTERS
                and not glued_tail_ok(text, start, end, self.context)
            ):
                continue
            value = text[start:end]
            reason = self._check(value)
            if reason is None:
                continue
            word = find_context(text, start, end, self.context)
            if (
                self.negative_context
                and not (self.context_beats_negative and word is not None)
                and find_context(text, start, end, self.negative_context, before=12, after=4)
            ):
                continue
            score = spec.score
            explanation = f"pattern {spec.name}"
            if self.validator is not None:
                explanation += f" + {reason}"
            if word is not None:
                if self.context_score > score:
                    score = self.context_score
                explanation += f"; context {word}"
            if self.glued_tail:
                if start and text[start - 1] in _ASCII_LETTERS:
                    explanation += "; label glued before it"
                if end < len(text) and text[end] in _ASCII_LETTERS:
                    explanation += "; letters glued after it"
            if score < self.min_score:
                continue
            out.append(Finding(self.entity, start, end, round(score, 3), explanation, self.name))

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """The entity with its base score if a pattern matches the whole value and validates."""
        value = value.strip()
        for spec, rx in self._compiled:
            m = rx.fullmatch(value)
            if m is None:
                continue
            if self._check(value) is not None:
                return [(self.entity, spec.score)]
        return []
