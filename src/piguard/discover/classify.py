"""Column classification from weighted evidence: column name, comment, validated values, data type.

Each candidate entity gets a log-odds score

    logit = PRIOR + W_NAME * name + W_COMMENT * comment + W_VALUES * ratio * mean_score
            - CONTRADICTION (a validated identifier named by the column that its values fail)

and ``confidence = sigmoid(logit)``. The name alone (``身份证号``, ``phone``) makes a column
likely but not certain; values that pass real validators (checksums, allocated prefixes)
make it near certain; a name contradicted by its values (``phone`` full of ``N/A``) is not
reported. Columns of long free text are not one entity: they are reported once per entity
found inside them (``kind = "free_text"``) and redacted per finding.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from piguard.discover import minors
from piguard.discover.analyzer import Analyzer
from piguard.discover.categories import category_of, is_sensitive
from piguard.discover.column_names import name_evidence, negated_by_name
from piguard.discover.findings import Finding
from piguard.discover.names import KEY, prepare_table
from piguard.discover.recognizers.validators import (
    cn_resident_id,
    cn_resident_id_shape,
    mod11_2_check,
)
from piguard.discover.sources.base import NUMBER_DTYPES, SAMPLE_SEED, ColumnSample, TableSample
from piguard.discover.spreadsheet import (
    KEPT_PREFIX,
    SPREADSHEET_DAMAGED,
    W_DAMAGED,
    SpreadsheetNumber,
    damage_note,
    kept_prefix_ok,
    spreadsheet_number,
)
from piguard.errors import InputError
from piguard.minimize.operators import to_month

PRIOR = -3.0
W_NAME = 4.0
W_COMMENT = 3.5
W_VALUES = 8.0
CONTRADICTION = 2.5
DEFAULT_MIN_CONFIDENCE = 0.5
# A finding covering this much of a value makes the value itself that entity (a name column);
# not all of it, since recognizers may leave out a trailing room number or a title.
WHOLE_VALUE_COVERAGE = 0.6
# At most this many distinct values per column go through full text analysis.
ANALYZE_LIMIT = 200
# A column of numbers with nothing found in this many values and no name evidence stops early.
EARLY_STOP_AFTER = 100
MAX_EXAMPLES = 3
# Distinct values analysed in one batch.
_ANALYZE_BATCH = 64
# Two numbers of seven digits or more in one value without letters ("13812345678/13987654321",
# a JSON list of IDs joined by ";"): not one whole value, but text to analyse.
_SEVERAL_NUMBERS = re.compile(r"(?:\d[ \-]?){6}\d\D+(?:\d[ \-]?){6}\d")
# What may stand between the items of a value listing several identifiers, and around an
# identifier that is the whole value (punctuation, brackets, quotes: "<zs@example.com>").
_LIST_SEPARATORS = " \t;；,，/、|"
_AROUND = " \t;；,，。.:：()（）[]【】<>《》\"'“”‘’「」"

#: Entities with real validators: a column claiming them whose values fail is contradicted.
VALIDATED = frozenset(
    {
        "CN_RESIDENT_ID",
        "CN_MOBILE",
        "CN_LANDLINE",
        "BANK_CARD",
        "CN_USCC",
        "CN_PLATE",
        "CN_PASSPORT",
        "CN_TRAVEL_PERMIT",
        "EMAIL",
        "IP_ADDRESS",
        "URL",
        "PHONE",
        "IBAN",
        "US_SSN",
    }
)
#: Share of random numbers of the right length that an entity's validator accepts (Luhn: 1 in
#: 10). Found inside the values of a column no name claims, without a context word raising a
#: score, an entity is reported only when at least three times this share of values hold it.
CHANCE_RATE = {"BANK_CARD": 0.1}
_CHANCE_SCORE = 0.6


@dataclass(frozen=True, slots=True)
class ColumnClassification:
    """One reported column: its entity, category, confidence and the evidence behind it."""

    source: str
    table: str
    column: str
    entity: str
    category: str
    sensitive: bool
    confidence: float
    matched: int
    sampled: int
    # "values": the whole column is this entity; "free_text": found inside values; "key": JSON
    # keys at this place (``contacts.<key>``) hold it
    kind: str
    evidence: str
    examples: tuple[str, ...] = field(default=(), repr=False)


@dataclass(slots=True)
class _Counts:
    """How many values hold each entity (and their summed scores): as the whole value, listing
    several of it, or anywhere in them."""

    whole: Counter[str] = field(default_factory=Counter)
    whole_score: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    # Values holding the entity anywhere (whole or inside), for free-text columns.
    inside: Counter[str] = field(default_factory=Counter)
    inside_score: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    # Values listing several of one entity and nothing else ("13812345678;13987654321").
    listed: Counter[str] = field(default_factory=Counter)
    listed_score: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, whole: dict[str, float], listed: dict[str, float], anywhere: dict[str, float]) -> None:
        """Count one value's entities."""
        for entity, score in whole.items():
            self.whole[entity] += 1
            self.whole_score[entity] += score
        for entity, score in listed.items():
            self.listed[entity] += 1
            self.listed_score[entity] += score
        for entity, score in anywhere.items():
            self.inside[entity] += 1
            self.inside_score[entity] += score


@dataclass(slots=True)
class _Tally:
    sampled: int = 0
    # Values whose text was analysed or that validated: the denominator for entities that
    # only analysis finds (names, addresses), since analysis runs on a bounded subsample.
    examined: int = 0
    validated: set[str] = field(default_factory=set)
    # Counts over every sampled value (entities some value validated as: out of ``sampled``).
    every: _Counts = field(default_factory=_Counts)
    # Counts over the analysed subsample (the other entities: out of ``examined``); None when
    # every value was examined.
    subsample: _Counts | None = None
    examples: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def denominator(self, entity: str) -> int:
        """How many values could have shown ``entity``."""
        return self.sampled if entity in self.validated else self.examined

    def counts(self, entity: str) -> _Counts:
        """The counts to set against ``denominator(entity)``."""
        if self.subsample is None or entity in self.validated:
            return self.every
        return self.subsample

    def whole_entities(self) -> list[str]:
        """The entities that some counted value is as a whole."""
        return [entity for entity in self.every.whole if self.counts(entity).whole[entity]]

    def inside_counts(self) -> dict[str, int]:
        """Entity -> how many counted values hold it anywhere."""
        found = {entity: self.counts(entity).inside[entity] for entity in self.every.inside}
        return {entity: count for entity, count in found.items() if count}


def _is_date(value: str) -> bool:
    try:
        to_month(value[:10])
    except InputError:
        return False
    return True


def _alone(value: str, finding: Finding) -> bool:
    """Whether ``finding`` is all of ``value`` but for spaces and punctuation around it."""
    return not (value[: finding.start] + value[finding.end :]).strip(_AROUND)


def _listed(value: str, findings: list[Finding]) -> dict[str, float]:
    """The entity of a value that lists several of it and nothing else (``13812345678;
    13987654321``), with the findings' mean score; empty for any other value."""
    if len(findings) < 2 or len({f.entity for f in findings}) != 1:
        return {}
    end = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if value[end : finding.start].strip(_LIST_SEPARATORS):
            return {}
        end = finding.end
    if value[end:].strip(_LIST_SEPARATORS):
        return {}
    return {findings[0].entity: sum(f.score for f in findings) / len(findings)}


def _analysable(value: str) -> bool:
    """Whether text analysis could find something in ``value`` that no validator did: it has
    letters, or several long numbers."""
    return any(ch.isalpha() for ch in value) or bool(_SEVERAL_NUMBERS.search(value))


def _analysis_subsample(
    values: list[str], validate: Callable[[str], dict[str, float]]
) -> tuple[set[int], set[str]] | None:
    """The positions of a uniform random subsample of ``values`` whose values needing text
    analysis are at most ``ANALYZE_LIMIT`` distinct ones, and those values; None when every
    value can be analysed.

    The positions are a first part of a random order (fixed seed), cut before the value that
    would be one too many: taking later positions whose value happens to be analysed already
    would favour values that repeat ("无") over ones that do not (a phone number in a remark).
    """
    if sum(_analysable(value) for value in set(values)) <= ANALYZE_LIMIT:
        return None
    order = list(range(len(values)))
    random.Random(SAMPLE_SEED).shuffle(order)
    chosen: set[str] = set()
    positions: set[int] = set()
    for index in order:
        value = values[index]
        if value not in chosen and _analysable(value) and not validate(value):
            if len(chosen) == ANALYZE_LIMIT:
                break
            chosen.add(value)
        positions.add(index)
    return positions, chosen


def _tally(values: list[str], analyzer: Analyzer, *, claimed: frozenset[str]) -> _Tally:
    tally = _Tally(sampled=len(values))
    cache: dict[str, tuple[dict[str, float], dict[str, float], bool, dict[str, float]]] = {}
    validations: dict[str, dict[str, float]] = {}
    seen_text = False
    analysed_batch: dict[str, list[Finding]] = {}

    def validate(value: str) -> dict[str, float]:
        if value not in validations:
            validations[value] = dict(analyzer.validate_value(value))
        return validations[value]

    subsample = _analysis_subsample(values, validate)
    positions, to_analyse = subsample if subsample is not None else (None, None)
    if subsample is not None:
        tally.subsample = _Counts()

    def analysis(index: int, value: str) -> list[Finding]:
        # The next few distinct text values are analysed together (the PERSON tagger batches).
        if value not in analysed_batch:
            upcoming: dict[str, None] = {value: None}
            for other in values[index + 1 :]:
                if len(upcoming) >= _ANALYZE_BATCH:
                    break
                if (
                    other not in analysed_batch
                    and other not in cache
                    and (to_analyse is None or other in to_analyse)
                    and any(ch.isalpha() for ch in other)
                ):
                    upcoming[other] = None
            analysed_batch.update(zip(upcoming, analyzer.analyze_many(list(upcoming)), strict=True))
        return analysed_batch[value]

    for index, value in enumerate(values):
        if index == EARLY_STOP_AFTER and not (claimed or seen_text or tally.every.inside):
            # Numbers that no validator accepted in the first values and no name claims:
            # counters, amounts, codes. The rest of the sample would not change the verdict.
            tally.sampled = tally.examined = index
            tally.subsample = None
            break
        if value not in cache:
            whole = dict(validate(value))
            anywhere = dict(whole)
            listed: dict[str, float] = {}
            texty = any(ch.isalpha() for ch in value)
            seen_text = seen_text or texty
            analysed = False
            if not whole and _analysable(value) and (to_analyse is None or value in to_analyse):
                # Names, addresses and diagnoses have no whole-value validator: a finding that
                # covers most of the value makes the value that entity. Text analysis is the
                # costly part, so it runs on a bounded random subsample (``_analysis_subsample``).
                analysed = True
                length = max(len(value.strip()), 1)
                findings = analysis(index, value)
                for finding in findings:
                    entity, score = finding.entity, finding.score
                    # An identifier with other text around it ("家属电话13700001111") is the
                    # value only in a column named for it; elsewhere it is free text (a remark).
                    if (finding.end - finding.start) / length >= WHOLE_VALUE_COVERAGE and (
                        entity not in VALIDATED or entity in claimed or _alone(value, finding)
                    ):
                        whole[entity] = max(score, whole.get(entity, 0.0))
                    anywhere[entity] = max(score, anywhere.get(entity, 0.0))
                if not whole:
                    listed = _listed(value, findings)
            else:
                tally.validated.update(whole)
            # A value without letters holds no name or address: it counts as examined too.
            cache[value] = (whole, anywhere, analysed or bool(whole) or not texty, listed)
        whole, anywhere, examined, listed = cache[value]
        tally.every.add(whole, listed, anywhere)
        if positions is None or index in positions:
            # Only the subsample counts against ``examined`` (every value in it was examined).
            tally.examined += examined
            if tally.subsample is not None:
                tally.subsample.add(whole, listed, anywhere)
        for entity in anywhere:
            if len(tally.examples[entity]) < MAX_EXAMPLES:
                tally.examples[entity].append(value)
    return tally


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def classify_column(
    column: ColumnSample,
    *,
    analyzer: Analyzer,
    source: str,
    table: str,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    reference_date: dt.date | None = None,
    every_age_column: bool = False,
) -> list[ColumnClassification]:
    """The entities of one column: a ``values`` entry (with ``free_text`` entries for other PI inside
    text values), or ``free_text`` entries, or none; and a ``MINOR_UNDER_14`` ``values`` entry
    after them for an age or birth-date column that puts people under 14 on ``reference_date``
    (default: today; see ``piguard.discover.minors``), or with ``every_age_column`` (redaction)
    for any age or birth-date column of people."""
    found = _classify_column(column, analyzer=analyzer, source=source, table=table, min_confidence=min_confidence)
    if minors.MINOR_ENTITY in analyzer.entities:
        minor = _minor_entry(
            column,
            source=source,
            table=table,
            reference=reference_date or dt.date.today(),
            every_person=every_age_column,
        )
        if minor is not None and minor.confidence >= min_confidence:
            found.append(minor)
    return found


def _minor_entry(
    column: ColumnSample, *, source: str, table: str, reference: dt.date, every_person: bool
) -> ColumnClassification | None:
    """The ``MINOR_UNDER_14`` entry of an age or birth-date column holding people under 14 (with
    ``every_person``: of any age or birth-date column of people), or None."""
    if column.dtype in ("boolean", "binary"):
        return None
    dob = max(
        (name_evidence(text).get("DATE_OF_BIRTH", (0.0, "")) for text in (column.name, column.comment)),
        key=lambda weight_word: weight_word[0],
    )
    found = minors.minor_column(
        column, dob_word=dob[1] or None, dob_weight=dob[0], reference=reference, every_person=every_person
    )
    if found is None:
        return None
    # As for any entity: the name makes it likely, values that read as ages or dates certain.
    confidence = _sigmoid(PRIOR + W_NAME * found.weight + W_VALUES * found.share * 0.9)
    return ColumnClassification(
        source=source,
        table=table,
        column=column.name,
        entity=minors.MINOR_ENTITY,
        category=category_of(minors.MINOR_ENTITY),
        sensitive=is_sensitive(minors.MINOR_ENTITY),
        confidence=round(confidence, 3),
        matched=found.matched,
        sampled=found.sampled,
        kind="values",
        evidence=f"{found.evidence}; type {column.dtype}",
        examples=found.examples,
    )


def _classify_column(
    column: ColumnSample,
    *,
    analyzer: Analyzer,
    source: str,
    table: str,
    min_confidence: float,
) -> list[ColumnClassification]:
    allowed = set(analyzer.entities)
    if column.dtype in ("boolean", "binary"):
        return []  # flags and blobs do not hold the identifiers we look for
    by_name = {e: v for e, v in name_evidence(column.name).items() if e in allowed}
    by_comment = {e: v for e, v in name_evidence(column.comment).items() if e in allowed}
    # 1.2.3.4 under "version" is a version, 4111111111111111 under "order_no" an order number.
    allowed -= (negated_by_name(column.name) | negated_by_name(column.comment)) - set(by_name) - set(by_comment)
    values = column.values
    sampled = len(values)

    def make(
        entity: str,
        confidence: float,
        matched: int,
        out_of: int,
        kind: str,
        evidence: str,
        examples: Iterable[str] = (),
    ) -> ColumnClassification:
        return ColumnClassification(
            source=source,
            table=table,
            column=column.name,
            entity=entity,
            category=category_of(entity),
            sensitive=is_sensitive(entity),
            confidence=round(confidence, 3),
            matched=matched,
            sampled=out_of,
            kind=kind,
            evidence=evidence,
            examples=tuple(examples),
        )

    # Only a float loses digits: an integer or decimal type (a database's numeric(18), an int64
    # column) keeps every digit of what was stored in it.
    lossy_type = column.dtype == "float"
    if (column.dtype in NUMBER_DTYPES or column.dtype == "text") and "CN_RESIDENT_ID" in allowed:
        # Excel stores an ID typed as a number as a float: 15 significant digits survive, the
        # check digit does not. Area code and birth date still single out a person. Written
        # to CSV (or stored in an exact column afterwards), the lost digits are zeros
        # (310112195603211000).
        lossy = [
            v
            for v in values
            if len(v) == 18 and v.isdigit() and (lossy_type or v.endswith("000")) and cn_resident_id_shape(v)
        ]
        # Real IDs in a number column keep their check digits (the normal path below finds
        # them); rounded ones fail it, except one in eleven by chance.
        failing = sum(mod11_2_check(v[:17]) != v[17] for v in lossy)
        # IDs ending in X stay text beside them (a spreadsheet cannot make them numbers).
        rounded = set(lossy)
        valid = [v for v in values if v not in rounded and cn_resident_id(v) is not None] if lossy else []
        enough = len(lossy) >= len(valid) and len(lossy) + len(valid) >= 0.5 * sampled
        if lossy and enough and failing >= 0.5 * len(lossy):
            name_w, name_word = by_name.get("CN_RESIDENT_ID", (0.0, ""))
            comment_w, comment_word = by_comment.get("CN_RESIDENT_ID", (0.0, ""))
            ratio = (len(lossy) + len(valid)) / sampled
            parts = [f"name '{name_word}' suggests CN_RESIDENT_ID"] if name_w else []
            parts += [f"comment '{comment_word}' suggests CN_RESIDENT_ID"] if comment_w else []
            parts.append(
                f"{len(lossy)}/{sampled} sampled values are resident IDs stored as numbers by a "
                "spreadsheet (area and birth date valid, digits after the 15th and check digit lost)"
            )
            if valid:
                parts.append(f"{len(valid)}/{sampled} sampled values are CN_RESIDENT_ID")
            conf = _sigmoid(PRIOR + W_NAME * name_w + W_COMMENT * comment_w + W_VALUES * ratio * 0.9)
            if conf >= min_confidence:
                evidence = f"{'; '.join(parts)}; type {column.dtype}"
                examples = [*valid, *lossy][:MAX_EXAMPLES]
                return [make("CN_RESIDENT_ID", conf, len(lossy) + len(valid), sampled, "values", evidence, examples)]
    if column.dtype in NUMBER_DTYPES or column.dtype == "text":
        damaged = _spreadsheet_damaged(column, analyzer, by_name, by_comment, allowed, make)
        if damaged is not None and damaged.confidence >= min_confidence:
            return [damaged]
    if column.dtype in ("float", "decimal") and not _mostly_whole_numbers(values):
        return []  # amounts and measurements
    if column.dtype in ("date", "datetime"):
        # A date column is personal only as a birth date, and only its name can say so.
        weight = max(by_name.get("DATE_OF_BIRTH", (0.0, ""))[0], by_comment.get("DATE_OF_BIRTH", (0.0, ""))[0])
        if weight == 0.0 or sampled == 0:
            return []
        conf = _sigmoid(PRIOR + W_NAME * weight + W_VALUES * 0.9)
        return [
            make(
                "DATE_OF_BIRTH",
                conf,
                sampled,
                sampled,
                "values",
                f"name suggests DATE_OF_BIRTH; type {column.dtype}",
                values[:MAX_EXAMPLES],
            )
        ]

    claimed = frozenset(by_name) | frozenset(by_comment)
    tally = _tally(values, analyzer, claimed=claimed)
    sampled = tally.sampled
    if "DATE_OF_BIRTH" in by_name or "DATE_OF_BIRTH" in by_comment:
        dates = [v for v in values if _is_date(v)]
        if dates:
            tally.every.whole["DATE_OF_BIRTH"] = len(dates)
            tally.every.whole_score["DATE_OF_BIRTH"] = 0.9 * len(dates)
            tally.validated.add("DATE_OF_BIRTH")
            tally.examples["DATE_OF_BIRTH"] = dates[:MAX_EXAMPLES]

    best: tuple[float, str, str, int, int] | None = None
    for entity in (set(by_name) | set(by_comment) | set(tally.whole_entities())) & allowed:
        name_w, name_word = by_name.get(entity, (0.0, ""))
        comment_w, comment_word = by_comment.get(entity, (0.0, ""))
        counts = tally.counts(entity)
        single = counts.whole[entity]
        # Values listing several of the entity (two phone numbers in a cell) hold it as well when
        # they are the exception beside single ones; a column made of them is free text.
        listed = counts.listed[entity] if counts.listed[entity] <= single else 0
        matched = single + listed
        out_of = tally.denominator(entity)
        ratio = matched / out_of if out_of else 0.0
        score_sum = counts.whole_score[entity] + (counts.listed_score[entity] if listed else 0.0)
        mean = score_sum / matched if matched else 0.0
        logit = PRIOR + W_NAME * name_w + W_COMMENT * comment_w + W_VALUES * ratio * mean
        parts = []
        if name_w:
            parts.append(f"name '{name_word}' suggests {entity}")
        if comment_w:
            parts.append(f"comment '{comment_word}' suggests {entity}")
        if out_of:
            what = "sampled" if out_of == sampled else "analysed"
            parts.append(f"{single}/{out_of} {what} values are {entity}")
            if listed:
                parts.append(f"{listed}/{out_of} {what} values list several {entity}")
        if entity in VALIDATED and sampled >= 10 and ratio < 0.1 and (name_w or comment_w):
            logit -= CONTRADICTION
            parts.append("values contradict the name")
        if best is None or logit > best[0]:
            best = (logit, entity, "; ".join(parts), out_of, matched)
    if best is not None and _sigmoid(best[0]) >= min_confidence:
        logit, entity, evidence, out_of, matched = best
        if entity in SPREADSHEET_DAMAGED and matched < sampled:
            evidence += damage_note(values, analyzer, numeric=lossy_type)
        main = make(
            entity,
            _sigmoid(logit),
            matched,
            out_of,
            "values",
            f"{evidence}; type {column.dtype}",
            tally.examples[entity],
        )
        # Text values may hold other PI besides the column's own ("ID:… TEL:…" in a remarks
        # column classified as phones): report those too, or a sensitive entity would be hidden.
        return [main, *_inside(tally, make, allowed, skip=entity, claimed=claimed)]
    return _inside(tally, make, allowed, skip=None, claimed=claimed)


def _spreadsheet_damaged(
    column: ColumnSample,
    analyzer: Analyzer,
    by_name: dict[str, tuple[float, str]],
    by_comment: dict[str, tuple[float, str]],
    allowed: set[str],
    make: Callable[..., ColumnClassification],
) -> ColumnClassification | None:
    """A column its name calls an identifier whose values a spreadsheet damaged, or None.

    ``身份证号`` full of ``3.10112E+17``: the IDs cannot be validated any more (precision is
    lost), but the column still holds them, and the damaged values still name the person to
    whoever has the other digits. Reported from the name, with a lower confidence than valid
    values would give, and evidence saying why.
    """
    candidates = [e for e in SPREADSHEET_DAMAGED if e in allowed and (e in by_name or e in by_comment)]
    values = column.values
    if not candidates or not values:
        return None
    # Digits past the 15th are lost only in a float; in an integer or text column only zeros
    # there say so (310112195603211000).
    numeric = column.dtype == "float"
    damaged: list[tuple[str, SpreadsheetNumber]] = []
    intact: list[str] = []
    for value in values:
        number = spreadsheet_number(value, numeric=numeric)
        # A digit string that still validates was not damaged (an exact int64 column).
        if number is not None and (number.scientific or not analyzer.validate_value(value)):
            damaged.append((value, number))
        else:
            intact.append(value)
    if len(damaged) < 0.5 * len(values):
        return None
    # IDs ending in X stay text (a spreadsheet cannot make them numbers) and still validate.
    valid = [(v, dict(analyzer.validate_value(v))) for v in intact]
    best: tuple[float, ColumnClassification] | None = None
    for entity in candidates:
        fitting = [(v, n) for v, n in damaged if n.digits in SPREADSHEET_DAMAGED[entity]]
        if len(fitting) < 0.5 * len(values):
            continue
        passed = [(v, scores[entity]) for v, scores in valid if entity in scores]
        name_w, name_word = by_name.get(entity, (0.0, ""))
        comment_w, comment_word = by_comment.get(entity, (0.0, ""))
        plausible = sum(kept_prefix_ok(entity, n.kept) for _, n in fitting)
        logit = PRIOR + W_NAME * name_w + W_COMMENT * comment_w + W_DAMAGED * plausible / len(values)
        logit += W_VALUES * sum(score for _, score in passed) / len(values)
        parts = [f"name '{name_word}' suggests {entity}"] if name_w else []
        parts += [f"comment '{comment_word}' suggests {entity}"] if comment_w else []
        how = sorted({"scientific notation" if n.scientific else "digits after the 15th lost" for _, n in fitting})
        parts.append(
            f"{len(fitting)}/{len(values)} sampled values look like numbers mangled by a spreadsheet "
            f"({', '.join(how)}): precision lost, they cannot be validated"
        )
        parts.append(f"{plausible} start with {KEPT_PREFIX[entity]}")
        if passed:
            parts.append(f"{len(passed)}/{len(values)} sampled values are {entity}")
        found = make(
            entity,
            _sigmoid(logit),
            len(fitting) + len(passed),
            len(values),
            "values",
            f"{'; '.join(parts)}; type {column.dtype}",
            [v for v, _ in (*passed, *fitting)][:MAX_EXAMPLES],
        )
        if best is None or logit > best[0]:
            best = (logit, found)
    return None if best is None else best[1]


def _mostly_whole_numbers(values: list[str]) -> bool:
    """Whether at least half of a number column's values are whole numbers (``value_text`` writes
    13812345678.0 as ``13812345678``): identifiers stored as numbers, not measurements or amounts."""
    whole = sum(v.removeprefix("-").isdigit() for v in values)
    return bool(values) and whole >= 0.5 * len(values)


def _by_chance(entity: str, count: int, out_of: int, mean: float, claimed: frozenset[str]) -> bool:
    """Whether values holding ``entity`` are no more than random numbers would give: no name
    claims it, no context word raised a score, and fewer than three times its chance rate
    (order numbers passing Luhn one time in ten)."""
    rate = CHANCE_RATE.get(entity)
    if rate is None or entity in claimed or not out_of:
        return False
    return count / out_of < 3 * rate and mean <= _CHANCE_SCORE


def _inside(
    tally: _Tally,
    make: Callable[..., ColumnClassification],
    allowed: set[str],
    *,
    skip: str | None,
    claimed: frozenset[str] = frozenset(),
) -> list[ColumnClassification]:
    """Entities found inside text values (free text), most frequent first; ``skip`` left out."""
    sampled = tally.sampled
    found = []
    for entity, count in sorted(tally.inside_counts().items(), key=lambda kv: (-kv[1], kv[0])):
        if entity not in allowed or entity == skip:
            continue
        mean = tally.counts(entity).inside_score[entity] / count
        out_of = tally.denominator(entity)
        if _by_chance(entity, count, out_of, mean, claimed):
            continue
        found.append(
            make(
                entity,
                mean,
                count,
                out_of,
                "free_text",
                f"found in {count}/{out_of} {'sampled' if out_of == sampled else 'analysed'} values",
                tally.examples[entity],
            )
        )
    return found


def classify_table(
    table: TableSample,
    *,
    analyzer: Analyzer,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    reference_date: dt.date | None = None,
    every_age_column: bool = False,
) -> list[ColumnClassification]:
    """Classify every column of a sampled table, in column order (birth dates are aged on
    ``reference_date``, default today; ``every_age_column``: see ``classify_column``).

    Names that are data are read as data first (``names.prepare_table``, which changes
    ``table``): JSON keys holding personal information are reported as ``kind = "key"``
    entries of their masked path (``contacts.<key>``), a header row holding it is read as the
    first data row.
    """
    out: list[ColumnClassification] = [
        ColumnClassification(
            source=table.source,
            table=table.table,
            column=key.column,
            entity=key.entity,
            category=category_of(key.entity),
            sensitive=is_sensitive(key.entity),
            confidence=round(key.score, 3),
            matched=key.matched,
            sampled=key.keys,
            kind="key",
            evidence=f"found in {key.matched}/{key.keys} distinct keys at this place (keys are shown as {KEY})",
            examples=key.examples,
        )
        for key in prepare_table(table, analyzer)
    ]
    for column in table.columns:
        out.extend(
            classify_column(
                column,
                analyzer=analyzer,
                source=table.source,
                table=table.table,
                min_confidence=min_confidence,
                reference_date=reference_date,
                every_age_column=every_age_column,
            )
        )
    return out
