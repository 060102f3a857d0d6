"""Ledger fixtures: fresh databases of both backends that tests may commit to."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

# The event factory lives beside the unit tests; one copy serves every ledger test folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "ledger"))


def _root_conftest() -> object:
    # The project's tests/conftest.py, loaded by path: "conftest" here would be this very file.
    path = Path(__file__).resolve().parents[2] / "conftest.py"
    spec = importlib.util.spec_from_file_location("piguard_tests_root_conftest", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_backend_engine = _root_conftest().make_backend_engine  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each backend that tests may commit to."""
    yield from make_backend_engine(request.param, tmp_path)
