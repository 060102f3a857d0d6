"""Runs INSIDE the Presidio benchmark venv (never imported by piguard).

Presidio's predefined pattern layer (no spaCy NER: the model cannot be installed here and is
not part of the pattern layer): reads ``{"texts": [...], "repeat": n}`` JSON on stdin, writes
``{"spans": [[[start, end, entity, score], ...], ...], "seconds": wall, "cpu_seconds": cpu,
"calib_seconds": c}``.
"""

from __future__ import annotations

import json
import re
import sys
import time

from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)


def calibrate(texts: list[str]) -> float:
    """Time one plain email-regex pass (the same one piguard's harness times)."""
    rx = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    t = time.perf_counter()
    for text in texts:
        rx.findall(text)
    return time.perf_counter() - t


def main() -> None:
    """Analyse the texts with each recognizer; time the whole layer."""
    req = json.load(sys.stdin)
    texts: list[str] = req["texts"]
    recognizers = [
        CreditCardRecognizer(), EmailRecognizer(), IbanRecognizer(), IpRecognizer(),
        PhoneRecognizer(), UrlRecognizer(), UsSsnRecognizer(),
    ]
    spans: list[list[list[object]]] = []
    for text in texts[:200]:  # warm-up, as piguard's harness does
        for rec in recognizers:
            rec.analyze(text, rec.supported_entities, None)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(int(req.get("repeat", 1))):
        spans = []
        for text in texts:
            found: list[list[object]] = []
            for rec in recognizers:
                for r in rec.analyze(text, rec.supported_entities, None):
                    found.append([r.start, r.end, r.entity_type, r.score])
            spans.append(found)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    json.dump(
        {"spans": spans, "seconds": seconds, "cpu_seconds": cpu_seconds,
         "calib_seconds": calibrate(texts)},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
