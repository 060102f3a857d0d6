"""The rules text people attest to ("I have read the rules for handling the deceased's data")."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from piguard.oversight.training.schemas import RulesText

RULES_VERSION = "2026-1"


@cache
def rules_text() -> RulesText:
    """The packaged rules text, with its version and SHA-256."""
    raw = resources.files("piguard.oversight.training").joinpath("rules.txt").read_bytes()
    return RulesText(version=RULES_VERSION, sha256=hashlib.sha256(raw).hexdigest(), text=raw.decode("utf-8"))
