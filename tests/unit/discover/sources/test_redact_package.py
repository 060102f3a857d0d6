"""``piguard.discover.redact`` is a package split by concern; its public names stay where they were."""

from __future__ import annotations

import importlib

import piguard.discover.redact as redact


def test_public_names_import_from_the_package() -> None:
    from piguard.discover.redact import (  # noqa: F401 - the imports are the test
        POLICIES,
        Change,
        Redactor,
        RedactStats,
        distinct_keys,
        mask_value,
        redact_file,
        redact_text,
    )

    assert sorted(redact.__all__) == sorted(
        ["POLICIES", "Change", "RedactStats", "Redactor", "distinct_keys", "mask_value", "redact_file", "redact_text"]
    )
    assert all(getattr(redact, name) is not None for name in redact.__all__)


def test_each_concern_has_its_module() -> None:
    for name, defines in [
        ("policy", "Redactor"),
        ("files", "redact_file"),
        ("text", "redact_text_file"),
        ("delimited", "redact_csv"),
        ("jsonfiles", "redact_jsonl"),
        ("parquet", "redact_parquet"),
        ("values", "PerFinding"),
    ]:
        module = importlib.import_module(f"piguard.discover.redact.{name}")
        assert getattr(module, defines).__module__ == module.__name__
