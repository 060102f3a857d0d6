"""Score piguard's PI recognizers on the evaluation sets in ../shared/testdata/pi.

    .venv/bin/python bench/pi_eval.py [--out bench/results/pi_eval.json] [--limit N]

* MSRA NER test (BIO; PER/LOC/ORG): piguard PERSON -> PER, ADDRESS -> LOC (an address is not
  the same notion as MSRA's LOC, which includes bare country names: shown for information),
  against jieba's POS tags (nr* -> PER, ns -> LOC, nt -> ORG), the baseline.
* Resume NER test (BMES; NAME): piguard PERSON vs jieba nr*.
* Presidio synthetic set v2 (English): the entities both systems claim, piguard's Analyzer vs
  Presidio's predefined pattern layer run on the same texts in the same run (own venv).

Entity-level precision/recall/F1 with exact spans ("strict") and with one-to-one overlapping
spans of the same type ("overlap"). These sets are evaluation data only: nothing in piguard is
trained or tuned on them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PI_DATA, run_presidio

from piguard.discover.analyzer import Analyzer

Span = tuple[int, int, str]


def read_tagged(path: Path, *, sep: str | None) -> Iterator[tuple[str, list[Span]]]:
    """Sentences of a char-per-line file with BIO or BMES tags, as (text, gold spans)."""
    chars: list[str] = []
    tags: list[str] = []
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.rstrip("\n")
        if not line.strip():
            if chars:
                yield "".join(chars), decode(tags)
            chars, tags = [], []
            continue
        parts = line.split(sep) if sep else line.split()
        if len(parts) < 2:
            continue
        chars.append(parts[0][:1] or " ")
        tags.append(parts[-1])
    return


def decode(tags: list[str]) -> list[Span]:
    """Spans from BIO or BMES tags."""
    spans: list[Span] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        head, _, typ = tag.partition("-")
        if head in ("B", "S") or head == "O" or (head in ("I", "M", "E") and typ != kind):
            if start >= 0:
                spans.append((start, i, kind))
                start, kind = -1, ""
            if head in ("B", "S") or (head in ("I", "M", "E") and typ):
                start, kind = i, typ
        if head in ("E", "S") and start >= 0:
            spans.append((start, i + 1, kind))
            start, kind = -1, ""
    return spans


class Score:
    """Strict and overlap P/R/F1 counters for one entity type."""

    def __init__(self) -> None:
        self.gold = self.pred = self.tp_strict = self.tp_overlap = 0

    def add(self, gold: Iterable[tuple[int, int]], pred: Iterable[tuple[int, int]]) -> None:
        """Count one document."""
        g, p = sorted(set(gold)), sorted(set(pred))
        self.gold += len(g)
        self.pred += len(p)
        self.tp_strict += len(set(g) & set(p))
        used: set[int] = set()
        for ps, pe in p:
            for k, (gs, ge) in enumerate(g):
                if k not in used and ps < ge and gs < pe:
                    used.add(k)
                    self.tp_overlap += 1
                    break

    def row(self) -> dict[str, float | int]:
        """Precision/recall/F1 (strict and overlap) and counts."""
        out: dict[str, float | int] = {"gold": self.gold, "pred": self.pred}
        for name, tp in (("strict", self.tp_strict), ("overlap", self.tp_overlap)):
            p = tp / self.pred if self.pred else 0.0
            r = tp / self.gold if self.gold else 0.0
            out[f"{name}_p"] = round(p, 4)
            out[f"{name}_r"] = round(r, 4)
            out[f"{name}_f1"] = round(2 * p * r / (p + r), 4) if p + r else 0.0
        return out


def _jieba_spans(text: str) -> list[Span]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    out: list[Span] = []
    pos = 0
    for pair in jieba.posseg.lcut(text):
        kind = {"nr": "PER", "nrfg": "PER", "nrt": "PER", "ns": "LOC", "nt": "ORG"}.get(pair.flag)
        if kind:
            out.append((pos, pos + len(pair.word), kind))
        pos += len(pair.word)
    return out


def eval_chinese(path: Path, *, sep: str | None, mapping: dict[str, str], limit: int | None,
                 gold_types: tuple[str, ...]) -> dict[str, dict[str, dict[str, float | int]]]:
    """piguard and jieba on a Chinese tagged set; per gold type."""
    analyzer = Analyzer(entities=sorted(set(mapping)))
    ours: dict[str, Score] = defaultdict(Score)
    base: dict[str, Score] = defaultdict(Score)
    for n, (text, gold) in enumerate(read_tagged(path, sep=sep)):
        if limit is not None and n >= limit:
            break
        pred = [(f.start, f.end, mapping[f.entity]) for f in analyzer.analyze(text)]
        jb = [(s, e, "NAME" if k == "PER" and "NAME" in gold_types else k)
              for s, e, k in _jieba_spans(text)]
        for typ in gold_types:
            g = [(s, e) for s, e, k in gold if k == typ]
            ours[typ].add(g, [(s, e) for s, e, k in pred if k == typ])
            base[typ].add(g, [(s, e) for s, e, k in jb if k == typ])
    return {
        "piguard": {t: s.row() for t, s in ours.items() if t in mapping.values()},
        "jieba": {t: s.row() for t, s in base.items()},
    }


PRESIDIO_MAP = {  # gold type of the synthetic set -> (piguard entities, Presidio entities)
    "PERSON": ({"PERSON"}, set()),
    "STREET_ADDRESS": ({"ADDRESS"}, set()),
    "CREDIT_CARD": ({"BANK_CARD"}, {"CREDIT_CARD"}),
    "PHONE_NUMBER": ({"PHONE", "CN_MOBILE", "CN_LANDLINE"}, {"PHONE_NUMBER"}),
    "EMAIL_ADDRESS": ({"EMAIL"}, {"EMAIL_ADDRESS"}),
    "IBAN_CODE": ({"IBAN"}, {"IBAN_CODE"}),
    "US_SSN": ({"US_SSN"}, {"US_SSN"}),
    "IP_ADDRESS": ({"IP_ADDRESS"}, {"IP_ADDRESS"}),
    "DOMAIN_NAME": ({"URL"}, {"URL"}),
}


def eval_presidio_synth(limit: int | None, *, with_presidio: bool) -> dict[str, object]:
    """piguard vs Presidio's pattern layer on the English synthetic set."""
    docs = json.loads((PI_DATA / "presidio_synth_dataset_v2.json").read_text(encoding="utf-8"))
    docs = docs[:limit] if limit else docs
    texts = [d["full_text"] for d in docs]
    analyzer = Analyzer()
    ours: dict[str, Score] = defaultdict(Score)
    theirs: dict[str, Score] = defaultdict(Score)
    presidio = run_presidio(texts)["spans"] if with_presidio else None
    for i, doc in enumerate(docs):
        found = analyzer.analyze(texts[i])
        for typ, (our_entities, their_entities) in PRESIDIO_MAP.items():
            gold = [(s["start_position"], s["end_position"]) for s in doc["spans"]
                    if s["entity_type"] == typ]
            ours[typ].add(gold, [(f.start, f.end) for f in found if f.entity in our_entities])
            if presidio is not None and their_entities:
                theirs[typ].add(gold, [(s, e) for s, e, k, _ in presidio[i] if k in their_entities])
    out: dict[str, object] = {"piguard": {t: s.row() for t, s in ours.items()}}
    if presidio is not None:
        out["presidio_pattern_layer"] = {t: s.row() for t, s in theirs.items()}
    return out


def main() -> None:
    """Run every evaluation and print / write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/pi_eval.json"))
    parser.add_argument("--limit", type=int, default=None, help="first N documents per set")
    parser.add_argument("--no-presidio", action="store_true", help="skip the Presidio venv")
    args = parser.parse_args()
    t0 = time.perf_counter()
    results = {
        "msra_test": eval_chinese(PI_DATA / "msra_test_bio.txt", sep="\t", limit=args.limit,
                                  mapping={"PERSON": "PER", "ADDRESS": "LOC"},
                                  gold_types=("PER", "LOC", "ORG")),
        "resume_test": eval_chinese(PI_DATA / "resume_test.txt", sep=" ", limit=args.limit,
                                    mapping={"PERSON": "NAME"}, gold_types=("NAME",)),
        "presidio_synth_v2": eval_presidio_synth(args.limit, with_presidio=not args.no_presidio),
        "seconds": 0.0,
    }
    results["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
