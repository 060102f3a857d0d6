"""``piguard cases`` with a name or id that does not exist: exit 2 naming the option and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from tests.integration.oversight.test_cases_cli import data_dir as data_dir  # the fixture

runner = CliRunner()
NOBODY = "no.such.person"
REASON = ["--reason", "checking who looked these records up"]


def _bad(args: list[str], option: str, reason: str) -> None:
    result = runner.invoke(app, ["cases", *args])
    assert result.exit_code == 2, result.output
    assert f"{option}: {reason}" in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["list", "--as", "sun.li", "--assignee", NOBODY], "--assignee"),
        (["open", "--as", "sun.li", "--title", "Lookups", "--assignee", NOBODY, *REASON], "--assignee"),
        (
            ["open", "--as", "sun.li", "--title", "Lookups", "--assignee", "sun.li", "--suspect", NOBODY, *REASON],
            "--suspect",
        ),
    ],
)
def test_an_unknown_account_names_the_option(data_dir: Path, args: list[str], option: str) -> None:
    _bad(args, option, "no account with this username or id")


def test_an_unknown_organisation_or_state_names_the_option(data_dir: Path) -> None:
    _bad(["list", "--as", "sun.li", "--org", "01JNOSUCHORGANISATION00000"], "--org", "no organisation with this id")
    opened = ["open", "--as", "sun.li", "--title", "Lookups", "--assignee", "sun.li", *REASON]
    _bad([*opened, "--org", "01JNOSUCHORGANISATION00000"], "--org", "no organisation with this id")
    _bad(["list", "--as", "sun.li", "--state", "pending"], "--state", "unknown state")


def test_handing_a_case_to_an_unknown_account_names_the_option(data_dir: Path) -> None:
    opened = runner.invoke(
        app, ["cases", "open", "--as", "sun.li", "--title", "Lookups", "--assignee", "sun.li", *REASON]
    )
    assert opened.exit_code == 0, opened.output
    case_id = opened.output.split("opened case ")[1].split()[0]
    _bad(["assign", case_id, "--as", "sun.li", "--to", NOBODY, *REASON], "--to", "no account with this username or id")
    # The account's id is accepted as well as its username.
    listed = runner.invoke(app, ["cases", "list", "--as", "sun.li", "--assignee", "sun.li"])
    assert listed.exit_code == 0 and case_id in listed.output, listed.output
