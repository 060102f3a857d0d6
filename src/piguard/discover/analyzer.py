"""The Analyzer: runs the requested recognizers over a text and resolves overlaps."""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import (
    DIGITS_TABLE,
    GLUE_MIN_DIGITS,
    NOISE,
    REGION,
    Recognizer,
    Region,
    glue_view,
    may_split,
    split_joined,
)
from piguard.discover.recognizers.registry import ALL_ENTITIES, build_recognizers
from piguard.errors import InputError

__all__ = ["DEFAULT_MIN_SCORE", "Analyzer", "resolve_overlaps"]

DEFAULT_MIN_SCORE = 0.5
# Full-width digits, Latin letters and @ . - + (common in Chinese documents: １３８１２３４５６７８)
# map one code point to one, so offsets found in the folded text are offsets in the original.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp - 0xFEE0).isalnum()}
_FULLWIDTH.update({0xFF20: ord("@"), 0xFF0E: ord("."), 0xFF0D: ord("-"), 0xFF0B: ord("+")})
_HAS_FULLWIDTH = re.compile("[\uff0b\uff0d\uff0e\uff10-\uff19\uff20-\uff3a\uff41-\uff5a]").search
_REGION_FINDITER = REGION.finditer
_NOISE_FULLMATCH = NOISE.fullmatch
_TOKENS = re.compile(r"[^ ]+").finditer
# Tokens of the longest grouped identifier (a 34-character IBAN in groups of four, with its
# country and check digits), and the most tokens of a space-joined region split into identifiers.
_MAX_GROUPS = 9
_MAX_WINDOW_TOKENS = 64
# What follows a card number on one line (`6222 0212 3456 7890 128 12/27 CVV 123`): an expiry
# date (MM/YY, MM/YYYY) and the security code, after its label or after the expiry.
_EXPIRY = re.compile(r"(?:0[1-9]|1[0-2])/(?:\d\d|20\d\d)").fullmatch
_SECURITY_CODE_LABELS = frozenset({"CVV", "CVV2", "CVC", "CVC2", "CVN", "CVN2", "CID", "CSC", "CAV2"})


def _fold(text: str) -> str:
    """Full-width digits and letters as ASCII, one code point for one (offsets keep)."""
    if text and _HAS_FULLWIDTH(text) is not None:  # translate is slow on CJK text: only when needed
        return text.translate(_FULLWIDTH)
    return text


class Analyzer:
    """Finds PI in text with the recognizers for the requested entities (default: all).

    Construction is the expensive part (regex compilation, dictionaries, jieba for PERSON and
    ADDRESS); build one Analyzer and reuse it. ``analyze`` is thread-safe and pure.
    """

    def __init__(
        self,
        *,
        entities: Collection[str] | None = None,
        custom_rules: Path | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        custom: list[Recognizer] = []
        #: What the custom rules file holds that is valid but cannot work (for the CLI to print).
        self.warnings: list[str] = []
        if custom_rules is not None:
            from piguard.discover.recognizers.custom import load_custom_rules

            custom = list(load_custom_rules(custom_rules, warnings=self.warnings))
        custom_entities = {e for rec in custom for e in rec.entities}
        if entities is None:
            wanted = set(ALL_ENTITIES) | custom_entities
        else:
            wanted = {e.strip().upper() for e in entities if e.strip()}
            unknown = sorted(wanted - set(ALL_ENTITIES) - custom_entities)
            if unknown:
                raise InputError(
                    f"unknown entity {', '.join(unknown)}; known: {', '.join(ALL_ENTITIES)}",
                    where="entities",
                )
        self._entities = tuple(e for e in (*ALL_ENTITIES, *sorted(custom_entities)) if e in wanted)
        self._wanted = frozenset(self._entities)
        self._min_score = min_score
        self._recognizers: list[Recognizer] = [
            *build_recognizers(self._wanted),
            *(r for r in custom if self._wanted.intersection(r.entities)),
        ]
        self._region_recs = [r for r in self._recognizers if r.uses_regions]
        self._text_recs = [r for r in self._recognizers if not r.uses_regions]
        self._region_pairs = [(getattr(r, "gate", None) or r.region_gate, r.scan_region) for r in self._region_recs]
        self._digit_pairs = [
            pair for pair, r in zip(self._region_pairs, self._region_recs, strict=True) if r.in_digit_runs
        ]
        self._noise_head_ends = "".join(r.noise_head_ends for r in self._region_recs)
        self._noise_scans = [r.scan_noise for r in self._region_recs if r.noise_head_ends]

    @property
    def entities(self) -> tuple[str, ...]:
        """The entities this analyzer looks for, in canonical order."""
        return self._entities

    def analyze_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """``analyze`` for each text; several texts at once let the PERSON tagger batch them."""
        folded = [_fold(t) for t in texts]
        prepared = [r for r in self._text_recs if type(r).prepare is not Recognizer.prepare]
        try:
            for rec in prepared:
                rec.prepare([t for t in folded if t and rec.prefilter(t)])
            return [self._analyze_folded(t) for t in folded]
        finally:
            for rec in prepared:
                rec.prepare([])

    def analyze(self, text: str) -> list[Finding]:
        """Non-overlapping findings in ``text`` at or above the minimum score, sorted by start."""
        return self._analyze_folded(_fold(text))

    def _analyze_folded(self, text: str) -> list[Finding]:
        if not text:
            return []
        candidates: list[Finding] = []
        wanted = self._wanted
        if self._region_pairs:
            # find_regions() inlined (the hot path of identifier scanning): regions outer,
            # recognizers inner, each recognizer only scanning the regions its gate accepts.
            head_ends = self._noise_head_ends
            for m in _REGION_FINDITER(text):
                value = m.group()
                if _NOISE_FULLMATCH(value) is not None:
                    # A short number is noise unless a head before it makes it an identifier's
                    # tail (the plate "沪A 12345"): one character looked at, most often none.
                    if head_ends and (start := m.start()) > 0 and text[start - 1] in head_ends:
                        for scan_noise in self._noise_scans:
                            scan_noise(text, start, value, candidates)
                    continue
                digits = len(value) - len(value.translate(DIGITS_TABLE))
                if digits >= 14 and may_split(value, digits):
                    pieces = split_joined(value, digits)
                    if len(pieces) > 1:  # several whole numbers joined by spaces, slashes or labels
                        for offset, piece in pieces:
                            self._scan_region(text, m.start() + offset, piece, candidates, windows=True)
                        continue
                start, end = m.span()
                first = len(candidates)
                # A glued label (TEL13812345678): recognizers match in a view without it. Only
                # numbers of seven digits or more are identifiers a label is glued to.
                view = glue_view(text, start, value) if len(value) > digits >= GLUE_MIN_DIGITS else None
                region = Region(start, end, value, digits, view)
                pairs = self._digit_pairs if digits == len(value) else self._region_pairs
                for gate, scan in pairs:
                    if gate(region):
                        scan(text, region, candidates)
                # Two identifiers need 12 digits or more, unless one is a code such as a plate.
                if " " in value and (digits >= 12 or value[0].isalpha()):
                    self._scan_windows(text, start, value, candidates, first)
        for rec in self._text_recs:
            if rec.prefilter(text):
                candidates += rec.analyze(text, wanted)
        if not candidates:
            return []
        return resolve_overlaps(f for f in candidates if f.score >= self._min_score)

    def _scan_region(
        self, text: str, start: int, value: str, candidates: list[Finding], *, windows: bool = False
    ) -> None:
        """Run the region recognizers on one piece of a split region (the rare path)."""
        if _NOISE_FULLMATCH(value) is not None:
            return
        first = len(candidates)
        digits = len(value) - len(value.translate(DIGITS_TABLE))
        view = glue_view(text, start, value) if len(value) > digits >= GLUE_MIN_DIGITS else None
        region = Region(start, start + len(value), value, digits, view)
        for gate, scan in self._digit_pairs if digits == len(value) else self._region_pairs:
            if gate(region):
                scan(text, region, candidates)
        if windows and " " in value:
            self._scan_windows(text, start, value, candidates, first)

    def _scan_windows(self, text: str, start: int, value: str, candidates: list[Finding], first: int) -> None:
        """Split a region continued across spaces into identifiers when its whole scan did not
        cover it.

        A region continues across a space before a digit or a capital so that grouped numbers
        (138 1234 5678, 6222 0212 3456 7890 003) stay whole, but then two identifiers written
        one space apart ("138 1234 5678 310104…") are one region, too long for every
        recognizer's gate. The region is tiled from the left, each tile the best finding at
        the next token in the longest run of up to ``_MAX_GROUPS`` tokens that has one; the
        tiles are kept only if they cover every token that starts with a digit, so a run of
        figures ("100 200 … 900 1000") is never cut into a phone-shaped slice.
        """
        if value.count(" ") >= _MAX_WINDOW_TOKENS:
            return  # a long run of spaced numbers (a table of figures): scanned whole only
        tokens = [(start + t.start(), start + t.end()) for t in _TOKENS(value)]
        found = [f for f in candidates[first:] if f.score >= self._min_score]
        if all(any(f.start <= s and e <= f.end for f in found) for s, e in tokens):
            return  # the common case: one grouped number, found whole
        tiles: list[Finding] = []
        i, n = 0, len(tokens)
        while i < n:
            s = tokens[i][0]
            tile = None
            for j in range(min(i + _MAX_GROUPS, n) - 1, i - 1, -1):  # the longest run first
                if i == 0 and j == n - 1:
                    continue  # the whole region, scanned already
                got: list[Finding] = []
                self._scan_region(text, s, text[s : tokens[j][1]], got)
                at_token = [f for f in got if f.start <= s < f.end and f.score >= self._min_score]
                if at_token:
                    tile = max(at_token, key=lambda f: (f.score, f.end - f.start))
                    break
            if tile is None:
                if text[s].isascii() and text[s].isalpha():
                    i += 1  # a code or label ("I21.9", "ICD:I10"), never a group of a number
                    continue
                if tiles and _card_extra(text, tokens, i):
                    i += 1  # a card's expiry date or security code, after the card
                    continue
                return  # digits no identifier starts at: leave the region as it was
            i = next((k for k in range(i, n) if tokens[k][0] >= tile.end), n)
            if tile.end < tokens[i - 1][1]:
                return  # the tile ends inside a token
            tiles.append(tile)
        candidates += tiles

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """Entities whose validator accepts the WHOLE value, best score first (one per entity)."""
        value = value.strip().translate(_FULLWIDTH)
        if not value:
            return []
        best: dict[str, float] = {}
        for rec in self._recognizers:
            for entity, score in rec.validate_value(value):
                if entity in self._wanted and score > best.get(entity, -1.0):
                    best[entity] = score
        return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def _card_extra(text: str, tokens: Sequence[tuple[int, int]], i: int) -> bool:
    """Whether token ``i`` is an expiry date (12/27) or a 3-4 digit security code after one or
    after its label (CVV 123): written after a card, never a group of another number."""
    s, e = tokens[i]
    token = text[s:e]
    if _EXPIRY(token) is not None:
        return True
    if not (token.isdigit() and 3 <= len(token) <= 4 and i > 0):
        return False
    before = text[tokens[i - 1][0] : tokens[i - 1][1]]
    return _EXPIRY(before) is not None or before.rstrip(":").upper() in _SECURITY_CODE_LABELS


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep the best of overlapping findings (higher score, then longer span), sorted by start."""
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    # Kept spans stay sorted and disjoint, so a candidate only has to be checked against its
    # two neighbours: O(n log n) even for a whole document analysed as one text.
    starts: list[int] = []
    kept: list[Finding] = []
    for f in ranked:
        i = bisect.bisect_right(starts, f.start)
        if i > 0 and kept[i - 1].end > f.start:
            continue
        if i < len(kept) and kept[i].start < f.end:
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept
