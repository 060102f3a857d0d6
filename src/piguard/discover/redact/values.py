"""Per-finding redaction of cell values and of nested JSON and Parquet values, keys included."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from piguard.discover.analyzer import Analyzer
from piguard.discover.column_names import name_evidence, negated_by_name
from piguard.discover.findings import Finding
from piguard.discover.names import KEY, name_findings
from piguard.discover.redact.common import RedactStats
from piguard.discover.redact.policy import Change, Redactor, redact_text
from piguard.discover.sources.base import value_text

__all__ = ["PerFinding", "distinct_keys", "is_map", "map_scalars", "redact_value", "scalar_text", "value_texts"]

# Distinct keys whose findings are remembered while redacting one file.
_MAX_KEYS_CACHED = 65_536


def redact_value(value: Any, path: str, whole: dict[str, Change], other: PerFinding) -> tuple[Any, int]:
    """Redact a JSON value at a dotted path: whole columns by their entity, the rest per finding.

    Keys are redacted finding by finding too (a key holding personal information is
    ``<key>`` in the path, as the scan names the column); a changed key counts as a value."""
    if path in whole:
        return map_scalars(value, whole[path], other)
    if isinstance(value, dict):
        renamed: list[tuple[Any, Any]] = []
        children: list[Any] = []
        total = 0
        for key, child in value.items():
            new_key, personal = other.key(key)
            segment = KEY if personal else key
            new_child, count = redact_value(child, f"{path}.{segment}" if path else segment, whole, other)
            renamed.append((key, new_key))
            children.append(new_child)
            total += count + (new_key != key)
        return dict(zip(other.distinct(renamed), children, strict=True)), total
    return map_scalars(value, other.for_column(path), other)


def value_texts(value: Any, path: str, whole: dict[str, Change]) -> Iterator[str]:
    """The texts ``redact_value`` analyses per finding in ``value`` (to analyse them in a batch)."""
    if path in whole:
        yield from _scalar_texts(value, values=False)
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from value_texts(child, f"{path}.{key}" if path else key, whole)
    else:
        yield from _scalar_texts(value)


def _scalar_texts(value: Any, *, values: bool = True) -> Iterator[str]:
    """The texts ``map_scalars`` analyses: the keys inside ``value``, and its scalars if ``values``."""
    if is_map(value):
        for key, item in value:
            yield from _scalar_texts(key)
            yield from _scalar_texts(item, values=values)
    elif isinstance(value, list):
        for item in value:
            yield from _scalar_texts(item, values=values)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _scalar_texts(item, values=values)
    elif values:
        text = scalar_text(value)
        if text:
            yield text


def is_map(value: Any) -> bool:
    """Whether ``value`` is a Parquet map as pyarrow gives it: a list of (key, value) pairs."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, tuple) and len(v) == 2 for v in value)


def distinct_keys(renamed: list[tuple[Any, Any]]) -> tuple[list[Any], int]:
    """The keys of one object or map after redaction, from ``(old, new)`` pairs in order, and how
    many clashed: a redacted key equal to another key (two phone numbers masked alike,
    ``[CN_MOBILE]`` twice) gets `` #2``, `` #3``… so that no entry is lost."""
    taken = {old for old, new in renamed if new == old}
    out: list[Any] = []
    clashes = 0
    for old, new in renamed:
        if new != old:
            candidate, n = new, 1
            while candidate in taken:
                n += 1
                candidate = f"{new} #{n}"
            clashes += n > 1
            new = candidate
            taken.add(new)
        out.append(new)
    return out, clashes


class PerFinding:
    """Redacts one value finding by finding; ``prefetch`` analyses a batch of values at once.

    The name tagger costs far less per value in batches, so table rows are analysed a chunk at a
    time; a value not prefetched is analysed on its own.
    """

    def __init__(self, redactor: Redactor, analyzer: Analyzer, stats: RedactStats) -> None:
        self._redactor, self._analyzer, self._stats = redactor, analyzer, stats
        self._found: dict[str, list[Finding]] = {}
        # Findings of keys (the same few keys recur in every row), bounded.
        self._keys: dict[str, list[Finding]] = {}
        self.keys_changed = 0
        self.key_clashes = 0

    def key(self, key: Any) -> tuple[Any, bool]:
        """A JSON or map key redacted finding by finding (as free text); whether it held PI."""
        redacted, personal = self._name(key)
        self.keys_changed += personal
        return redacted, personal

    def name(self, value: str) -> str | None:
        """A header cell redacted finding by finding, read as a column name (``name_findings``)."""
        redacted, _ = self._name(value)
        return str(redacted)

    def _name(self, key: Any) -> tuple[Any, bool]:
        """A key or column name redacted (a word naming a child is no finding in it); whether it held PI."""
        text = key if isinstance(key, str) else scalar_text(key)
        if not text or not text.strip():
            return key, False
        findings = self._keys.get(text)
        if findings is None:
            found = self._found.get(text)
            findings = name_findings(text, self._analyzer.analyze(text) if found is None else found)
            if len(self._keys) < _MAX_KEYS_CACHED:
                self._keys[text] = findings
        if not findings:
            return key, False
        redacted, count = redact_text(text, analyzer=self._analyzer, redactor=self._redactor, findings=findings)
        self._stats.findings += count
        return redacted, True

    def distinct(self, renamed: list[tuple[Any, Any]]) -> list[Any]:
        """``distinct_keys`` of one object or map, counting the clashes for the summary."""
        if all(old == new for old, new in renamed):
            return [old for old, _ in renamed]
        keys, clashes = distinct_keys(renamed)
        self.key_clashes += clashes
        return keys

    def notes(self) -> list[str]:
        """What the summary says about keys (counts only, never a key)."""
        out = []
        if self.keys_changed:
            out.append(f"{self.keys_changed} JSON or map keys held personal information and were redacted")
        if self.key_clashes:
            out.append(
                f"{self.key_clashes} redacted keys would have been equal to another key of the same "
                "object: they were numbered (' #2', ' #3', ...) so that no entry is lost"
            )
        return out

    def prefetch(self, texts: Iterable[str]) -> None:
        """Analyse the distinct ``texts`` together (replacing the previous batch)."""
        distinct = list(dict.fromkeys(t for t in texts if t and t.strip()))
        self._found = dict(zip(distinct, self._analyzer.analyze_many(distinct), strict=True))

    def __call__(self, value: str) -> str | None:
        return self._redact(value, frozenset())

    def for_column(self, name: str) -> Change:
        """The per-finding change for values of column ``name``: a version or build column
        (``app_version``, ``软件版本``) holds no IP addresses, whatever 1.2.3.4 looks like, and
        an order or waybill number column (``order_no``, ``运单号``) no bank cards."""
        skip = negated_by_name(name) - set(name_evidence(name))
        if skip:
            return lambda value: self._redact(value, skip)
        return self

    def _redact(self, value: str, skip: frozenset[str]) -> str | None:
        findings = self._found.get(value)
        if findings is None:
            findings = self._analyzer.analyze(value)
        if skip:
            findings = [f for f in findings if f.entity not in skip]
        redacted, count = redact_text(value, analyzer=self._analyzer, redactor=self._redactor, findings=findings)
        self._stats.findings += count
        return redacted


def scalar_text(value: Any) -> str | None:
    """A scalar as the scan reads it (13812345678.0, a phone number exported through a float,
    is digits); None for what holds no text to redact: nulls, flags, bytes."""
    if value is None or isinstance(value, bool | bytes | bytearray | memoryview):
        return None
    return value_text(value) if isinstance(value, float) else str(value)


def map_scalars(value: Any, change: Change, keys: PerFinding) -> tuple[Any, int]:
    """``change`` applied to every scalar inside ``value``, ``keys`` to the keys of its objects
    and maps (finding by finding, whatever ``change`` is); unchanged values keep their type."""
    if is_map(value):
        # The (key, value) entries of a Parquet map: keys can be personal information too.
        renamed: list[tuple[Any, Any]] = []
        items: list[Any] = []
        total = 0
        for k, v in value:
            new_key, _ = keys.key(k)
            new, count = map_scalars(v, change, keys)
            renamed.append((k, new_key))
            items.append(new)
            total += count + (new_key != k)
        return list(zip(keys.distinct(renamed), items, strict=True)), total
    if isinstance(value, list):
        pairs = [map_scalars(v, change, keys) for v in value]
        return [v for v, _ in pairs], sum(c for _, c in pairs)
    if isinstance(value, dict):
        renamed = []
        children = []
        total = 0
        for k, v in value.items():
            new_key, _ = keys.key(k)
            new, count = map_scalars(v, change, keys)
            renamed.append((k, new_key))
            children.append(new)
            total += count + (new_key != k)
        return dict(zip(keys.distinct(renamed), children, strict=True)), total
    text = value if type(value) is str else scalar_text(value)
    if not text:
        return value, 0  # a null, a flag or bytes hold no personal information to redact
    new = change(text)
    return (value, 0) if new == text else (new, 1)
