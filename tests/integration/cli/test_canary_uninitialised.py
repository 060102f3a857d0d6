"""Canary and export commands on a data directory never initialised: one line, exit 2, nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from tests.conftest import private_database_url

COMMANDS = [
    ["canary", "list"],
    ["canary", "list", "--json"],
    ["canary", "plant", "--count", "1"],
    ["export", "context", "--out", "{tmp}/ctx"],
    ["export", "handles", "--out", "{tmp}/handles.csv"],
]


def _run(command: list[str], tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, [part.format(tmp=tmp_path) for part in command], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_missing_sqlite_database_is_one_line_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    data = tmp_path / "x"
    code, out = _run(command, tmp_path, {"PIGUARD_DATA_DIR": str(data)})
    assert code == 2, out
    assert out.strip().splitlines() == [
        f"error: database {(data / 'piguard.db').resolve()} does not exist: run 'piguard init'"
    ]
    assert not data.exists()  # neither the database file nor its directory
    assert not (tmp_path / "ctx").exists() and not (tmp_path / "handles.csv").exists()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_empty_database_names_piguard_init(tmp_path: Path, backend: str, command: list[str]) -> None:
    for url in private_database_url(backend, tmp_path, prefix="canary_uninit"):
        if backend == "sqlite":
            (tmp_path / "data").mkdir()
            (tmp_path / "data" / "piguard.db").touch()  # an empty file: SQLite's empty database
        code, out = _run(command, tmp_path, {"PIGUARD_DATA_DIR": str(tmp_path / "data"), "PIGUARD_DATABASE_URL": url})
        assert code == 2, out
        assert "Traceback" not in out and len(out.strip().splitlines()) == 1
        assert "the database is empty (no piguard tables): run 'piguard init'" in out
