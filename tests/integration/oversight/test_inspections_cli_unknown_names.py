"""``piguard inspections`` with a name or id that does not exist: exit 2 naming the option and the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from tests.integration.oversight.test_inspections_cli import site as site  # the fixture

runner = CliRunner()
NOBODY = "no.such.person"
NO_ORG = "01JNOSUCHORGANISATION00000"


def _recommend(site: dict[str, str], **options: str) -> list[str]:
    deadline = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    values = {
        "--ref": "闵检建〔2025〕9号",
        "--authority": "闵行区人民检察院",
        "--issued-on": datetime.now(UTC).date().isoformat(),
        "--text": "Restrict cross-hospital queries",
        "--owner": site["hosp"],
        "--responsible": "chen.jie",
        "--deadline": deadline,
        "--evidence": "Role configuration export",
        **options,
    }
    return ["recommend", "--as", "sun.li", *[part for pair in values.items() for part in pair]]


def _bad(args: list[str], option: str, reason: str) -> None:
    result = runner.invoke(app, ["inspections", *args])
    assert result.exit_code == 2, result.output
    assert f"{option}: {reason}" in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("options", "option", "reason"),
    [
        ({"--responsible": NOBODY}, "--responsible", "no account with this username or id"),
        ({"--owner": NO_ORG}, "--owner", "no organisation with this id"),
        ({"--org": NO_ORG}, "--org", "no organisation with this id"),
        ({"--deadline": "next week"}, "--deadline", "give YYYY-MM-DD"),
    ],
)
def test_recommend_names_the_option(site: dict[str, str], options: dict[str, str], option: str, reason: str) -> None:
    _bad(_recommend(site, **options), option, reason)


def test_lists_and_draws_name_the_option(site: dict[str, str]) -> None:
    _bad(["items", "--as", "sun.li", "--responsible", NOBODY], "--responsible", "no account with this username or id")
    _bad(["items", "--as", "sun.li", "--owner", NO_ORG], "--owner", "no organisation with this id")
    _bad(["items", "--as", "sun.li", "--status", "late"], "--status", "unknown status")
    _bad(["overdue", "--as", "sun.li", "--escalated-to", NO_ORG], "--escalated-to", "no organisation with this id")
    _bad(["spot-check", "--as", "sun.li", "--org", NO_ORG, "--size", "2"], "--org", "no organisation with this id")
    day = "someday"
    _bad(
        ["reinspect", "01JNOSUCHCHECK000000000000", "--as", "sun.li", "--on", day, "--reason", "x" * 12],
        "--on",
        "give the date",
    )
    # A known username, and a known account id, are accepted.
    by_name = runner.invoke(app, ["inspections", "items", "--as", "sun.li", "--responsible", "chen.jie"])
    by_id = runner.invoke(app, ["inspections", "items", "--as", "sun.li", "--responsible", site["chen.jie"]])
    assert by_name.exit_code == 0 and by_id.exit_code == 0, by_name.output + by_id.output
