"""Misuse detection: explained accesses, detectors, scores, alerts, leak tracing, evaluation.

Library form of ``piguard detect``::

    report = detect([Path("events.jsonl")], Path("context/"))
"""

from __future__ import annotations

from piguard.detect.api import EventSource, detect, run_detection
from piguard.detect.pipeline import DetectionRun, Options

__all__ = ["DetectionRun", "EventSource", "Options", "detect", "run_detection"]
