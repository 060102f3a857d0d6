"""A bad setting in the environment is a one-line error naming the variable, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("PIGUARD_MAX_REQUEST_BYTES", "100", "greater than or equal to 1024"),
        ("PIGUARD_TOKEN_LIFETIME_SECONDS", "7200", "less than or equal to 3600"),
        ("PIGUARD_CHECKPOINT_EVERY_ENTRIES", "abc", "valid integer"),
        # A typo must not switch the lockout off (it overflowed the clock arithmetic into 500s).
        ("PIGUARD_LOGIN_LOCKOUT_SECONDS", "999999999999", "less than or equal to 604800"),
        ("PIGUARD_CHECKPOINT_EVERY_ENTRIES", "99999999999", "less than or equal to 1000000"),
        ("PIGUARD_LEDGER_ORIGIN", "my log", "a log name without spaces or '+'"),
    ],
)
@pytest.mark.parametrize("command", [["audit", "pubkey"], ["serve"], ["users", "list"]])
def test_a_bad_setting_names_the_variable_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, rule: str, command: list[str]
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert f"configuration: {variable}: " in result.stderr and rule in result.stderr
    assert "Traceback" not in result.output and "ValidationError" not in result.output
    assert value not in result.stderr.replace(rule, "")  # the value itself is not echoed


def test_a_mistyped_variable_is_named_in_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("PIGUARD_DATABASE_ULR", "postgresql+psycopg://piguard@db/piguard")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "warning: PIGUARD_DATABASE_ULR is not a piguard setting and is ignored (a typo?)" in result.stderr
    assert "piguard@db" not in result.stderr  # the value is not echoed


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://nosuchuser:s3cret@127.0.0.1:1/x", "cannot reach or use it (OperationalError)"),
        ("mysql://a@b/c", "PIGUARD_DATABASE_URL: not a database URL piguard can use"),
        ("garbage", "PIGUARD_DATABASE_URL: not a database URL piguard can use"),
    ],
)
@pytest.mark.parametrize("command", [["init"], ["db", "upgrade"]])
def test_an_unusable_database_is_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, said: str, command: list[str]
) -> None:
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PIGUARD_DATABASE_URL", url)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "Traceback" not in result.output
    assert "s3cret" not in result.output + result.stderr


def test_an_unusable_data_directory_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "a-file" / "data"))
    monkeypatch.delenv("PIGUARD_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 2 and "Not a directory" in result.stderr and "Traceback" not in result.output
