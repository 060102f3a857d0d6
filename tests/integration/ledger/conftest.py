"""Ledger fixtures: fresh databases of both backends that tests may commit to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import make_backend_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each backend that tests may commit to."""
    yield from make_backend_engine(request.param, tmp_path)
