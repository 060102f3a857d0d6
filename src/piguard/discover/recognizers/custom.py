"""Custom recognizers from a YAML file: pattern, validator name, context words, entity; no code.

```yaml
recognizers:
  - name: staff_number            # unique, [a-z0-9_]
    entity: STAFF_ID              # upper-case entity name (new or canonical)
    patterns:
      - {name: member_card, regex: "HY(?P<value>\\d{16})", score: 0.4}
    validator: luhn               # optional, one of validators.VALIDATORS: it checks the
                                  # group named ``value`` if the regex has one, else the match
    context: [工号, staff no]     # optional; raise the score to context_score
    context_score: 0.9            # optional
    min_score: 0.5                # optional; candidates below are dropped
```
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from piguard.discover.recognizers.base import PatternRecognizer, PatternSpec
from piguard.discover.recognizers.validators import VALIDATORS
from piguard.errors import InputError

__all__ = ["load_custom_rules", "parse_custom_rules"]

_ENTITY = re.compile(r"[A-Z][A-Z0-9_]{1,63}")
_NAME = re.compile(r"[a-z0-9_]{1,64}")
_KEYS = frozenset(
    {"name", "entity", "patterns", "validator", "context", "context_score", "min_score"}
)


#: Fewest characters each validator can accept: a pattern whose validated part is always
#: shorter can never match (``GH\d{6}`` checked by ``luhn``, which needs 13-19 digits).
VALIDATOR_MIN_CHARS = {
    "cn_resident_id": 15,
    "luhn": 13,
    "uscc": 18,
    "iban": 15,
    "cn_mobile": 11,
    "cn_landline": 7,
    "us_ssn": 9,
    "ip_address": 7,
    "email": 5,
}
#: The named group a validator checks, when a pattern defines it.
VALUE_GROUP = "value"


def load_custom_rules(path: Path, *, warnings: list[str] | None = None) -> list[PatternRecognizer]:
    """Read and validate a custom-rules YAML file; errors name the file and the field.

    ``warnings`` receives what is valid but cannot work (a validator its pattern can never pass)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        reason = f"custom rules are not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputError(reason, where=str(path)) from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise InputError(f"cannot read custom rules ({reason})", where=str(path)) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None)
        raise InputError(f"not valid YAML ({problem})" if problem else "not valid YAML", where=where) from None
    return parse_custom_rules(doc, source=str(path), warnings=warnings)


def _score(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InputError("must be a number between 0 and 1", where=where)
    return float(value)


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise InputError("must be a list of non-empty strings", where=where)
    return tuple(value)


def _patterns(value: Any, where: str) -> list[PatternSpec]:
    if not isinstance(value, list) or not value:
        raise InputError("must be a non-empty list of {name, regex, score}", where=where)
    out: list[PatternSpec] = []
    for j, item in enumerate(value):
        here = f"{where}[{j}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("regex"), str):
            raise InputError("needs a string 'regex'", where=here)
        try:
            re.compile(item["regex"])
        except re.error as exc:
            raise InputError(f"regex does not compile: {exc.msg}", where=f"{here}.regex") from None
        name = item.get("name", f"pattern_{j}")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InputError("must match [a-z0-9_]{1,64}", where=f"{here}.name")
        out.append(PatternSpec(name, item["regex"], _score(item.get("score", 0.6), f"{here}.score")))
    return out


def _group_width(regex: str, group: str) -> tuple[int, int]:
    """The fewest and most characters the named ``group`` (or the whole ``regex``) can match."""
    import re._parser as parser  # type: ignore[import-not-found]  # the stdlib's regex parser

    parsed = parser.parse(regex)
    index = parsed.state.groupdict.get(group)
    whole: tuple[int, int] = parsed.getwidth()
    if index is None:
        return whole

    def find(node: Any) -> tuple[int, int] | None:
        if isinstance(node, parser.SubPattern):
            for op, arg in node:
                if op is parser.SUBPATTERN and arg[0] == index:
                    width: tuple[int, int] = arg[3].getwidth()
                    return width
                found = find(arg)
                if found is not None:
                    return found
        elif isinstance(node, list | tuple):
            for child in node:
                found = find(child)
                if found is not None:
                    return found
        return None

    return find(parsed) or whole


def _value_of(specs: Sequence[PatternSpec]) -> Callable[[str], str] | None:
    """What a validator checks of a match: the group ``value`` if the pattern has one."""
    grouped = [re.compile(spec.regex) for spec in specs if f"(?P<{VALUE_GROUP}>" in spec.regex]
    if not grouped:
        return None

    def value_of(match: str) -> str:
        for rx in grouped:
            m = rx.fullmatch(match)
            if m is not None and m.group(VALUE_GROUP) is not None:
                return m.group(VALUE_GROUP)
        return match

    return value_of


def _never_passes(validator: str, specs: Sequence[PatternSpec], where: str) -> list[str]:
    """Warnings for patterns whose validated part is always too short for ``validator``."""
    need = VALIDATOR_MIN_CHARS.get(validator, 0)
    out = []
    for spec in specs:
        longest = _group_width(spec.regex, VALUE_GROUP)[1]
        if longest < need:
            part = f"its group '{VALUE_GROUP}'" if f"(?P<{VALUE_GROUP}>" in spec.regex else "it"
            out.append(
                f"{where}: pattern {spec.name} can never match: validator {validator} needs at least "
                f"{need} characters and {part} matches at most {longest}"
            )
    return out


def parse_custom_rules(
    doc: Any, *, source: str = "<rules>", warnings: list[str] | None = None
) -> list[PatternRecognizer]:
    """Build recognizers from an already-parsed YAML document (``warnings`` as in ``load_custom_rules``)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("recognizers"), list):
        raise InputError("top level must be a mapping with a 'recognizers' list", where=source)
    rules: Sequence[Any] = doc["recognizers"]
    out: list[PatternRecognizer] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        where = f"{source}: recognizers[{i}]"
        if not isinstance(rule, Mapping):
            raise InputError("must be a mapping", where=where)
        extra = sorted(set(rule) - _KEYS)
        if extra:
            raise InputError(f"unknown field(s) {', '.join(map(str, extra))}", where=where)
        name = rule.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InputError("must match [a-z0-9_]{1,64}", where=f"{where}.name")
        if name in seen:
            raise InputError(f"duplicate recognizer name {name}", where=f"{where}.name")
        seen.add(name)
        entity = rule.get("entity")
        if not isinstance(entity, str) or not _ENTITY.fullmatch(entity):
            raise InputError("must be an upper-case name like STAFF_ID", where=f"{where}.entity")
        validator_name = rule.get("validator")
        validator = None
        if validator_name is not None:
            if validator_name not in VALIDATORS:
                known = ", ".join(sorted(VALIDATORS))
                raise InputError(
                    f"unknown validator; known: {known}", where=f"{where}.validator"
                )
            validator = VALIDATORS[validator_name]
        specs = _patterns(rule.get("patterns"), f"{where}.patterns")
        if validator_name is not None and warnings is not None:
            warnings.extend(_never_passes(validator_name, specs, where))
        out.append(
            PatternRecognizer(
                name=f"custom:{name}",
                entity=entity,
                patterns=specs,
                normalise=_value_of(specs) if validator is not None else None,
                validator=validator,
                validator_name=validator_name or "",
                context=_words(rule.get("context", []), f"{where}.context"),
                context_score=_score(rule.get("context_score", 0.9), f"{where}.context_score"),
                min_score=_score(rule.get("min_score", 0.0), f"{where}.min_score"),
            )
        )
    return out
