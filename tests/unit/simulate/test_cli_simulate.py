"""``piguard simulate``: exit codes, clear errors, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app

runner = CliRunner()


def test_simulate_writes_a_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "--out", str(out), "--days", "3", "--seed", "9",
                                 "--format", "parquet", "--scenarios", "canary_hit"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "parquet" and manifest["scenarios"] == ["canary_hit"]
    assert (out / "events.parquet").is_file() and (out / "context" / "users.parquet").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary directory left


@pytest.mark.parametrize(("args", "message"), [
    (["--days", "-1"], "days must be between"),
    (["--scenarios", "minhang_broker,unknown"], "unknown scenario"),
    (["--scale", "planet"], "unknown scale"),
    (["--format", "xml"], "unknown format"),
    (["--seed", "-4"], "seed must be"),
])
def test_bad_parameters_exit_2_and_write_nothing(tmp_path: Path, args: list[str],
                                                 message: str) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_non_empty_output_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--days", "1"])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--out", str(blocker / "run"), "--days", "1"])
    assert result.exit_code == 2
    assert "is a file, not a directory" in result.output


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "demo"
    result = runner.invoke(app, ["simulate", "--out", str(out), "--days", "1"])
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file()
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["demo"]  # no partial folder left


def test_interrupted_run_leaves_nothing(tmp_path: Path) -> None:
    from piguard.simulate.engine import simulate

    def interrupt(day: int, events: int) -> None:
        if day == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate(out=tmp_path / "run", days=4, progress=interrupt)
    assert list(tmp_path.iterdir()) == []
